/**
 * A suite's planner traces, kept as traces files (one per planner and
 * benchmark) beside its runs: planned once, so a resumed or re-run suite
 * scores the same traces, and the with-trace run is an ordinary eval of a
 * traces file (its resume is the eval's own). Problems the planner gave no
 * trace are planned again on the next run. The file is rewritten atomically
 * (temp + rename) after each planning pass; `planner.json` beside it pins
 * which planner wrote it, and a different planner is refused.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import {
  SamplingSchema,
  TraceRecordSchema,
  type Endpoint,
  type Problem,
  type Protocol,
  type Sampling,
  type TraceRecord,
} from '../contract';
import { ExecutorClient } from '../executor/client';
import { plannerTraces } from '../eval/traceSources';
import type { PromptSet } from '../prompts/templates';
import { parseJsonl, readTextFile, validateLines } from '../util/jsonl';

/** What makes two planners' traces interchangeable. */
export const PlannerManifestSchema = z.object({
  name: z.string(),
  /** `<base_url>|<model>` of an endpoint, or `executor:<executor identity>` when the executor's server planned. */
  identity: z.string(),
  description: z.string(),
  sampling: SamplingSchema,
  prompt_version: z.string(),
  traces_per_problem: z.number().int().positive(),
});
export type PlannerManifest = z.infer<typeof PlannerManifestSchema>;

export const PLANNER_MANIFEST_FILE = 'planner.json';

export interface PlanningRequest {
  /** The traces file (created or extended). */
  file: string;
  manifest: PlannerManifest;
  endpoint: Endpoint;
  problems: Problem[];
  prompts: PromptSet;
  sampling: Sampling;
  truncation: Protocol['truncation'] | null;
  signal?: AbortSignal;
  log?: (line: string) => void;
}

export interface PlanningResult {
  /** Problems that have at least one trace in the file now. */
  withTraces: number;
  /** Problems planned in this pass. */
  planned: number;
  failures: string[];
}

/** Throws when the folder's traces were written by another planner (or another sampling, prompt set, count). */
export function checkPlannerManifest(dir: string, manifest: PlannerManifest): void {
  const file = path.join(dir, PLANNER_MANIFEST_FILE);
  if (!fs.existsSync(file)) return;
  const stored = PlannerManifestSchema.parse(JSON.parse(fs.readFileSync(file, 'utf8')));
  const differs = (['identity', 'sampling', 'prompt_version', 'traces_per_problem'] as const).filter(
    (k) => JSON.stringify(stored[k]) !== JSON.stringify(manifest[k]),
  );
  if (differs.length)
    throw new Error(
      `${dir} holds traces of another planner configuration (${differs.join(', ')} differ: ${differs
        .map((k) => `${JSON.stringify(stored[k])} there, ${JSON.stringify(manifest[k])} now`)
        .join('; ')}); use another --out`,
    );
}

/** The traces already in a file (empty when it does not exist). */
export function readTraceRecords(file: string): TraceRecord[] {
  if (!fs.existsSync(file)) return [];
  return validateLines(TraceRecordSchema, parseJsonl(readTextFile(file), file), file);
}

/** Plans the problems that have no trace in the file yet and rewrites it with old and new traces. */
export async function ensurePlannerTraces(req: PlanningRequest): Promise<PlanningResult> {
  const dir = path.dirname(req.file);
  fs.mkdirSync(dir, { recursive: true });
  checkPlannerManifest(dir, req.manifest);
  fs.writeFileSync(path.join(dir, PLANNER_MANIFEST_FILE), JSON.stringify(req.manifest, null, 2) + '\n');
  const existing = readTraceRecords(req.file);
  const have = new Set(existing.map((r) => r.problem_id));
  const wanted = req.problems.filter((p) => !have.has(p.id));
  if (!wanted.length || req.signal?.aborted) return { withTraces: countWithTraces(req.problems, have), planned: 0, failures: [] };
  req.log?.(`planning ${wanted.length} problem(s) with ${req.manifest.name} (${req.manifest.description}) → ${req.file}`);
  const client = new ExecutorClient(req.endpoint, { log: req.log, signal: req.signal });
  const { items, failures } = await plannerTraces(
    wanted,
    client,
    req.sampling,
    req.prompts,
    req.manifest.traces_per_problem,
    req.truncation,
  );
  // A cancelled pass keeps nothing: the traces of a cut pass may be cancelled calls.
  if (req.signal?.aborted) return { withTraces: countWithTraces(req.problems, have), planned: 0, failures };
  const added: TraceRecord[] = items.flatMap((item) =>
    item.traces.map((t) => ({ problem_id: item.problem.id, trace: t.trace, trace_id: t.sample_id, label: req.manifest.name })),
  );
  const tmp = `${req.file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, [...existing, ...added].map((r) => JSON.stringify(r) + '\n').join(''));
  fs.renameSync(tmp, req.file);
  for (const r of added) have.add(r.problem_id);
  return { withTraces: countWithTraces(req.problems, have), planned: items.length, failures };
}

function countWithTraces(problems: Problem[], have: Set<string>): number {
  return problems.filter((p) => have.has(p.id)).length;
}
