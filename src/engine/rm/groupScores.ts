/**
 * A groups file scored by a Reason RM: every trace (positives and negatives)
 * sent to the RM, each score appended as one RmGroupScore line to a scores
 * file keyed by the groups file's SHA-256. Resumable (traces already scored
 * for this content and this RM are skipped) and append-only, so a cancel or a
 * crash keeps what was scored. The editor annotates the groups file from it
 * (RM score next to the gold rubric total per trace).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { RmGroupScoreSchema, type RmGroupScore } from '../contract';
import { sha256OfFile } from '../data/fetch';
import { expandGroup, streamGroupRecords, type GroupTrace } from '../groups';
import { scoreTracesDetailed, type RmItem } from '../reward/rmClient';
import type { RmEndpoint } from './rmModel';

/** Where the scores of a groups file go: `<dir>/<file name>-<sha256 prefix>.rm-scores.jsonl`. */
export function rmScoresFile(scoresDir: string, groupsFile: string, sha256: string): string {
  return path.join(scoresDir, `${path.basename(groupsFile, '.jsonl')}-${sha256.slice(0, 12)}.rm-scores.jsonl`);
}

/**
 * The valid lines of a scores file for this content (others are skipped: a
 * cut last line after a crash, another version's lines).
 */
export function readRmGroupScores(file: string, sha256: string): RmGroupScore[] {
  if (!fs.existsSync(file)) return [];
  const out: RmGroupScore[] = [];
  for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      continue;
    }
    const parsed = RmGroupScoreSchema.safeParse(value);
    if (parsed.success && parsed.data.groups_sha256 === sha256) out.push(parsed.data);
  }
  return out;
}

export interface ScoreGroupsRequest {
  groupsFile: string;
  /** Where the scores file is written (created when missing). */
  scoresDir: string;
  endpoint: RmEndpoint;
  /** Names the RM in every line (URL, or model dir + id). */
  rmName: string;
  /** Traces per request; default 16. */
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: (p: { scored: number; total: number }) => void;
}

export interface ScoreGroupsResult {
  scoresFile: string;
  sha256: string;
  scored: number;
  skipped: number;
  total: number;
}

function rmItem(problem: string, taskType: string, t: GroupTrace): RmItem {
  const kind = taskType === 'code' ? 'code' : 'math';
  return { problem, reasoning: t.text, taskName: kind, taskType: taskType || kind };
}

export async function scoreGroupsFile(req: ScoreGroupsRequest): Promise<ScoreGroupsResult> {
  const sha256 = await sha256OfFile(req.groupsFile);
  fs.mkdirSync(req.scoresDir, { recursive: true });
  const scoresFile = rmScoresFile(req.scoresDir, req.groupsFile, sha256);
  const done = new Set(
    readRmGroupScores(scoresFile, sha256)
      .filter((s) => s.rm === req.rmName)
      .map((s) => s.trace_id),
  );
  // Every record first (validated: a bad line is an error naming file:line), so progress has a total.
  const pending: { problemId: string; trace: GroupTrace; item: RmItem }[] = [];
  let total = 0;
  for await (const { record } of streamGroupRecords(req.groupsFile)) {
    for (const t of expandGroup(record)) {
      total += 1;
      if (!done.has(t.id)) pending.push({ problemId: record.problem_id, trace: t, item: rmItem(record.problem, record.task_type, t) });
    }
  }
  const batch = req.batchSize ?? 16;
  let scored = 0;
  req.onProgress?.({ scored: total - pending.length, total });
  const fd = fs.openSync(scoresFile, 'a');
  try {
    for (let i = 0; i < pending.length; i += batch) {
      if (req.signal?.aborted) break;
      const chunk = pending.slice(i, i + batch);
      const scores = await scoreTracesDetailed(
        req.endpoint.url,
        chunk.map((c) => c.item),
        { apiKey: req.endpoint.apiKey, signal: req.signal, batchSize: batch },
      );
      const time = new Date().toISOString();
      const lines = chunk.map((c, j) =>
        JSON.stringify(
          RmGroupScoreSchema.parse({
            groups_sha256: sha256,
            problem_id: c.problemId,
            trace_id: c.trace.id,
            score: scores[j]!.score,
            dimensions: scores[j]!.dimensions,
            gold_total: c.trace.rubricTotal,
            rm: req.rmName,
            time,
          }),
        ),
      );
      // One write per batch: a crash cuts at most the last line, which readers skip.
      fs.writeSync(fd, lines.join('\n') + '\n');
      scored += chunk.length;
      req.onProgress?.({ scored: total - pending.length + scored, total });
    }
  } finally {
    fs.closeSync(fd);
  }
  return { scoresFile, sha256, scored, skipped: total - pending.length, total };
}

/** How an RM ranks a group: the positive above every negative, and its pair accuracy. */
export function groupRanking(
  scores: ReadonlyMap<string, number>,
  traces: readonly GroupTrace[],
): { positiveFirst: boolean | null; pairAccuracy: number | null } {
  const pos = traces.find((t) => t.isReference);
  const posScore = pos ? scores.get(pos.id) : undefined;
  const negs = traces.filter((t) => t.role === 'negative').map((t) => scores.get(t.id));
  if (posScore === undefined || negs.some((s) => s === undefined) || negs.length === 0) return { positiveFirst: null, pairAccuracy: null };
  const wins = negs.filter((s) => posScore > s!).length;
  return { positiveFirst: wins === negs.length, pairAccuracy: wins / negs.length };
}
