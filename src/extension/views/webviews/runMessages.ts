/**
 * The webview messages made from a run index: the index keeps its own types
 * (rows, figures, search progress, per-problem deltas); the controllers send
 * what the protocol (src/webviewProtocol) defines, built here field by field
 * so a change on either side is a type error here, not a silent mismatch.
 */
import type { SummaryRow } from '../../../engine/contract';
import { summaryRow, type SummaryAcc } from '../../../engine/run/summary';
import type { CompareQuery, CompareRow, CompareSide, Row, RunQuery, RunState, SearchState, SummaryFigures } from '../../../webviewProtocol';
import type { DeltaOrder, ProblemDelta, ProblemFigures } from '../../services/runs/compare';
import type { RunIndex } from '../../services/runs/runIndex';
import type { RowQuery } from '../../services/runs/runQueries';
import type { RunRow } from '../../services/runs/runRows';
import type { SearchProgress } from '../../services/runs/runSearch';

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
