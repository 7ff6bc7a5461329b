/**
 * A run directory as the analyses read it: its config (loosely: eval and
 * training configs differ), the groups that count (supersede rule), its
 * step metrics and what kind of run it is. Reads through the run reader.
 */
import * as path from 'node:path';
import type { RolloutGroup } from '../contract';
import { readEvents } from '../run/runDir';
import { readRunConfig } from '../run/runReader';
import { latestGroups } from '../run/supersede';

export interface LoadedRun {
  dir: string;
  /** The directory's name, for labels. */
  name: string;
  kind: 'eval' | 'train' | 'rm_train' | 'unknown';
  config: Record<string, unknown> | null;
  groups: RolloutGroup[];
  stepMetrics: Array<{ step: number; metrics: Record<string, number> }>;
  /** Lines skipped or files not read, in words. */
  issues: string[];
}

export function loadRun(dir: string): LoadedRun {
  const { events, issues } = readEvents(dir);
  const { config, issue } = readRunConfig(dir);
  const started = events.find((e) => e.type === 'run_started');
  return {
    dir,
    name: path.basename(path.resolve(dir)),
    kind: started?.type === 'run_started' ? started.run_kind : 'unknown',
    config,
    groups: latestGroups(events),
    stepMetrics: events.flatMap((e) => (e.type === 'step_metrics' ? [{ step: e.step, metrics: e.metrics }] : [])),
    issues: [...issues.map((i) => `${i.file}:${i.line}: ${i.message}`), ...(issue ? [issue] : [])],
  };
}
