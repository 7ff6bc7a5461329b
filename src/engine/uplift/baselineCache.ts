/**
 * The no-trace baseline of a problem, estimated once and kept on disk.
 *
 * The executor is frozen, so P(success | problem) without a trace does not
 * depend on the trace being scored: we sample it once with M samples and
 * reuse it across traces, groups, steps, evals and runs. The key covers
 * everything that changes the executor's behaviour (model identity, API,
 * sampling, prompt template version, verifier version, the problem text and
 * its gold answer), so changing any of them invalidates the entry.
 *
 * Storage: one append-only JSON Lines file; the last entry for a key wins, a
 * truncated last line (crash mid-append) is ignored.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { ExecutorAttemptSchema, type ExecutorAttempt, type Sampling } from '../contract';

export const BaselineEntrySchema = z.object({
  key: z.string(),
  problem_id: z.string(),
  attempts: z.array(ExecutorAttemptSchema),
  created: z.string(),
});
export type BaselineEntry = z.infer<typeof BaselineEntrySchema>;

export interface BaselineKeyParts {
  /** Stable identity of the executor (model + serving setup), never an API key. */
  executor: string;
  api: string;
  sampling: Sampling;
  prompt_version: string;
  verifier_version: string;
  task: string;
  problem_id: string;
  problem: string;
  reference: string;
}

export function baselineKey(parts: BaselineKeyParts): string {
  const canonical = JSON.stringify([
    parts.executor,
    parts.api,
    parts.sampling.temperature,
    parts.sampling.top_p,
    parts.sampling.max_tokens,
    parts.sampling.seed,
    parts.sampling.stop,
    parts.prompt_version,
    parts.verifier_version,
    parts.task,
    parts.problem_id,
    parts.problem,
    parts.reference,
  ]);
  return createHash('sha256').update(canonical).digest('hex').slice(0, 32);
}

export class BaselineCache {
  private readonly entries = new Map<string, BaselineEntry>();
  readonly file: string;
  hits = 0;
  misses = 0;

  constructor(cacheDir: string) {
    fs.mkdirSync(cacheDir, { recursive: true });
    this.file = path.join(cacheDir, 'baselines.jsonl');
    this.load();
  }

  private load(): void {
    if (!fs.existsSync(this.file)) return;
    const lines = fs.readFileSync(this.file, 'utf8').split('\n');
    for (const line of lines) {
      if (!line.trim()) continue;
      try {
        const parsed = BaselineEntrySchema.safeParse(JSON.parse(line));
        if (parsed.success) this.entries.set(parsed.data.key, parsed.data);
      } catch {
        // a line cut by a crash: that baseline is simply sampled again
      }
    }
  }

  /** Valid (non-failed) attempts stored for the key. */
  get(key: string): BaselineEntry | undefined {
    return this.entries.get(key);
  }

  put(entry: BaselineEntry): void {
    this.entries.set(entry.key, entry);
    // One write call per entry keeps lines whole under concurrent appends from one process.
    fs.appendFileSync(this.file, JSON.stringify(entry) + '\n');
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Attempts that produced an output (failed calls are never part of a baseline). */
export function validAttempts(attempts: ExecutorAttempt[]): ExecutorAttempt[] {
  return attempts.filter((a) => a.error === null && a.verdict !== null);
}
