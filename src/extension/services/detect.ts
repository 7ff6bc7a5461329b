/**
 * Classifies a JSON / JSON Lines file by its schema — not by its name — so
 * the explorer, the annotations and the eval command agree on what a file is:
 * TraceLift-Groups records, a traces file, run samples / events, verifier
 * results, a run summary or config, or a benchmark file in its published
 * format. Counting is tolerant: malformed lines are counted and named (line
 * and field), and a cut last line (a writer mid-append) is reported apart.
 * No `vscode` import: unit-tested under test/unit/extensionDetect.test.ts.
 */
import { z } from 'zod';
import {
  EvalConfigSchema,
  GroupRecordSchema,
  RunEventSchema,
  RunSummarySchema,
  TraceRecordSchema,
  TraceSampleRowSchema,
} from '../../engine/contract';
import { groupTraceCount, isGroupRecordLike } from '../../engine/groups';
import { HumanEvalRowSchema } from '../../engine/tasks/code/humaneval';
import { describeZodError } from '../../engine/util/jsonl';
import { parsePythonJson } from '../../engine/verify/code/pyjson';

export type DataKind = 'groups' | 'traces' | 'samples' | 'events' | 'verifyResults' | 'benchmark' | 'summary' | 'runConfig' | 'unknown';

type Obj = Record<string, unknown>;

/** How one kind of record is recognised (signature: cheap key test) and validated (schema: the field-level check). */
export interface RecordSpec {
  kind: DataKind;
  /** Benchmark task the rows belong to (the engine's task name where it has one). */
  task: string | null;
  label: string;
  signature(v: Obj): boolean;
  schema: z.ZodType;
  /** Traces one valid record holds. */
  traces?(v: Obj): number;
  /** Problem id of a record, for distinct-problem counts. */
  problemId?(v: Obj): string | null;
}

const has = (v: Obj, ...keys: string[]) => keys.every((k) => k in v);
const str = (x: unknown): string | null => (typeof x === 'string' ? x : typeof x === 'number' ? String(x) : null);
const arrLen = (x: unknown) => (Array.isArray(x) ? x.length : 0);

const EVENT_TYPES = new Set(['run_started', 'rollout_group', 'step_metrics', 'checkpoint', 'error', 'run_ended']);

export const VerifyResultSchema = z.union([
  z.object({ id: z.union([z.string(), z.number()]), correct: z.boolean(), extracted: z.string().nullable().optional() }),
  z.object({
    id: z.union([z.string(), z.number()]),
    passed: z.boolean(),
    status: z.string(),
    tests_passed: z.number().int().nullable().optional(),
    tests_total: z.number().int().nullable().optional(),
  }),
]);

// Published benchmark rows. The task modules keep their row schemas private;
// these mirror the fields they read (the loaders stay the authority).
const Gsm8kRow = z.object({ question: z.string(), answer: z.string().regex(/####\s*\S/, 'must end with "#### <number>"') });
const GsmHardRow = z.object({ input: z.string(), target: z.number() });
const Math500Row = z.object({ problem: z.string(), solution: z.string(), answer: z.string(), unique_id: z.string() });
const SvampRow = z.object({ ID: z.string(), Body: z.string(), Question: z.string(), Equation: z.string(), Answer: z.number() });
const MbppRow = z
  .object({ task_id: z.number(), code: z.string(), test_list: z.array(z.string()) })
  .and(z.union([z.object({ text: z.string() }), z.object({ prompt: z.string() })]));
const EvalPlusRow = z.object({
  task_id: z.string(),
  prompt: z.string(),
  entry_point: z.string(),
  canonical_solution: z.string(),
  base_input: z.array(z.unknown()),
});
const LiveCodeBenchRow = z.object({ question_id: z.string(), question_content: z.string(), public_test_cases: z.unknown() });

const oneTrace = () => 1;

export const RECORD_SPECS: readonly RecordSpec[] = [
  {
    kind: 'events',
    task: null,
    label: 'run events',
    signature: (v) => typeof v.type === 'string' && EVENT_TYPES.has(v.type) && 'time' in v,
    schema: RunEventSchema,
    traces: (v) => (v.type === 'rollout_group' ? arrLen(v.samples) : 0),
    problemId: (v) => (v.type === 'rollout_group' ? str(v.problem_id) : null),
  },
  {
    kind: 'samples',
    task: null,
    label: 'run samples',
    signature: (v) => has(v, 'sample_id', 'problem_id') && ('with_trace_successes' in v || 'baseline_rate' in v),
    schema: TraceSampleRowSchema,
    traces: oneTrace,
    problemId: (v) => str(v.problem_id),
  },
  {
    kind: 'groups',
    task: null,
    label: 'TraceLift-Groups',
    signature: isGroupRecordLike,
    schema: GroupRecordSchema,
    traces: groupTraceCount,
    problemId: (v) => str(v.problem_id),
  },
  {
    kind: 'traces',
    task: null,
    label: 'traces',
    signature: (v) => has(v, 'problem_id', 'trace'),
    schema: TraceRecordSchema,
    traces: oneTrace,
    problemId: (v) => str(v.problem_id),
  },
  {
    kind: 'verifyResults',
    task: null,
    label: 'verifier results',
    signature: (v) => 'id' in v && (has(v, 'correct') || has(v, 'passed', 'status')),
    schema: VerifyResultSchema,
  },
  { kind: 'benchmark', task: 'gsm8k', label: 'GSM8K', signature: (v) => has(v, 'question', 'answer'), schema: Gsm8kRow },
  { kind: 'benchmark', task: 'gsm_hard', label: 'GSM-Hard', signature: (v) => has(v, 'input', 'target'), schema: GsmHardRow },
  {
    kind: 'benchmark',
    task: 'math500',
    label: 'MATH500',
    signature: (v) => has(v, 'problem', 'solution', 'answer'),
    schema: Math500Row,
  },
  { kind: 'benchmark', task: 'svamp', label: 'SVAMP', signature: (v) => has(v, 'Body', 'Question', 'Equation'), schema: SvampRow },
  {
    kind: 'benchmark',
    task: 'humanevalplus',
    label: 'HumanEval+',
    signature: (v) => has(v, 'task_id', 'base_input', 'entry_point') && String(v.task_id).startsWith('HumanEval/'),
    schema: EvalPlusRow,
  },
  {
    kind: 'benchmark',
    task: 'mbppplus',
    label: 'MBPP+',
    signature: (v) => has(v, 'task_id', 'base_input', 'entry_point') && String(v.task_id).startsWith('Mbpp/'),
    schema: EvalPlusRow,
  },
  {
    kind: 'benchmark',
    task: 'humaneval',
    label: 'HumanEval',
    signature: (v) => has(v, 'task_id', 'prompt', 'entry_point', 'canonical_solution', 'test'),
    schema: HumanEvalRowSchema,
  },
  { kind: 'benchmark', task: 'mbpp', label: 'MBPP', signature: (v) => has(v, 'task_id', 'code', 'test_list'), schema: MbppRow },
  {
    kind: 'benchmark',
    task: 'livecodebench',
    label: 'LiveCodeBench',
    signature: (v) => has(v, 'question_id', 'question_content'),
    schema: LiveCodeBenchRow,
  },
];

/** Whole-file JSON objects (not record lists). */
const OBJECT_SPECS: readonly RecordSpec[] = [
  { kind: 'summary', task: null, label: 'run summary', signature: (v) => has(v, 'run_id', 'micro', 'tasks'), schema: RunSummarySchema },
  {
    kind: 'runConfig',
    task: null,
    label: 'run config',
    signature: (v) => has(v, 'task', 'trace_source', 'executor'),
    schema: EvalConfigSchema,
  },
];

export interface LineIssue {
  /** 1-based line number (JSONL), or null for a whole JSON file. */
  line: number | null;
  /** Item index inside a JSON list, when the file is one. */
  item?: number;
  message: string;
}

export interface Detection {
  kind: DataKind;
  /** Human label: "TraceLift-Groups", "GSM8K", "run samples"… */
  label: string;
  task: string | null;
  format: 'jsonl' | 'json';
  /** Records that passed the kind's schema. */
  records: number;
  /** Traces held (groups: positives + perturbations; traces / samples: one per row; events: samples of rollout groups). */
  traces: number | null;
  /** Distinct problem ids (where records name one). */
  problems: number | null;
  /** Lines that are not JSON or fail the schema; the first few are listed. */
  malformedCount: number;
  malformed: LineIssue[];
  /** The last line has no newline and is not valid JSON: a writer is likely mid-append. */
  truncatedTail: boolean;
  /** Counting stopped early (file larger than the reader's cap): counts are lower bounds. */
  capped: boolean;
  /** Distinct `source` fields of groups records (the dataset they were built from), first few. */
  sources: string[];
}

export interface DetectOptions {
  /** How many issues to list (all are counted). */
  maxIssues?: number;
  /** Set when `text` is a prefix of a larger file. */
  capped?: boolean;
}

function unknownDetection(format: 'jsonl' | 'json', capped: boolean): Detection {
  return {
    kind: 'unknown',
    label: 'unrecognised JSON',
    task: null,
    format,
    records: 0,
    traces: null,
    problems: null,
    malformedCount: 0,
    malformed: [],
    truncatedTail: false,
    capped,
    sources: [],
  };
}

/** JSON.parse, then (for EvalPlus files with NaN / Infinity) the Python-style parser. */
function parseRecord(raw: string): { value: unknown } | { error: string } {
  try {
    return { value: JSON.parse(raw) };
  } catch (err) {
    try {
      parsePythonJson(raw);
      return { value: PYTHONIC };
    } catch {
      return { error: `invalid JSON (${(err as Error).message})` };
    }
  }
}

/** Marker for a line only the Python-style parser reads: counted as a record, not validated. */
const PYTHONIC = Symbol('pythonic');

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The spec most of the first records match (ties: the more specific, earlier spec). */
export function voteSpec(values: unknown[], specs: readonly RecordSpec[] = RECORD_SPECS): RecordSpec | null {
  const votes = new Map<RecordSpec, number>();
  for (const v of values) {
    if (!isObj(v)) continue;
    const spec = specs.find((s) => s.signature(v));
    if (spec) votes.set(spec, (votes.get(spec) ?? 0) + 1);
  }
  let best: RecordSpec | null = null;
  let bestVotes = 0;
  for (const spec of specs) {
    const n = votes.get(spec) ?? 0;
    if (n > bestVotes) {
      best = spec;
      bestVotes = n;
    }
  }
  return best;
}

/** The spec of a single record (first match), for per-line work such as annotations. */
export function specOf(value: unknown): RecordSpec | null {
  return isObj(value) ? (RECORD_SPECS.find((s) => s.signature(value)) ?? null) : null;
}

export function specForKind(kind: DataKind): RecordSpec | null {
  return RECORD_SPECS.find((s) => s.kind === kind) ?? null;
}

class Tally {
  records = 0;
  traces = 0;
  problems = new Set<string>();
  sources = new Set<string>();
  malformedCount = 0;
  malformed: LineIssue[] = [];
  constructor(
    readonly spec: RecordSpec,
    private readonly maxIssues: number,
  ) {}

  issue(issue: LineIssue): void {
    this.malformedCount++;
    if (this.malformed.length < this.maxIssues) this.malformed.push(issue);
  }

  add(value: unknown, where: { line: number | null; item?: number }): void {
    if (value === PYTHONIC) {
      this.records++;
      return;
    }
    const parsed = this.spec.schema.safeParse(value);
    if (!parsed.success) {
      this.issue({ ...where, message: describeZodError(parsed.error) });
      return;
    }
    const v = value as Obj;
    this.records++;
    this.traces += this.spec.traces?.(v) ?? 0;
    const id = this.spec.problemId?.(v);
    if (id) this.problems.add(id);
    if (this.spec.kind === 'groups' && typeof v.source === 'string' && this.sources.size < 5) this.sources.add(v.source);
  }

  result(format: 'jsonl' | 'json', truncatedTail: boolean, capped: boolean): Detection {
    const withTraces = this.spec.traces !== undefined;
    return {
      kind: this.spec.kind,
      label: this.spec.label,
      task: this.spec.task,
      format,
      records: this.records,
      traces: withTraces ? this.traces : null,
      problems: this.spec.problemId ? this.problems.size : this.spec.kind === 'benchmark' ? this.records : null,
      malformedCount: this.malformedCount,
      malformed: this.malformed,
      truncatedTail,
      capped,
      sources: [...this.sources],
    };
  }
}

const VOTE_SAMPLE = 50;

/** Classifies and counts JSON Lines text. */
export function detectJsonl(text: string, opts: DetectOptions = {}): Detection {
  const maxIssues = opts.maxIssues ?? 20;
  const lines = text.split('\n');
  const endsWithNewline = text.endsWith('\n');
  const head: unknown[] = [];
  for (const raw of lines) {
    if (head.length >= VOTE_SAMPLE) break;
    const t = raw.trim();
    if (!t) continue;
    const r = parseRecord(t);
    if ('value' in r) head.push(r.value);
  }
  const spec = voteSpec(head);
  if (!spec) return unknownDetection('jsonl', opts.capped ?? false);
  const tally = new Tally(spec, maxIssues);
  let truncatedTail = false;
  for (let i = 0; i < lines.length; i++) {
    const t = lines[i]!.trim();
    if (!t) continue;
    const r = parseRecord(t);
    if ('error' in r) {
      if (i === lines.length - 1 && !endsWithNewline) truncatedTail = true;
      else tally.issue({ line: i + 1, message: r.error });
      continue;
    }
    if (!isObj(r.value) && r.value !== PYTHONIC) {
      tally.issue({ line: i + 1, message: 'expected a JSON object' });
      continue;
    }
    tally.add(r.value, { line: i + 1 });
  }
  return tally.result('jsonl', truncatedTail, opts.capped ?? false);
}

/** Classifies a whole-file JSON value: a list of records, or a summary / config object. */
export function detectJsonValue(value: unknown, opts: DetectOptions = {}): Detection {
  const capped = opts.capped ?? false;
  if (Array.isArray(value)) {
    const spec = voteSpec(value.slice(0, VOTE_SAMPLE));
    if (!spec) return unknownDetection('json', capped);
    const tally = new Tally(spec, opts.maxIssues ?? 20);
    value.forEach((v, item) =>
      isObj(v) ? tally.add(v, { line: null, item }) : tally.issue({ line: null, item, message: 'expected a JSON object' }),
    );
    return tally.result('json', false, capped);
  }
  if (!isObj(value)) return unknownDetection('json', capped);
  const spec = OBJECT_SPECS.find((s) => s.signature(value)) ?? specOf(value);
  if (!spec) return unknownDetection('json', capped);
  const tally = new Tally(spec, opts.maxIssues ?? 20);
  tally.add(value, { line: null });
  return tally.result('json', false, capped);
}

/**
 * Classifies file text. `.json` files are read as one JSON value (a list of
 * records or an object) and fall back to JSON Lines; everything else is read
 * as JSON Lines.
 */
export function detectText(text: string, fileName: string, opts: DetectOptions = {}): Detection {
  if (/\.json$/i.test(fileName) && !opts.capped) {
    try {
      return detectJsonValue(JSON.parse(text), opts);
    } catch {
      // Not one JSON value: perhaps JSON Lines under a .json name.
    }
  }
  return detectJsonl(text, opts);
}

/** "12 records · 48 traces · 2 malformed" — the explorer's description of a file. */
export function describeCounts(d: Detection): string {
  if (d.kind === 'unknown') return 'not recognised';
  const plus = d.capped ? '+' : '';
  const parts: string[] = [];
  const unit = d.kind === 'benchmark' ? 'problems' : d.kind === 'events' ? 'events' : 'records';
  if (d.kind === 'summary' || d.kind === 'runConfig') parts.push(d.label);
  else parts.push(`${d.records}${plus} ${unit}`);
  if (d.traces !== null && d.kind !== 'traces' && d.kind !== 'samples') parts.push(`${d.traces}${plus} traces`);
  if (d.malformedCount) parts.push(`${d.malformedCount} malformed`);
  if (d.truncatedTail) parts.push('last line incomplete');
  return parts.join(' · ');
}
