/**
 * The webview messages made from a run index: the index keeps its own types
 * (rows, figures, search progress, per-problem deltas); the controllers send
 * what the protocol (src/webviewProtocol) defines, built here field by field
 * so a change on either side is a type error here, not a silent mismatch.
 */
import type { SummaryRow } from '../../../engine/contract';
import { summaryRow, type SummaryAcc } from '../../../engine/run/summary';
import type {
  CompareQuery,
  CompareRow,
  CompareSide,
  GroupQueryMsg,
  GroupRow,
  KindRow,
  MeanIntervalMsg,
  Row,
  RunQuery,
  RunState,
  SearchState,
  StepPoint,
  SummaryFigures,
  TrainingState,
} from '../../../webviewProtocol';
import type { DeltaOrder, ProblemDelta, ProblemFigures } from '../../services/runs/compare';
import type { GroupQuery } from '../../services/runs/groupQueries';
import type { RunIndex } from '../../services/runs/runIndex';
import type { RowQuery } from '../../services/runs/runQueries';
import type { GroupInfo, RunRow } from '../../services/runs/runRows';
import type { SearchProgress } from '../../services/runs/runSearch';
import type { KindAgg, RunSignals, StepBucket } from '../../services/runs/runSignals';
import { meanInterval, type MeanInterval } from '../../services/runs/stats';

export function figuresMessage(r: Omit<SummaryRow, 'task'>): SummaryFigures {
  return {
    groups: r.problems,
    traces: r.traces,
    withTraceSuccess: r.with_trace_success,
    noTraceSuccess: r.no_trace_success,
    meanUplift: r.mean_uplift,
    meanReward: r.mean_reward,
    positiveUplift: r.positive_uplift_traces,
    negativeUplift: r.negative_uplift_traces,
    failedCalls: r.failed_calls,
  };
}

const accFigures = (a: SummaryAcc): SummaryFigures => figuresMessage(summaryRow(a));

export function rowMessage(r: RunRow): Row {
  return {
    rowId: r.rowId,
    line: r.line,
    groupIndex: r.groupIndex,
    step: r.step,
    task: r.task,
    problemId: r.problemId,
    sampleId: r.sampleId,
    source: r.source,
    label: r.label,
    preview: r.preview,
    k: r.k,
    K: r.K,
    failed: r.failed,
    withRate: r.withRate,
    baselineSuccesses: r.baselineSuccesses,
    baselineValid: r.baselineValid,
    baselineRate: r.baselineRate,
    uplift: r.uplift,
    delta: r.delta,
    reward: r.reward,
    e2e: r.e2e,
    rm: r.rm,
    flags: r.flags,
    errorCount: r.errorCount,
  };
}

export function rowQuery(q: RunQuery): RowQuery {
  const f = q.filter;
  return {
    filter: {
      task: f.task,
      upliftSign: f.upliftSign,
      upliftMin: f.upliftMin,
      upliftMax: f.upliftMax,
      success: f.success,
      errorsOnly: f.errorsOnly,
      step: f.step,
      beatsOnly: f.beatsOnly,
      search: f.search,
      caseSensitive: f.caseSensitive,
    },
    sort: { key: q.sort.key, dir: q.sort.dir },
  };
}

export function searchMessage(p: SearchProgress): SearchState {
  return { state: p.state, message: p.message, scanned: p.scanned, total: p.total };
}

/** The run view's `runState`: status, summary, per-task figures, histogram, reward series, issues. */
export function runStateMessage(idx: RunIndex): RunState {
  const agg = idx.aggregates;
  return {
    runDir: idx.runDir,
    runId: idx.runId,
    runKind: idx.runKind,
    status: idx.status,
    statusMessage: idx.statusMessage(),
    version: idx.version,
    bytesRead: idx.offset,
    pendingBytes: idx.pendingBytes,
    summary: accFigures(agg.micro),
    tasks: [...agg.byTask.entries()].map(([task, a]) => ({ task, figures: accFigures(a) })),
    histogram: { bins: [...agg.histogram], unknown: agg.histogramUnknown },
    rewardSeries: { xLabel: agg.seriesByStep ? 'step' : 'group', points: agg.series.points() },
    issues: { count: idx.issueCount, recent: idx.recentIssues.map((i) => ({ line: i.line, message: i.message })) },
    errors: { count: idx.errorCount, recent: idx.recentErrors.map((e) => ({ ...e })) },
    lastStep: idx.lastStep,
    intervals: {
      withTraceSuccess: intervalMessage(meanInterval(idx.signals.withRate)),
      noTraceSuccess: intervalMessage(meanInterval(idx.signals.baseline)),
      uplift: intervalMessage(meanInterval(idx.signals.uplift)),
      reward: intervalMessage(meanInterval(idx.signals.reward)),
    },
    kinds: [...idx.signals.kinds.values()]
      .filter((k) => k.n > 0)
      .sort((a, b) => b.n - a.n || (a.kind < b.kind ? -1 : 1))
      .map(kindMessage),
    reference: { beats: idx.signals.beats, withReference: idx.signals.withReference },
    liveGroups: idx.liveGroupCount,
    isTraining: isTrainingRun(idx),
  };
}

/** A training run, or any run whose groups carry steps. */
export function isTrainingRun(idx: RunIndex): boolean {
  return idx.runKind === 'train' || idx.aggregates.seriesByStep || idx.signals.steps.size > 0;
}

export function intervalMessage(m: MeanInterval): MeanIntervalMsg {
  return { n: m.n, mean: m.mean, sd: m.sd, se: m.se, lo: m.lo, hi: m.hi };
}

export function kindMessage(k: KindAgg): KindRow {
  return {
    kind: k.kind,
    n: k.n,
    uplift: intervalMessage(meanInterval(k.uplift)),
    reward: intervalMessage(meanInterval(k.reward)),
    delta: intervalMessage(meanInterval(k.delta)),
    beats: k.beats,
  };
}

function stepMessage(b: StepBucket): StepPoint {
  return {
    from: b.from,
    to: b.to,
    groups: b.groups,
    traces: b.traces,
    reward: intervalMessage(b.reward),
    uplift: intervalMessage(b.uplift),
    withRate: intervalMessage(b.withRate),
    metrics: { ...b.metrics },
  };
}

/** The per-step curves of a training run. */
export function trainingMessage(s: RunSignals): TrainingState {
  return {
    steps: s.stepBuckets().map(stepMessage),
    checkpoints: s.checkpoints.slice(-200).map((c) => ({ step: c.step, path: c.path })),
    checkpointCount: s.checkpointCount,
  };
}

export function groupQuery(q: GroupQueryMsg): GroupQuery {
  return {
    filter: { task: q.filter.task, step: q.filter.step, beatsOnly: q.filter.beatsOnly, errorsOnly: q.filter.errorsOnly },
    sort: { key: q.sort.key, dir: q.sort.dir },
  };
}

export function groupRowMessage(g: GroupInfo): GroupRow {
  return {
    group: g.group,
    line: g.line,
    step: g.step,
    task: g.task,
    problemId: g.problemId,
    samples: g.samples,
    references: g.references,
    negatives: g.negatives,
    baselineSuccesses: g.baselineSuccesses,
    baselineValid: g.baselineValid,
    baselineRate: g.baselineRate,
    k: g.k,
    K: g.K,
    refUplift: g.refUplift,
    meanUplift: g.meanUplift,
    meanReward: g.meanReward,
    bestUplift: g.bestUplift,
    bestLabel: g.bestLabel,
    bestIsNegative: g.bestIsNegative,
    maxNegativeDelta: g.maxNegativeDelta,
    beats: g.beats,
    errorCount: g.errorCount,
    flags: g.flags,
  };
}

export function deltaOrder(q: CompareQuery): DeltaOrder {
  return { task: q.task, presence: q.presence, sort: q.sort, dir: q.dir };
}

const sideMessage = (f: ProblemFigures | null): CompareSide | null =>
  f && { traces: f.traces, success: f.success, baseline: f.baseline, uplift: f.uplift, reward: f.reward };

export function compareRowMessage(d: ProblemDelta): CompareRow {
  return {
    key: d.key,
    task: d.task,
    problemId: d.problemId,
    a: sideMessage(d.a),
    b: sideMessage(d.b),
    deltaSuccess: d.deltaSuccess,
    deltaUplift: d.deltaUplift,
  };
}
