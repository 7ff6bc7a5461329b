/**
 * Whether an eval may continue a run directory: only with a configuration
 * that gives the same results. A resume with another K, M, executor, reward
 * mode, task, split, trace source, protocol, prompt version… would mix two
 * experiments in one run, so it is refused with the differing fields named.
 *
 * Compared: every field of the config (new fields included, by default),
 * except those that only say which slice to run or how to reach or pace an
 * endpoint: offset and limit (a resume may widen the window), data_dir and
 * cache_dir (locations; cached baselines are keyed by what they hold), an
 * endpoint's timeout, retries, breaker threshold, concurrency, n-sampling and
 * API key variable, and the embedded executor's URL (a random port per start).
 */
import * as fs from 'node:fs';
import { EvalConfigSchema, type EvalConfig } from '../contract';
import { describeZodError } from '../util/jsonl';

const WINDOW_AND_PLACES = new Set(['offset', 'limit', 'data_dir', 'cache_dir']);
/** Endpoint fields that change how calls are made, not what they return. */
const ENDPOINT_PACING = new Set(['timeout_ms', 'max_retries', 'down_after_failures', 'concurrency', 'n_sampling', 'api_key_env']);

export interface ConfigDifference {
  /** Dotted path, e.g. "k", "reward.mode", "executor.model". */
  field: string;
  before: unknown;
  after: unknown;
}

function ignored(pathParts: string[], before: EvalConfig, after: EvalConfig): boolean {
  const [head] = pathParts;
  const leaf = pathParts[pathParts.length - 1]!;
  if (pathParts.length === 1 && WINDOW_AND_PLACES.has(head!)) return true;
  const inEndpoint =
    head === 'executor' || (head === 'trace_source' && pathParts[1] === 'endpoint') || (head === 'reward' && pathParts[1] === 'judge');
  if (inEndpoint && pathParts.length === (head === 'executor' ? 2 : 3) && ENDPOINT_PACING.has(leaf)) return true;
  if (head === 'executor' && leaf === 'base_url' && before.executor_origin === 'embedded' && after.executor_origin === 'embedded')
    return true;
  // The embedded server planning too (--traces planner without a URL): the planner's URL is the executor's random port.
  const plansOnExecutor = (c: EvalConfig) =>
    c.executor_origin === 'embedded' && c.trace_source.kind === 'planner' && c.trace_source.endpoint.base_url === c.executor.base_url;
  if (head === 'trace_source' && pathParts[1] === 'endpoint' && leaf === 'base_url' && plansOnExecutor(before) && plansOnExecutor(after))
    return true;
  // Runs written before the trace file's hash was recorded resume as before.
  if (
    head === 'trace_source' &&
    leaf === 'sha256' &&
    pathParts.length === 2 &&
    before.trace_source.kind === 'file' &&
    !before.trace_source.sha256
  )
    return true;
  return false;
}

/** The fields whose change would change results, with their values in each config. */
export function configDifferences(before: EvalConfig, after: EvalConfig): ConfigDifference[] {
  const out: ConfigDifference[] = [];
  const walk = (a: unknown, b: unknown, at: string[]) => {
    if (at.length && ignored(at, before, after)) return;
    const plain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
    if (plain(a) && plain(b)) {
      for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) walk(a[key], b[key], [...at, key]);
      return;
    }
    if (JSON.stringify(a) !== JSON.stringify(b)) out.push({ field: at.join('.'), before: a, after: b });
  };
  walk(before, after, []);
  return out;
}

/** A resume refused because the run directory holds another configuration. */
export class ConfigMismatchError extends Error {
  override name = 'ConfigMismatchError';
  constructor(
    readonly runDir: string,
    readonly differences: ConfigDifference[],
  ) {
    const shown = (v: unknown) => {
      const s = JSON.stringify(v) ?? 'unset';
      return s.length > 80 ? `${s.slice(0, 77)}…` : s;
    };
    const lines = differences.map((d) => `  ${d.field}: ${shown(d.before)} in the run, ${shown(d.after)} now`);
    super(
      `${runDir} holds a run with another configuration; continuing it would mix two experiments:\n${lines.join('\n')}\n` +
        `Run with the run's settings to resume it, choose another directory (--out), or start a fresh run next to it (--new-run).`,
    );
  }
}

/**
 * The config a run directory was started with, or null when it has none.
 * An unreadable config.json is an error: the run cannot be checked.
 */
export function readStoredConfig(file: string): EvalConfig | null {
  if (!fs.existsSync(file)) return null;
  let value: unknown;
  try {
    value = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: not JSON (${(err as Error).message}); the run cannot be resumed: choose another --out`, { cause: err });
  }
  const parsed = EvalConfigSchema.safeParse(value);
  if (!parsed.success) throw new Error(`${file}: not an eval config (${describeZodError(parsed.error)}); choose another --out`);
  return parsed.data;
}

/** `dir` when it holds no run yet, else the first of `dir-2`, `dir-3`… that does not exist. */
export function freshRunDir(dir: string, holdsRun: (d: string) => boolean): string {
  if (!holdsRun(dir)) return dir;
  for (let i = 2; ; i++) {
    const candidate = `${dir.replace(/[\\/]+$/, '')}-${i}`;
    if (!fs.existsSync(candidate)) return candidate;
  }
}
