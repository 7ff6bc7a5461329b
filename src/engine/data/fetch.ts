/**
 * Downloads benchmark files from their published sources (sources.ts) into a
 * data directory. Each file is written to `<file>.part` (resumed with an HTTP
 * Range request after a cut connection or a cancelled run), and renamed into
 * place only once its sha256 matches the pinned one; a mismatch deletes the
 * part. Progress is reported per file in bytes; an AbortSignal cancels.
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import type { DataSource } from './sources';
import { mirrorUrl } from './sources';

export interface FetchProgress {
  /** The file's path in the data directory layout. */
  path: string;
  /** Bytes of the file on disk so far (a resumed part counts from its size). */
  received: number;
  total: number;
  phase: 'downloading' | 'verifying' | 'done' | 'present';
}

export interface FetchFileOptions {
  /** Fetch only from this base URL (the data directory layout), instead of the published URLs. */
  mirror?: string;
  signal?: AbortSignal;
  onProgress?: (progress: FetchProgress) => void;
  log?: (line: string) => void;
  /** How many times a cut connection is resumed within this call (default 3). */
  retries?: number;
}

export type FetchOutcome = 'downloaded' | 'present';

/** A download that ended on a network or HTTP error from every URL; names the URLs and where to copy the file by hand. */
export class DataDownloadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataDownloadError';
  }
}

/** The downloaded bytes are not the pinned ones; the partial file has been deleted. */
export class DataChecksumError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataChecksumError';
  }
}

/** The caller cancelled; a `.part` file may remain and a later fetch resumes it. */
export class DataFetchCancelledError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DataFetchCancelledError';
  }
}

export async function sha256OfFile(file: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

function sizeOf(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** "connect ECONNREFUSED 127.0.0.1:9" from undici's "fetch failed" and its cause. */
function describeNetworkError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const cause = (err as { cause?: unknown }).cause;
  if (cause instanceof Error && cause.message) return cause.message;
  return err.message;
}

function isAbort(err: unknown, signal?: AbortSignal): boolean {
  return signal?.aborted === true || (err instanceof Error && err.name === 'AbortError');
}

class HttpStatusError extends Error {}

/**
 * Appends the rest of `url` to `part`, asking for the bytes after those already there.
 * Returns when the response body has ended; throws on network/HTTP errors (the part stays).
 */
async function downloadInto(url: string, part: string, source: DataSource, opts: FetchFileOptions): Promise<void> {
  const have = sizeOf(part);
  const headers: Record<string, string> = { 'accept-encoding': 'identity' };
  if (have > 0) headers.range = `bytes=${have}-`;
  const res = await fetch(url, { headers, signal: opts.signal, redirect: 'follow' });
  if (res.status === 416 && have > 0) {
    // Nothing after what we have: the part is complete (or longer than the file; the checksum decides).
    await res.body?.cancel();
    return;
  }
  if (res.status !== 200 && res.status !== 206) {
    await res.body?.cancel();
    throw new HttpStatusError(`HTTP ${res.status} ${res.statusText}`.trim());
  }
  // 200 to a Range request: the server sends the whole file, so start the part again.
  const append = res.status === 206;
  if (append) opts.log?.(`resuming ${source.path} at byte ${have}`);
  const file = await fsp.open(part, append ? 'a' : 'w');
  let received = append ? have : 0;
  try {
    if (!res.body) throw new HttpStatusError('empty response body');
    for await (const chunk of res.body) {
      received += chunk.byteLength;
      if (received > source.size) throw new DataChecksumError(`${url} sends more than the expected ${source.size} bytes`);
      await file.write(chunk);
      opts.onProgress?.({ path: source.path, received, total: source.size, phase: 'downloading' });
    }
  } finally {
    await file.close();
  }
}

/** Gets one file into `dataDir` (skipped when it is already there with the pinned sha256). */
export async function fetchDataFile(source: DataSource, dataDir: string, opts: FetchFileOptions = {}): Promise<FetchOutcome> {
  const dest = path.join(dataDir, source.path);
  const part = `${dest}.part`;
  const report = (phase: FetchProgress['phase'], received: number) =>
    opts.onProgress?.({ path: source.path, received, total: source.size, phase });

  if (fs.existsSync(dest)) {
    const sum = await sha256OfFile(dest);
    if (sum === source.sha256) {
      report('present', source.size);
      return 'present';
    }
    throw new DataChecksumError(
      `${dest} exists but its sha256 is ${sum}, not the published ${source.sha256}. Move it away and fetch again.`,
    );
  }
  await fsp.mkdir(path.dirname(dest), { recursive: true });

  const urls = opts.mirror ? [mirrorUrl(opts.mirror, source)] : [...source.urls];
  const retries = opts.retries ?? 3;
  const failures: string[] = [];
  let done = false;
  for (const url of urls) {
    for (let attempt = 0; attempt <= retries && !done; attempt++) {
      if (opts.signal?.aborted) break;
      try {
        opts.log?.(`downloading ${source.path} from ${url}`);
        await downloadInto(url, part, source, opts);
        if (sizeOf(part) < source.size) throw new Error(`connection closed after ${sizeOf(part)} of ${source.size} bytes`);
        done = true;
      } catch (err) {
        if (err instanceof DataChecksumError) {
          await fsp.rm(part, { force: true });
          throw new DataChecksumError(`${err.message}; the partial file was deleted.`);
        }
        if (isAbort(err, opts.signal)) break;
        const why = err instanceof HttpStatusError ? err.message : describeNetworkError(err);
        if (!failures.includes(`${url}: ${why}`)) failures.push(`${url}: ${why}`);
        opts.log?.(`${source.path}: ${why}`);
        // An HTTP error will not change on retry; a cut connection resumes from the part.
        if (err instanceof HttpStatusError) break;
      }
    }
    if (done || opts.signal?.aborted) break;
  }
  if (opts.signal?.aborted) {
    throw new DataFetchCancelledError(
      `Cancelled while fetching ${source.path}` +
        (fs.existsSync(part) ? `; ${sizeOf(part)} bytes kept in ${part}, the next fetch resumes there.` : '.'),
    );
  }
  if (!done) {
    throw new DataDownloadError(
      `Could not download ${source.path}:\n` +
        failures.map((f) => `  ${f}`).join('\n') +
        `\n  If this machine is offline, download ${source.urls[0]} on another machine and copy it to ${path.dirname(dest)}${path.sep}` +
        ` as ${path.basename(dest)} (sha256 ${source.sha256}).`,
    );
  }

  report('verifying', source.size);
  const sum = await sha256OfFile(part);
  if (sum !== source.sha256) {
    await fsp.rm(part, { force: true });
    throw new DataChecksumError(
      `Checksum mismatch for ${source.path} from ${urls.join(' / ')}: sha256 ${sum}, expected ${source.sha256}. ` +
        'The partial file was deleted; the source or mirror serves other bytes than the published file.',
    );
  }
  await fsp.rename(part, dest);
  report('done', source.size);
  return 'downloaded';
}

export interface FetchFilesResult {
  path: string;
  outcome: FetchOutcome;
}

/** Fetches each file in turn; the first error ends the run (files already in place stay). */
export async function fetchDataFiles(
  sources: readonly DataSource[],
  dataDir: string,
  opts: FetchFileOptions = {},
): Promise<FetchFilesResult[]> {
  const results: FetchFilesResult[] = [];
  for (const source of sources) {
    if (opts.signal?.aborted) throw new DataFetchCancelledError(`Cancelled before ${source.path}.`);
    results.push({ path: source.path, outcome: await fetchDataFile(source, dataDir, opts) });
  }
  return results;
}
