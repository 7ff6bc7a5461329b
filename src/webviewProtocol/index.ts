/**
 * The message protocol between the extension host and the TraceLift webviews,
 * defined once as zod schemas and validated on both sides (the host validates
 * what a webview sends, a webview validates what the host sends).
 *
 * A small JSON-RPC style bridge:
 *   { kind: "request",  id, method, params }           webview → host, answered
 *   { kind: "response", id, ok, result? , error? }      host → webview
 *   { kind: "notify",   method, params }                either way, no answer
 *
 * Handshake: a webview (re)loads, restores its UI state with getState(), and
 * sends `ready` with that state. The host answers with `init` (what the panel
 * shows, which the webview persists with setState so a reload can restore it)
 * and replays the current data. Nothing is pushed before `ready`.
 *
 * This module imports nothing but zod and the engine's contract (pure zod), so
 * the webview bundles include it as-is. See docs/webviews.md.
 */
import { z } from 'zod';
import { BaselineSchema, TraceSampleSchema } from '../engine/contract/events';

export const PROTOCOL_VERSION = 1;

// ---------------------------------------------------------------- envelope

export const RequestMessageSchema = z.object({
  kind: z.literal('request'),
  id: z.number().int().nonnegative(),
  method: z.string().min(1).max(64),
  params: z.unknown(),
});
export const ResponseMessageSchema = z.object({
  kind: z.literal('response'),
  id: z.number().int().nonnegative(),
  ok: z.boolean(),
  result: z.unknown().optional(),
  error: z.string().optional(),
});
export const NotifyMessageSchema = z.object({
  kind: z.literal('notify'),
  method: z.string().min(1).max(64),
  params: z.unknown(),
});
export const EnvelopeSchema = z.discriminatedUnion('kind', [RequestMessageSchema, ResponseMessageSchema, NotifyMessageSchema]);
export type Envelope = z.infer<typeof EnvelopeSchema>;
export type RequestMessage = z.infer<typeof RequestMessageSchema>;
export type ResponseMessage = z.infer<typeof ResponseMessageSchema>;
export type NotifyMessage = z.infer<typeof NotifyMessageSchema>;

export interface MethodSpec<P extends z.ZodType = z.ZodType, R extends z.ZodType = z.ZodType> {
  params: P;
  result: R;
}
/** One view's protocol: requests the webview makes, and notifications each way. */
export interface ViewProtocol {
  requests: Record<string, MethodSpec>;
  toHost: Record<string, z.ZodType>;
  toWebview: Record<string, z.ZodType>;
}
export type RequestName<S extends ViewProtocol> = keyof S['requests'] & string;
export type RequestParams<S extends ViewProtocol, M extends RequestName<S>> = z.output<S['requests'][M]['params']>;
export type RequestParamsIn<S extends ViewProtocol, M extends RequestName<S>> = z.input<S['requests'][M]['params']>;
export type RequestResult<S extends ViewProtocol, M extends RequestName<S>> = z.output<S['requests'][M]['result']>;
export type RequestResultIn<S extends ViewProtocol, M extends RequestName<S>> = z.input<S['requests'][M]['result']>;
export type ToHostName<S extends ViewProtocol> = keyof S['toHost'] & string;
export type ToWebviewName<S extends ViewProtocol> = keyof S['toWebview'] & string;

/** "field.path: message" for the first issues of a zod error (both sides use it). */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .slice(0, 4)
    .map((i) => `${i.path.length ? i.path.map(String).join('.') : '(message)'}: ${i.message}`)
    .join('; ');
}

// ---------------------------------------------------------------- shared pieces

export const ReadySchema = z.object({
  protocol: z.number().int(),
  /** What the webview restored with getState(); the host only reads what it needs, after validating it. */
  state: z.unknown().optional(),
});
export const StatusSchema = z.object({
  level: z.enum(['info', 'warning', 'error']),
  /** Plain text; rendered with textContent. */
  message: z.string(),
});
export type StatusMessage = z.infer<typeof StatusSchema>;
const Ack = z.null();
const Num = z.number().nullable();

/** Two traces to compare, as `openTraceDiff` takes them. */
export const TraceTextSchema = z.object({
  title: z.string().max(500),
  text: z.string(),
  meta: z.record(z.string(), z.union([z.string(), z.number(), z.null()])).optional(),
});

// ---------------------------------------------------------------- run view

export const UpliftSignSchema = z.enum(['any', 'positive', 'negative', 'zero', 'unknown']);
export const SuccessFilterSchema = z.enum(['any', 'success', 'failure']);
export const RunFilterSchema = z.object({
  /** Task name, or null for all tasks. */
  task: z.string().max(200).nullable().default(null),
  upliftSign: UpliftSignSchema.default('any'),
  upliftMin: z.number().min(-1).max(1).nullable().default(null),
  upliftMax: z.number().min(-1).max(1).nullable().default(null),
  /** success: e2e ≥ 0.5 (or the with-trace rate ≥ 0.5 when e2e is unknown). */
  success: SuccessFilterSchema.default('any'),
  /** Only samples with errors or failed executor calls. */
  errorsOnly: z.boolean().default(false),
  /** Only samples of this training step (null: every step). */
  step: z.number().int().min(0).nullable().default(null),
  /** Only negatives whose uplift is above their group's reference ("negative beats reference"). */
  beatsOnly: z.boolean().default(false),
  /** A JavaScript regular expression searched in the full trace text ('' = no search). */
  search: z.string().max(1000).default(''),
  caseSensitive: z.boolean().default(false),
});
export type RunFilter = z.infer<typeof RunFilterSchema>;
/** delta: Δ vs the group's reference. */
export const SortKeySchema = z.enum(['arrival', 'uplift', 'reward', 'rm', 'baseline', 'withRate', 'delta']);
export const RunSortSchema = z.object({
  key: SortKeySchema.default('arrival'),
  dir: z.enum(['asc', 'desc']).default('desc'),
});
export type RunSort = z.infer<typeof RunSortSchema>;
export const RunQuerySchema = z.object({
  filter: RunFilterSchema.default(RunFilterSchema.parse({})),
  sort: RunSortSchema.default(RunSortSchema.parse({})),
});
export type RunQuery = z.infer<typeof RunQuerySchema>;

export const WindowParamsSchema = z.object({
  query: RunQuerySchema,
  offset: z.number().int().min(0),
  count: z.number().int().min(0).max(500),
  /**
   * The row the user is looking at and its position in the list when asked:
   * when rows arrive above it, the host answers its new position so the
   * webview keeps it in place.
   */
  anchor: z
    .object({ rowId: z.number().int().min(0), index: z.number().int().min(0) })
    .nullable()
    .default(null),
  /** Keep the start ('top') or end ('bottom') of the list in view as rows arrive. */
  follow: z.enum(['none', 'top', 'bottom']).default('none'),
});
export type WindowParams = z.infer<typeof WindowParamsSchema>;

/** One compact sample row (what the host keeps per sample; the full group stays on disk). */
export const RowSchema = z.object({
  rowId: z.number().int().min(0),
  /** Line of the group's rollout_group event in events.jsonl (1-based). */
  line: z.number().int().min(1),
  groupIndex: z.number().int(),
  step: z.number().int().nullable(),
  task: z.string(),
  problemId: z.string(),
  sampleId: z.string(),
  source: z.string(),
  label: z.string().nullable(),
  preview: z.string(),
  /** with-trace successes (k) over valid attempts (K), requested, failed calls. */
  k: z.number().int(),
  K: z.number().int(),
  failed: z.number().int(),
  withRate: Num,
  baselineSuccesses: z.number().int(),
  baselineValid: z.number().int(),
  baselineRate: Num,
  uplift: Num,
  /** uplift − the group's reference uplift (mean over its reference traces); null without a reference. */
  delta: Num,
  reward: Num,
  e2e: Num,
  rm: Num,
  /**
   * Flags: "errors" (sample.errors), "failed-calls", "timeout", "no-reward", "baseline-failed",
   * "hidden-text", "beats-reference" (a negative above its reference), "superseded".
   */
  flags: z.array(z.string()),
  errorCount: z.number().int(),
});
export type Row = z.infer<typeof RowSchema>;

export const SearchStateSchema = z.object({
  /** timeout: the pattern took too long on some trace; the rows matched before it stopped are listed. */
  state: z.enum(['none', 'scanning', 'done', 'invalid', 'timeout']),
  message: z.string().nullable(),
  /** Rows whose full trace has been searched, of all rows. */
  scanned: z.number().int(),
  total: z.number().int(),
});
export type SearchState = z.infer<typeof SearchStateSchema>;

export const WindowResultSchema = z.object({
  /** Increases whenever the run's rows change. */
  version: z.number().int(),
  /** Rows matching the query. */
  total: z.number().int(),
  offset: z.number().int(),
  rows: z.array(RowSchema),
  /** New position of the anchor row, or null when it is not (or no longer) in the list. */
  anchorIndex: z.number().int().nullable(),
  follow: z.enum(['none', 'top', 'bottom']),
  search: SearchStateSchema,
  /** The query this answers (so a late answer to an older query can be recognised). */
  queryKey: z.string(),
});
export type WindowResult = z.infer<typeof WindowResultSchema>;

export const RunStatusSchema = z.enum(['missing', 'waiting', 'running', 'completed', 'failed', 'cancelled']);
export type RunStatus = z.infer<typeof RunStatusSchema>;

export const SummaryFiguresSchema = z.object({
  groups: z.number().int(),
  traces: z.number().int(),
  withTraceSuccess: Num,
  noTraceSuccess: Num,
  meanUplift: Num,
  meanReward: Num,
  positiveUplift: z.number().int(),
  negativeUplift: z.number().int(),
  failedCalls: z.number().int(),
});
export type SummaryFigures = z.infer<typeof SummaryFiguresSchema>;

/** A mean with its sample sd, standard error and Student-t 95 % interval (nulls when n is too small). */
export const MeanIntervalSchema = z.object({ n: z.number().int(), mean: Num, sd: Num, se: Num, lo: Num, hi: Num });
export type MeanIntervalMsg = z.infer<typeof MeanIntervalSchema>;

/** The run's means with their uncertainty (over traces; the baseline over groups). */
export const SummaryIntervalsSchema = z.object({
  withTraceSuccess: MeanIntervalSchema,
  noTraceSuccess: MeanIntervalSchema,
  uplift: MeanIntervalSchema,
  reward: MeanIntervalSchema,
});

/** Per trace kind (negative_kind, "reference", or the source: planner, file…). */
export const KindRowSchema = z.object({
  kind: z.string(),
  n: z.number().int(),
  uplift: MeanIntervalSchema,
  reward: MeanIntervalSchema,
  /** Δ vs the group's reference. */
  delta: MeanIntervalSchema,
  /** Traces of this kind above their reference. */
  beats: z.number().int(),
});
export type KindRow = z.infer<typeof KindRowSchema>;

/** Training steps pooled into at most 200 buckets [from, to] (one step each on short runs). */
export const StepPointSchema = z.object({
  from: z.number().int(),
  to: z.number().int(),
  groups: z.number().int(),
  traces: z.number().int(),
  reward: MeanIntervalSchema,
  uplift: MeanIntervalSchema,
  withRate: MeanIntervalSchema,
  /** The trainer's step_metrics (loss, kl, learning_rate, time_*_s…), mean over the bucket's steps. */
  metrics: z.record(z.string(), z.number()),
});
export type StepPoint = z.infer<typeof StepPointSchema>;
export const TrainingStateSchema = z.object({
  steps: z.array(StepPointSchema),
  checkpoints: z.array(z.object({ step: z.number().int(), path: z.string() })),
  checkpointCount: z.number().int(),
});
export type TrainingState = z.infer<typeof TrainingStateSchema>;

export const IssueSchema = z.object({ line: z.number().int(), message: z.string() });
export const RunErrorInfoSchema = z.object({
  time: z.string(),
  message: z.string(),
  where: z.string().nullable(),
  problemId: z.string().nullable(),
  fatal: z.boolean(),
});

export const RunStateSchema = z.object({
  runDir: z.string(),
  runId: z.string().nullable(),
  runKind: z.string().nullable(),
  status: RunStatusSchema,
  /** Why the run ended, or why it cannot be read (missing directory…). */
  statusMessage: z.string().nullable(),
  version: z.number().int(),
  bytesRead: z.number(),
  /** Bytes after the last complete line (a writer mid-append, or a cut last line). */
  pendingBytes: z.number(),
  summary: SummaryFiguresSchema,
  tasks: z.array(z.object({ task: z.string(), figures: SummaryFiguresSchema })),
  /** Uplift histogram: `bins` counts over [-1, 1] in equal widths; `unknown` = null uplifts. */
  histogram: z.object({ bins: z.array(z.number().int()), unknown: z.number().int() }),
  /** Mean reward per bucket of arrivals (x = group ordinal or training step). */
  rewardSeries: z.object({
    xLabel: z.string(),
    points: z.array(z.object({ x: z.number(), y: z.number(), n: z.number().int() })),
  }),
  issues: z.object({ count: z.number().int(), recent: z.array(IssueSchema) }),
  errors: z.object({ count: z.number().int(), recent: z.array(RunErrorInfoSchema) }),
  lastStep: z.number().int().nullable(),
  intervals: SummaryIntervalsSchema,
  /** Per trace kind, most traces first. */
  kinds: z.array(KindRowSchema),
  /** Negatives above their reference, and traces in groups that have a reference. */
  reference: z.object({ beats: z.number().int(), withReference: z.number().int() }),
  /** Groups listed in the group table (superseded groups left out). */
  liveGroups: z.number().int(),
  /** True for a training run (or any run whose groups carry steps): its curves come in `training` notifications. */
  isTraining: z.boolean(),
});
export type RunState = z.infer<typeof RunStateSchema>;

// ---- group table (run view): one row per group, expandable to its traces

export const GroupSortKeySchema = z.enum(['arrival', 'delta', 'reference', 'uplift', 'reward', 'beats']);
export const GroupQuerySchema = z.object({
  filter: z
    .object({
      task: z.string().max(200).nullable().default(null),
      step: z.number().int().min(0).nullable().default(null),
      beatsOnly: z.boolean().default(false),
      errorsOnly: z.boolean().default(false),
    })
    .default({ task: null, step: null, beatsOnly: false, errorsOnly: false }),
  sort: z
    .object({ key: GroupSortKeySchema.default('arrival'), dir: z.enum(['asc', 'desc']).default('desc') })
    .default({ key: 'arrival', dir: 'desc' }),
});
export type GroupQueryMsg = z.infer<typeof GroupQuerySchema>;

export const GroupRowSchema = z.object({
  group: z.number().int().min(0),
  line: z.number().int().min(1),
  step: z.number().int().nullable(),
  task: z.string(),
  problemId: z.string(),
  samples: z.number().int(),
  references: z.number().int(),
  negatives: z.number().int(),
  baselineSuccesses: z.number().int(),
  baselineValid: z.number().int(),
  baselineRate: Num,
  /** Σk / ΣK over the group's traces. */
  k: z.number().int(),
  K: z.number().int(),
  refUplift: Num,
  meanUplift: Num,
  meanReward: Num,
  bestUplift: Num,
  /** The best trace's negative_kind or label (or its source). */
  bestLabel: z.string().nullable(),
  bestIsNegative: z.boolean(),
  /** Largest Δ vs the reference among the negatives. */
  maxNegativeDelta: Num,
  beats: z.number().int(),
  errorCount: z.number().int(),
  flags: z.array(z.string()),
});
export type GroupRow = z.infer<typeof GroupRowSchema>;

/** A group, or one trace of an expanded group; `key`: groups 2·group+1, traces 2·rowId (the list's keys and anchors). */
export const GroupItemSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('group'), key: z.number().int().min(0), expanded: z.boolean(), group: GroupRowSchema }),
  z.object({ kind: z.literal('sample'), key: z.number().int().min(0), group: z.number().int().min(0), row: RowSchema }),
]);
export type GroupItem = z.infer<typeof GroupItemSchema>;

export const GroupWindowParamsSchema = z.object({
  query: GroupQuerySchema,
  /** Expanded groups (ordinals), at most 200. */
  expanded: z.array(z.number().int().min(0)).max(200).default([]),
  offset: z.number().int().min(0),
  count: z.number().int().min(0).max(500),
  anchor: z
    .object({ rowId: z.number().int().min(0), index: z.number().int().min(0) })
    .nullable()
    .default(null),
  follow: z.enum(['none', 'top', 'bottom']).default('none'),
});
export type GroupWindowParams = z.infer<typeof GroupWindowParamsSchema>;
export const GroupWindowResultSchema = z.object({
  version: z.number().int(),
  /** Items of the flat list (groups plus the traces of expanded groups). */
  total: z.number().int(),
  /** Groups matching the query. */
  groups: z.number().int(),
  offset: z.number().int(),
  rows: z.array(GroupItemSchema),
  anchorIndex: z.number().int().nullable(),
  follow: z.enum(['none', 'top', 'bottom']),
  queryKey: z.string(),
});
export type GroupWindowResult = z.infer<typeof GroupWindowResultSchema>;

export const RunViewRestoreSchema = z.object({ runDir: z.string().min(1) });
export type RunViewRestore = z.infer<typeof RunViewRestoreSchema>;

export const runViewProtocol = {
  requests: {
    window: { params: WindowParamsSchema, result: WindowResultSchema },
    openInspector: { params: z.object({ rowId: z.number().int().min(0) }), result: Ack },
    /** Opens the trace diff of two rows (any two samples of the run). */
    diffRows: { params: z.object({ left: z.number().int().min(0), right: z.number().int().min(0) }), result: Ack },
    /** A window of the group table. */
    groupWindow: { params: GroupWindowParamsSchema, result: GroupWindowResultSchema },
  },
  toHost: { ready: ReadySchema },
  toWebview: {
    init: z.object({ restore: RunViewRestoreSchema, title: z.string() }),
    runState: RunStateSchema,
    /** The window last asked for, recomputed after the run changed. */
    window: WindowResultSchema,
    /** The group-table window last asked for, recomputed after the run changed. */
    groupWindow: GroupWindowResultSchema,
    /** A training run's per-step curves (at most one a second: the charts need no more). */
    training: TrainingStateSchema,
    status: StatusSchema,
  },
} satisfies ViewProtocol;
export type RunViewProtocol = typeof runViewProtocol;

// ---------------------------------------------------------------- inspector

export const InspectorRestoreSchema = z.object({
  runDir: z.string().min(1),
  problemId: z.string(),
  sampleId: z.string(),
  /** Disambiguates a sample id that recurs (training steps): the group's events.jsonl line. */
  line: z.number().int().min(1).nullable().default(null),
});
export type InspectorRestore = z.infer<typeof InspectorRestoreSchema>;

export const SiblingSchema = z.object({
  sampleId: z.string(),
  source: z.string(),
  label: z.string().nullable(),
  k: z.number().int(),
  K: z.number().int(),
  uplift: Num,
  reward: Num,
});

export const InspectorDataSchema = z.object({
  runDir: z.string(),
  line: z.number().int(),
  groupIndex: z.number().int(),
  step: z.number().int().nullable(),
  time: z.string(),
  task: z.string(),
  taskKind: z.string(),
  problemId: z.string(),
  problem: z.string(),
  reference: z.string().nullable(),
  baseline: BaselineSchema,
  sample: TraceSampleSchema,
  siblings: z.array(SiblingSchema),
  /** The trace's gold rubric (0–4 per dimension, total) when the run scored a groups file that is unchanged since. */
  goldRubric: z.record(z.string(), z.number()).nullable().optional(),
});
export type InspectorData = z.infer<typeof InspectorDataSchema>;

export const inspectorProtocol = {
  requests: {
    /** Shows another sample of the same run in this inspector. */
    openSample: {
      params: z.object({ problemId: z.string(), sampleId: z.string(), line: z.number().int().min(1).nullable() }),
      result: Ack,
    },
    /** Diffs this sample's trace against a sibling's (same group). */
    diffWithSibling: { params: z.object({ sampleId: z.string() }), result: Ack },
    /** Opens two texts of this sample (e.g. an output with vs without the trace) in the VS Code diff editor. */
    openInDiffEditor: { params: z.object({ left: TraceTextSchema, right: TraceTextSchema }), result: Ack },
    openRunView: { params: z.object({}), result: Ack },
  },
  toHost: { ready: ReadySchema },
  toWebview: {
    init: z.object({ restore: InspectorRestoreSchema, title: z.string() }),
    sample: InspectorDataSchema,
    status: StatusSchema,
  },
} satisfies ViewProtocol;
export type InspectorProtocol = typeof inspectorProtocol;

// ---------------------------------------------------------------- trace diff

export const DiffSegmentSchema = z.object({ op: z.enum(['eq', 'ins', 'del']), text: z.string() });
export type DiffSegment = z.infer<typeof DiffSegmentSchema>;
/** What a run measured for one trace: with-trace k/K, baseline b/M, uplift with its 95 % interval, reward. */
export const MeasuredTraceSchema = z.object({
  /** The run (directory name) it comes from. */
  run: z.string(),
  sampleId: z.string().nullable(),
  /** With-trace successes over valid attempts; null when unknown. */
  k: z.number().int().nullable(),
  K: z.number().int().nullable(),
  withRate: Num,
  /** No-trace baseline successes over valid attempts (M). */
  baselineSuccesses: z.number().int().nullable(),
  baselineValid: z.number().int().nullable(),
  baselineRate: Num,
  uplift: Num,
  /** Newcombe (Wilson score) 95 % interval of the uplift, a difference of two proportions; null without both tallies. */
  upliftLo: Num,
  upliftHi: Num,
  reward: Num,
});
export type MeasuredTrace = z.infer<typeof MeasuredTraceSchema>;
export const DiffSideSchema = z.object({
  title: z.string(),
  meta: z.record(z.string(), z.union([z.string(), z.number(), z.null()])),
  /** The trace's measured uplift and reward, when a run measured it. */
  measured: MeasuredTraceSchema.nullable().optional(),
});
export const DiffPairSchema = z.object({
  left: DiffSideSchema,
  right: DiffSideSchema,
  /** For a TraceLift-Groups negative: its negative_kind (or "positive" for extra positives). */
  kind: z.string().nullable(),
  /** Rubric dimensions (0–4) of the right-hand trace, and its total in [0, 1]. */
  rubric: z.array(z.object({ name: z.string(), value: z.number() })),
  rubricTotal: Num,
  granularity: z.enum(['word', 'line']),
  /** eq + del spell the left text; eq + ins spell the right text. */
  segments: z.array(DiffSegmentSchema),
  stats: z.object({ equal: z.number().int(), inserted: z.number().int(), deleted: z.number().int() }),
  /** Which side is the reference trace (positive_pool[0], or a run's reference/positive sample); null when neither. */
  reference: z.enum(['left', 'right']).nullable().optional(),
  /** The perturbed (negative) side's measured uplift is above the reference's. */
  negativeBeatsReference: z.boolean().optional(),
});
export type DiffPair = z.infer<typeof DiffPairSchema>;
export const DiffViewSchema = z.object({
  title: z.string(),
  /** Plain-text description (file and record, problem id…). */
  subtitle: z.string(),
  problem: z.string().nullable(),
  pairs: z.array(DiffPairSchema),
});
export type DiffViewData = z.infer<typeof DiffViewSchema>;

export const TraceDiffRestoreSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('pair'), left: TraceTextSchema, right: TraceTextSchema }),
  z.object({ mode: z.literal('groups'), groupsFile: z.string().min(1), recordIndex: z.number().int().min(0) }),
]);
export type TraceDiffRestore = z.infer<typeof TraceDiffRestoreSchema>;

export const traceDiffProtocol = {
  requests: {
    openInDiffEditor: { params: z.object({ pair: z.number().int().min(0) }), result: Ack },
  },
  toHost: { ready: ReadySchema },
  toWebview: {
    init: z.object({ restore: TraceDiffRestoreSchema, title: z.string() }),
    diff: DiffViewSchema,
    status: StatusSchema,
  },
} satisfies ViewProtocol;
export type TraceDiffProtocol = typeof traceDiffProtocol;

// ---------------------------------------------------------------- compare runs

export const CompareQuerySchema = z.object({
  task: z.string().nullable().default(null),
  presence: z.enum(['all', 'both', 'onlyA', 'onlyB']).default('both'),
  sort: z.enum(['deltaUplift', 'deltaSuccess', 'absDeltaUplift', 'absDeltaSuccess', 'problem']).default('absDeltaUplift'),
  dir: z.enum(['asc', 'desc']).default('desc'),
});
export type CompareQuery = z.infer<typeof CompareQuerySchema>;
export const CompareSideSchema = z.object({
  traces: z.number().int(),
  /** Mean with-trace success rate over the problem's traces. */
  success: Num,
  baseline: Num,
  uplift: Num,
  reward: Num,
});
export type CompareSide = z.infer<typeof CompareSideSchema>;
export const CompareRowSchema = z.object({
  key: z.string(),
  task: z.string(),
  problemId: z.string(),
  a: CompareSideSchema.nullable(),
  b: CompareSideSchema.nullable(),
  deltaSuccess: Num,
  deltaUplift: Num,
});
export type CompareRow = z.infer<typeof CompareRowSchema>;
export const CompareWindowParamsSchema = z.object({
  query: CompareQuerySchema,
  offset: z.number().int().min(0),
  count: z.number().int().min(0).max(500),
});
export const CompareWindowResultSchema = z.object({
  version: z.number().int(),
  total: z.number().int(),
  offset: z.number().int(),
  rows: z.array(CompareRowSchema),
  queryKey: z.string(),
});
export type CompareWindowResult = z.infer<typeof CompareWindowResultSchema>;
export const CompareRunInfoSchema = z.object({
  runDir: z.string(),
  runId: z.string().nullable(),
  status: RunStatusSchema,
  statusMessage: z.string().nullable(),
  summary: SummaryFiguresSchema,
  issues: z.number().int(),
});
/** One setting that differs between the two runs, as shown (values in one line). */
export const ConfigDifferenceInfoSchema = z.object({
  /** Dotted config path, e.g. "k", "executor.model". */
  field: z.string(),
  label: z.string(),
  a: z.string(),
  b: z.string(),
  /** meaning: changes what the numbers mean (K, M, executor, protocol…); design: what the comparison varies (trace source). */
  kind: z.enum(['meaning', 'design']),
});
export type ConfigDifferenceInfo = z.infer<typeof ConfigDifferenceInfoSchema>;
export const ConfigCheckSchema = z.object({
  differences: z.array(ConfigDifferenceInfoSchema),
  /** A run whose config.json cannot be read or is not an eval config ("Run A: no config.json"). */
  unreadable: z.array(z.string()),
});
export type ConfigCheck = z.infer<typeof ConfigCheckSchema>;
/** Mean of B − A over the problems both runs have, with its Student-t 95 % interval (paired by problem). */
export const PairedDeltaSchema = z.object({
  n: z.number().int(),
  meanA: Num,
  meanB: Num,
  mean: Num,
  sd: Num,
  se: Num,
  lo: Num,
  hi: Num,
});
export type PairedDelta = z.infer<typeof PairedDeltaSchema>;
export const CompareStateSchema = z.object({
  version: z.number().int(),
  a: CompareRunInfoSchema,
  b: CompareRunInfoSchema,
  tasks: z.array(z.string()),
  counts: z.object({ both: z.number().int(), onlyA: z.number().int(), onlyB: z.number().int() }),
  /** Mean over problems in both runs of the deltas (B − A). */
  meanDeltaSuccess: Num,
  meanDeltaUplift: Num,
  /** Settings that differ between the runs (config.json of each). */
  config: ConfigCheckSchema.optional(),
  /** The deltas' means with their intervals, paired over the shared problems. */
  paired: z.object({ uplift: PairedDeltaSchema, success: PairedDeltaSchema }).optional(),
});
export type CompareState = z.infer<typeof CompareStateSchema>;
export const CompareRestoreSchema = z.object({ runA: z.string().min(1), runB: z.string().min(1) });
export type CompareRestore = z.infer<typeof CompareRestoreSchema>;

export const compareProtocol = {
  requests: {
    window: { params: CompareWindowParamsSchema, result: CompareWindowResultSchema },
    openInspectorFor: {
      params: z.object({ side: z.enum(['a', 'b']), task: z.string(), problemId: z.string() }),
      result: Ack,
    },
  },
  toHost: { ready: ReadySchema },
  toWebview: {
    init: z.object({ restore: CompareRestoreSchema, title: z.string() }),
    compareState: CompareStateSchema,
    window: CompareWindowResultSchema,
    status: StatusSchema,
  },
} satisfies ViewProtocol;
export type CompareProtocol = typeof compareProtocol;

// ---------------------------------------------------------------- view types

export const VIEW_TYPES = {
  runView: 'tracelift.runView',
  inspector: 'tracelift.inspector',
  traceDiff: 'tracelift.traceDiff',
  compareRuns: 'tracelift.compareRuns',
} as const;

/** What every webview persists with setState: what to reopen, plus its own UI state. */
export const PersistedStateSchema = z.object({
  restore: z.unknown(),
  ui: z.unknown().optional(),
});
