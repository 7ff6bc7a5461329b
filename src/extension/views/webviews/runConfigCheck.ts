/**
 * Whether two runs can be compared number for number: the settings of run B
 * that differ from run A's, from their config.json files, with the engine's
 * own notion of "a setting that changes results" (engine/run/configDiff.ts,
 * the same check that refuses to resume a run with another configuration).
 * Differences in K, M, the executor (model, endpoint, origin), sampling,
 * protocol, prompt version, reward, task or split change what the numbers
 * mean; a different trace source is usually what the comparison is about
 * and is listed apart. Window and pacing fields (limit, offset, data and
 * cache folders, timeouts, retries, concurrency) are not differences. No
 * `vscode` import.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { EvalConfigSchema, type EvalConfig } from '../../../engine/contract';
import { configDifferences } from '../../../engine/run/configDiff';
import { CONFIG_FILE, readRunConfig } from '../../../engine/run/runReader';
import { describeIssues, type ConfigCheck, type ConfigDifferenceInfo } from '../../../webviewProtocol';

/** Human names of the fields a researcher knows by another name. */
const LABELS: Record<string, string> = {
  k: 'K (with-trace samples per trace)',
  baseline_samples: 'M (no-trace baseline samples per problem)',
  task: 'task',
  split: 'split',
  prompt_version: 'prompt version',
  executor_origin: 'executor (embedded or configured)',
  'executor.model': 'executor model',
  'executor.base_url': 'executor endpoint',
  'executor.api': 'executor API',
  'reward.mode': 'reward mode',
  'reward.exec_style': 'exec style',
  'reward.e2e': 'e2e term',
  'reward.rm_url': 'reward model endpoint',
  'protocol.preset': 'protocol preset',
};

export function fieldLabel(field: string): string {
  if (LABELS[field]) return LABELS[field];
  const [head, ...rest] = field.split('.');
  const tail = rest.join('.').replace(/_/g, ' ');
  switch (head) {
    case 'executor_sampling':
      return `executor sampling: ${tail}`;
    case 'protocol':
      return `protocol: ${tail}`;
    case 'reward':
      return `reward: ${tail}`;
    case 'executor':
      return `executor ${tail}`;
    case 'trace_source':
      return tail ? `trace source: ${tail}` : 'trace source';
    default:
      return field.replace(/_/g, ' ');
  }
}

/** A setting's value in one line (JSON, capped); "unset" for a field one config lacks. */
export function shownValue(v: unknown): string {
  if (v === undefined) return 'unset';
  const s = typeof v === 'string' ? v : (JSON.stringify(v) ?? 'unset');
  return s.length > 120 ? `${s.slice(0, 119)}…` : s;
}

/** The differences between two runs' configs, labelled and classified. */
export function compareConfigs(a: EvalConfig, b: EvalConfig): ConfigDifferenceInfo[] {
  return configDifferences(a, b).map((d) => ({
    field: d.field,
    label: fieldLabel(d.field),
    a: shownValue(d.before),
    b: shownValue(d.after),
    kind: d.field === 'trace_source' || d.field.startsWith('trace_source.') ? 'design' : 'meaning',
  }));
}

type ReadConfig = { config: EvalConfig } | { problem: string };

/** A run's eval config, or why it cannot be compared. */
export function readEvalConfig(runDir: string): ReadConfig {
  const { config, issue } = readRunConfig(runDir);
  if (issue) return { problem: issue };
  if (!config) return { problem: `no ${CONFIG_FILE}` };
  const parsed = EvalConfigSchema.safeParse(config);
  if (!parsed.success) return { problem: `${CONFIG_FILE} is not an eval config (${describeIssues(parsed.error)})` };
  return { config: parsed.data };
}

/** Both runs' settings compared; a run whose config cannot be read is named instead. */
export function checkRunConfigs(runA: string, runB: string): ConfigCheck {
  const a = readEvalConfig(runA);
  const b = readEvalConfig(runB);
  const unreadable: string[] = [];
  if ('problem' in a) unreadable.push(`Run A: ${a.problem}`);
  if ('problem' in b) unreadable.push(`Run B: ${b.problem}`);
  return { differences: 'config' in a && 'config' in b ? compareConfigs(a.config, b.config) : [], unreadable };
}

/** Re-reads the two configs only when either file changed (a run that starts writes its config). */
export class RunConfigCheck {
  private key = '';
  private last: ConfigCheck | null = null;

  constructor(
    private readonly runA: string,
    private readonly runB: string,
  ) {}

  current(): ConfigCheck {
    const stamp = (dir: string) => {
      try {
        const st = fs.statSync(path.join(dir, CONFIG_FILE));
        return `${st.mtimeMs}:${st.size}:${st.ino}`;
      } catch {
        return 'none';
      }
    };
    const key = `${stamp(this.runA)}|${stamp(this.runB)}`;
    if (!this.last || key !== this.key) {
      this.last = checkRunConfigs(this.runA, this.runB);
      this.key = key;
    }
    return this.last;
  }
}
