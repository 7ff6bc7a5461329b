/**
 * Cheap reads of run directories for the explorer: what a run is and whether
 * it is live, from config.json, summary.json and the first and last lines of
 * events.jsonl — never the whole log (the engine's run reader does the
 * reading). A run's problems and samples come from its shared run index
 * (runsModel.ts), built only when they are asked for. No `vscode` import.
 */
import * as path from 'node:path';
import type { RunSummary } from '../../engine/contract';
import { safeLine } from '../../shared/safeText';
import { EVENTS_FILE, mtimeMs, readRunConfig, readRunEdges, readRunSummary, SUMMARY_FILE } from '../../engine/run/runReader';

export { isRunDir, listRunDirs } from '../../engine/run/runReader';

export type RunStatus = 'running' | 'completed' | 'failed' | 'cancelled' | 'interrupted' | 'unknown';

export interface RunInfo {
  dir: string;
  name: string;
  runId: string | null;
  kind: 'eval' | 'train' | 'rm_train' | null;
  status: RunStatus;
  /** Not ended and its event log was written recently (or an eval of this window is running it). */
  live: boolean;
  task: string | null;
  split: string | null;
  /** "reference", "planner model", "groups: file.jsonl", "traces: file.jsonl". */
  traceSource: string | null;
  /** Absolute path of the traces / groups file the run read, when it read one. */
  traceFile: string | null;
  /** SHA-256 of that file's bytes when the run started (runs since it was recorded). */
  traceFileSha256: string | null;
  summary: RunSummary | null;
  /** Problems the config asked for (limit), when it says. */
  limit: number | null;
  /** Last write to events.jsonl or summary.json (ms since epoch). */
  updatedMs: number;
  /** Problems reading this run's files (bad summary, unreadable config…). */
  issues: string[];
}

/** A run that has not ended and whose log was written within this window counts as live. */
export const LIVE_WINDOW_MS = 5 * 60_000;

function describeTraceSource(source: unknown): { text: string | null; file: string | null; sha256: string | null } {
  const s = source as { kind?: string; path?: string; format?: string; sha256?: unknown; endpoint?: { model?: string } } | undefined;
  if (!s?.kind) return { text: null, file: null, sha256: null };
  if (s.kind === 'reference') return { text: 'reference', file: null, sha256: null };
  if (s.kind === 'planner') return { text: `planner ${s.endpoint?.model ?? ''}`.trim(), file: null, sha256: null };
  if (s.kind === 'file' && s.path) {
    const sha256 = typeof s.sha256 === 'string' && /^[0-9a-f]{64}$/.test(s.sha256) ? s.sha256 : null;
    return { text: `${s.format ?? 'traces'}: ${path.basename(s.path)}`, file: s.path, sha256 };
  }
  return { text: s.kind, file: null, sha256: null };
}

/** What a run directory holds and whether it is live. `activeDirs` are runs this process is writing. */
export function scanRun(dir: string, opts: { now?: number; liveWindowMs?: number; activeDirs?: ReadonlySet<string> } = {}): RunInfo {
  const now = opts.now ?? Date.now();
  const issues: string[] = [];
  const { summary, issue: summaryIssue } = readRunSummary(dir);
  if (summaryIssue) issues.push(summaryIssue);
  const { config, issue: configIssue } = readRunConfig(dir);
  if (configIssue) issues.push(configIssue);
  const { first, last, hasLastLine } = readRunEdges(dir);
  const updatedMs = Math.max(mtimeMs(path.join(dir, EVENTS_FILE)), mtimeMs(path.join(dir, SUMMARY_FILE)));

  let status: RunStatus;
  if (last?.type === 'run_ended') status = last.status;
  else if (hasLastLine) status = 'running';
  else status = summary?.status ?? 'unknown';
  const active = opts.activeDirs?.has(path.resolve(dir)) ?? false;
  const recent = now - updatedMs < (opts.liveWindowMs ?? LIVE_WINDOW_MS);
  const live = active || (status === 'running' && recent);
  if (status === 'running' && !live) status = 'interrupted';

  const started = first?.type === 'run_started' ? first : null;
  const runKind = started ? started.run_kind : config && 'trace_source' in config ? 'eval' : null;
  const source = describeTraceSource(config?.trace_source);
  return {
    dir,
    name: path.basename(dir),
    runId: started?.run_id ?? summary?.run_id ?? null,
    kind: runKind === 'eval' || runKind === 'train' || runKind === 'rm_train' ? runKind : null,
    status,
    live,
    task: typeof config?.task === 'string' ? config.task : (summary?.tasks[0]?.task ?? null),
    split: typeof config?.split === 'string' ? config.split : null,
    traceSource: source.text,
    traceFile: source.file,
    traceFileSha256: source.sha256,
    summary,
    limit: typeof config?.limit === 'number' ? config.limit : null,
    updatedMs,
    issues,
  };
}

/** "Measure Uplift" origins (which groups file, by content hash, and record a run measured): measuredUplift.ts. */
export { ORIGIN_FILE, readOrigin, type RunOrigin } from './measuredUplift';

/** "+0.333" / "−0.250" / "n/a". */
export function signed(x: number | null | undefined, digits = 3): string {
  if (x === null || x === undefined || Number.isNaN(x)) return 'n/a';
  return `${x >= 0 ? '+' : '−'}${Math.abs(x).toFixed(digits)}`;
}

export function pct(x: number | null | undefined): string {
  return x === null || x === undefined ? 'n/a' : `${(100 * x).toFixed(0)}%`;
}

/** One line describing a run: "completed · 50 problems · uplift +0.031 · with 42% vs 38%". */
export function describeRun(r: RunInfo): string {
  const parts: string[] = [r.live ? 'live' : r.status];
  const s = r.summary;
  if (s) {
    const total = r.limit ? `/${r.limit}` : '';
    parts.push(`${s.micro.problems}${r.live ? total : ''} problems`);
    if (s.mean_uplift !== null) parts.push(`uplift ${signed(s.mean_uplift)}`);
    if (s.with_trace_success !== null) parts.push(`with ${pct(s.with_trace_success)} vs ${pct(s.no_trace_success)}`);
  }
  if (r.task) parts.push(safeLine(r.task, 40)); // from the run's config: untrusted
  return parts.join(' · ');
}
