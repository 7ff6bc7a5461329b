/**
 * Measured uplift of a TraceLift-Groups file's traces, found by the file's
 * content, not its path. "Measure Uplift" writes `tracelift-origin.json`
 * beside its run naming the groups file, the record, and the SHA-256 of the
 * file's bytes; a groups file is matched to the runs that measured it by that
 * hash, so measurements survive moving or renaming the workspace (and are not
 * shown for a file whose content changed since).
 *
 * Hashing streams the file (1 MiB chunks, so a 49 MB file never blocks the
 * event loop for long) and is cached per path, size, mtime and inode.
 *
 * Origins written before the hash existed (path only) are still read by path;
 * once the file at that path is hashed and its record still matches the
 * run's `group.jsonl`, the hash is written into the origin (migrated), so the
 * next move keeps it. Runs that read a whole groups file as their trace
 * source (Run Eval, the CLI) are matched by the SHA-256 the engine records in
 * their config (`trace_source.sha256`); runs written before it did, by path.
 * No `vscode` import.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { z } from 'zod';
import { parseGroupLine, readGroupRecordAt } from '../../engine/groups';
import type { RunRow } from './runs/runRows';

/** Written beside a run by "Measure Uplift": which groups file (by path and content) and record it measured. */
export const ORIGIN_FILE = 'tracelift-origin.json';
/** The one record a "Measure Uplift" run scored (a copy of the line). */
export const GROUP_COPY_FILE = 'group.jsonl';

const Sha256Schema = z.string().regex(/^[0-9a-f]{64}$/);
export const RunOriginSchema = z.object({
  /** Absolute path of the groups file when it was measured (a hint: the hash is the key). */
  groups_file: z.string().min(1),
  /** SHA-256 of the groups file's bytes when it was measured; absent in origins written before it existed. */
  groups_sha256: Sha256Schema.optional(),
  /** 0-based over the file's non-blank lines. */
  record_index: z.number().int().min(0),
  problem_id: z.string(),
});
export type RunOrigin = z.infer<typeof RunOriginSchema>;

/** The origin of a "Measure Uplift" run, or null (no file, not JSON, or not an origin). */
export function readOrigin(dir: string): RunOrigin | null {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(path.join(dir, ORIGIN_FILE), 'utf8'));
  } catch {
    return null;
  }
  const parsed = RunOriginSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

/** Writes the origin whole or not at all (temporary file, then rename). */
export function writeOriginFile(dir: string, origin: RunOrigin): void {
  const valid = RunOriginSchema.parse(origin);
  const file = path.join(dir, ORIGIN_FILE);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, JSON.stringify(valid, null, 2) + '\n');
  fs.renameSync(tmp, file);
}

/** "Measure Uplift": records the groups file (hashing its bytes as they are now) and the record it measured. */
export async function writeOrigin(dir: string, origin: Omit<RunOrigin, 'groups_sha256'>): Promise<RunOrigin> {
  const full: RunOrigin = { ...origin, groups_file: path.resolve(origin.groups_file), groups_sha256: await fileSha256(origin.groups_file) };
  writeOriginFile(dir, full);
  return full;
}

// ---------------------------------------------------------------- content hash

interface HashEntry {
  size: number;
  mtimeMs: number;
  ino: number;
  sha256: string;
}
const hashes = new Map<string, HashEntry>();
const hashing = new Map<string, Promise<string>>();
const MAX_CACHED = 512;

const sameFile = (e: HashEntry, st: fs.Stats) => e.size === st.size && e.mtimeMs === st.mtimeMs && e.ino === st.ino;

/** The cached SHA-256 of the file as it is now (same size, mtime and inode), or undefined. Never reads the file. */
export function cachedSha256(file: string): string | undefined {
  const abs = path.resolve(file);
  const e = hashes.get(abs);
  if (!e) return undefined;
  try {
    return sameFile(e, fs.statSync(abs)) ? e.sha256 : undefined;
  } catch {
    return undefined;
  }
}

/** SHA-256 (hex) of the file's bytes, streamed in 1 MiB chunks; cached until the file changes. */
export function fileSha256(file: string): Promise<string> {
  const abs = path.resolve(file);
  const cached = cachedSha256(abs);
  if (cached) return Promise.resolve(cached);
  let running = hashing.get(abs);
  if (!running) {
    running = (async () => {
      const before = await fs.promises.stat(abs);
      const hash = createHash('sha256');
      for await (const chunk of fs.createReadStream(abs, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
      const sha256 = hash.digest('hex');
      const after = await fs.promises.stat(abs);
      // Written to while it was read: the digest matches neither version, so it is not kept.
      if (sameFile({ size: before.size, mtimeMs: before.mtimeMs, ino: before.ino, sha256 }, after)) {
        if (hashes.size >= MAX_CACHED) hashes.delete(hashes.keys().next().value!);
        hashes.set(abs, { size: after.size, mtimeMs: after.mtimeMs, ino: after.ino, sha256 });
      }
      return sha256;
    })().finally(() => hashing.delete(abs));
    hashing.set(abs, running);
  }
  return running;
}

// ---------------------------------------------------------------- lookup

/** What the lookup needs to know of a run (RunInfo has it). */
export interface MeasuredRunRef {
  dir: string;
  name: string;
  /** The traces / groups file its config names, when it read one. */
  traceFile: string | null;
  /** Its content hash, when the config recorded one (then the path is not needed). */
  traceFileSha256?: string | null;
  updatedMs: number;
}

/** One trace's measurement, by sample id (`<problem_id>#pos0`, `#neg1`…). */
export interface MeasuredSample {
  /** The run's directory name, and the directory. */
  run: string;
  runDir: string;
  sampleId: string;
  /** reference, positive, negative… and the negative_kind. */
  source: string;
  label: string | null;
  /** With-trace successes k over valid attempts K (and failed calls). */
  k: number;
  K: number;
  failed: number;
  withRate: number | null;
  /** No-trace baseline successes over valid attempts (M). */
  baselineSuccesses: number;
  baselineValid: number;
  baselineRate: number | null;
  uplift: number | null;
  reward: number | null;
}

export interface MeasuredUpliftDeps {
  runs: () => readonly MeasuredRunRef[];
  /** A run's problems with this id (the shared run index). */
  problemsWithId: (runDir: string, problemId: string) => ReadonlyArray<{ samples: readonly RunRow[] }>;
  /** Resolves once what the run's events.jsonl holds so far is indexed (a lookup waits for it; peek does not). */
  whenRead?: (runDir: string) => Promise<unknown>;
  /** A hash finished or an origin was migrated: lookups may now answer differently. */
  onChanged?: () => void;
  log?: (line: string) => void;
}

function measuredOf(run: MeasuredRunRef, r: RunRow): MeasuredSample {
  return {
    run: run.name,
    runDir: run.dir,
    sampleId: r.sampleId,
    source: r.source,
    label: r.label,
    k: r.k,
    K: r.K,
    failed: r.failed,
    withRate: r.withRate,
    baselineSuccesses: r.baselineSuccesses,
    baselineValid: r.baselineValid,
    baselineRate: r.baselineRate,
    uplift: r.uplift,
    reward: r.reward,
  };
}

export class MeasuredUplift {
  private readonly origins = new Map<string, RunOrigin | null>();
  private readonly migrating = new Set<string>();

  constructor(private readonly deps: MeasuredUpliftDeps) {}

  /** The origin of a run directory (cached until `forget`). */
  origin(dir: string): RunOrigin | null {
    const abs = path.resolve(dir);
    if (!this.origins.has(abs)) this.origins.set(abs, readOrigin(abs));
    return this.origins.get(abs) ?? null;
  }

  /** Origins may have changed (runs rescanned). Hashes stay: they are checked against the file. */
  forget(): void {
    this.origins.clear();
  }

  /**
   * Measurements of a groups record's traces, by sample id, from every run
   * that measured this file's content (the newest run wins); empty when none.
   */
  async lookup(groupsFile: string, problemId: string): Promise<Map<string, MeasuredSample>> {
    let sha: string | null = null;
    try {
      sha = await fileSha256(groupsFile);
    } catch (err) {
      this.deps.log?.(`hashing ${groupsFile}: ${(err as Error).message}`);
    }
    const file = path.resolve(groupsFile);
    await Promise.all(this.matchingRuns(file, sha).map((r) => this.deps.whenRead?.(r.dir)));
    return this.collect(file, sha, problemId);
  }

  /**
   * The same, answered at once for the annotations: with the cached hash, or —
   * while the file is being hashed — from path-matched runs only; `onChanged`
   * fires once the hash is known.
   */
  peek(groupsFile: string, problemId: string): Map<string, MeasuredSample> | undefined {
    const abs = path.resolve(groupsFile);
    const sha = cachedSha256(abs);
    if (sha === undefined) {
      fileSha256(abs).then(
        () => {
          if (cachedSha256(abs) !== undefined) this.deps.onChanged?.(); // not when the file changed meanwhile: no refresh loop
        },
        (err: Error) => this.deps.log?.(`hashing ${abs}: ${err.message}`),
      );
    }
    const out = this.collect(abs, sha ?? null, problemId);
    return out.size ? out : undefined;
  }

  /** Runs that measured this file: by content hash, or by path for path-only origins and whole-file trace sources. */
  private matchingRuns(file: string, sha: string | null): MeasuredRunRef[] {
    const matches = (r: MeasuredRunRef): boolean => {
      const o = this.origin(r.dir);
      if (o?.groups_sha256) return sha !== null && o.groups_sha256 === sha;
      if (o) {
        if (path.resolve(o.groups_file) !== file) return false;
        if (sha !== null) this.migrate(r.dir, o, sha);
        return true;
      }
      if (r.traceFileSha256) return sha !== null && r.traceFileSha256 === sha;
      return r.traceFile !== null && path.resolve(r.traceFile) === file;
    };
    return this.deps.runs().filter(matches);
  }

  private collect(file: string, sha: string | null, problemId: string): Map<string, MeasuredSample> {
    const out = new Map<string, MeasuredSample>();
    // Oldest first, so newer runs overwrite.
    for (const r of this.matchingRuns(file, sha).sort((a, b) => a.updatedMs - b.updatedMs)) {
      const origin = this.origin(r.dir);
      if (origin && origin.problem_id !== problemId) continue;
      for (const p of this.deps.problemsWithId(r.dir, problemId)) for (const s of p.samples) out.set(s.sampleId, measuredOf(r, s));
    }
    return out;
  }

  /**
   * A path-only origin whose file is still there: when the record it measured
   * is unchanged in the file, the file's hash is written into the origin.
   */
  private migrate(dir: string, origin: RunOrigin, sha: string): void {
    const abs = path.resolve(dir);
    if (this.migrating.has(abs)) return;
    this.migrating.add(abs);
    void (async () => {
      try {
        if (!(await sameRecord(abs, origin))) return;
        writeOriginFile(abs, { ...origin, groups_sha256: sha });
        this.origins.set(abs, { ...origin, groups_sha256: sha });
        this.deps.log?.(`measured uplift of ${origin.groups_file} record ${origin.record_index}: origin keyed by content now (${abs})`);
        this.deps.onChanged?.();
      } catch (err) {
        this.deps.log?.(`migrating ${path.join(abs, ORIGIN_FILE)}: ${(err as Error).message}`);
      }
    })();
  }
}

/** Whether the run's copy of the record equals the record at `record_index` of the groups file. */
export async function sameRecord(runDir: string, origin: RunOrigin): Promise<boolean> {
  const copyFile = path.join(runDir, GROUP_COPY_FILE);
  const copyLine = (await fs.promises.readFile(copyFile, 'utf8')).split('\n').find((l) => l.trim());
  if (!copyLine) return false;
  const copy = parseGroupLine(copyLine, copyFile, 1);
  const { record } = await readGroupRecordAt(origin.groups_file, origin.record_index);
  return JSON.stringify(copy) === JSON.stringify(record);
}

// The extension's one lookup (made by the runs model), for views opened without one of their own.
let shared: MeasuredUplift | null = null;

export function setSharedMeasuredUplift(m: MeasuredUplift | null): void {
  shared = m;
}

export function sharedMeasuredUplift(): MeasuredUplift | null {
  return shared;
}
