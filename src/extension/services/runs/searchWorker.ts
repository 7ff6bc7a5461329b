/**
 * The run search's worker thread (bundled as dist/searchWorker.js): tests a
 * regular expression against the full traces of groups of events.jsonl,
 * reading their byte ranges itself, so a slow or catastrophic pattern
 * (`(.+)+x`) runs here and never on the extension host's event loop. The
 * host terminates this thread on its deadline or when the query changes
 * (searchPool.ts).
 *
 * workerData: { eventsFile, pattern, flags }. Each message: { id, groups:
 * [offset, length, firstRow, rows][] } over one contiguous byte span; each
 * answer: { id, matches: row ids } or { id, error }.
 */
import * as fs from 'node:fs';
import { parentPort, workerData } from 'node:worker_threads';

export interface SearchWorkerData {
  eventsFile: string;
  pattern: string;
  flags: string;
}

/** One group: its byte offset and length in events.jsonl, its first row id and row count. */
export type GroupSpan = [offset: number, length: number, firstRow: number, rows: number];

export interface SearchRequest {
  id: number;
  groups: GroupSpan[];
}

export type SearchReply = { id: number; matches: number[] } | { id: number; error: string };

/** Row ids whose trace matches, for groups that lie in one contiguous span of the file. */
export function matchGroups(eventsFile: string, re: RegExp, groups: GroupSpan[]): number[] {
  const matches: number[] = [];
  if (!groups.length) return matches;
  const start = groups[0]![0];
  const last = groups[groups.length - 1]!;
  // Read here with fs alone: importing the engine's reader would bundle the contract into the thread (slower start).
  const buf = Buffer.alloc(last[0] + last[1] - start);
  const fd = fs.openSync(eventsFile, 'r');
  try {
    fs.readSync(fd, buf, 0, buf.length, start);
  } finally {
    fs.closeSync(fd);
  }
  for (const [offset, length, firstRow, rows] of groups) {
    let samples: unknown;
    try {
      samples = (JSON.parse(buf.toString('utf8', offset - start, offset - start + length)) as { samples?: unknown }).samples;
    } catch {
      continue; // the file changed under the reader: nothing matches here
    }
    for (let s = 0; s < rows; s++) {
      const trace = Array.isArray(samples) ? (samples[s] as { trace?: unknown } | undefined)?.trace : undefined;
      if (typeof trace === 'string' && re.test(trace)) matches.push(firstRow + s);
    }
  }
  return matches;
}

if (parentPort) {
  const port = parentPort;
  const data = workerData as SearchWorkerData;
  const re = new RegExp(data.pattern, data.flags);
  port.on('message', (req: SearchRequest) => {
    let reply: SearchReply;
    try {
      reply = { id: req.id, matches: matchGroups(data.eventsFile, re, req.groups) };
    } catch (err) {
      reply = { id: req.id, error: (err as Error).message };
    }
    port.postMessage(reply);
  });
}
