/**
 * RM scores of groups files (`tracelift rm score-groups`, Score Groups File
 * with RM…) for the annotations: per groups file, the latest score of each
 * trace from `<workspace>/.tracelift/rm-scores/`, looked up by the file's
 * current SHA-256 — an edited file shows no stale scores. Hashing is async
 * and cached (measuredUplift.ts); a lookup before the hash is known returns
 * nothing and fires onDidChange once it is.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import { readRmGroupScores, rmScoresFile } from '../../engine/rm/groupScores';
import { cachedSha256, fileSha256 } from './measuredUplift';

export const RM_SCORES_DIR = path.join('.tracelift', 'rm-scores');

/** A trace's RM score as the annotations show it. */
export interface RmTraceScore {
  score: number;
  gold: number | null;
  rm: string;
}

type ByProblem = Map<string, Map<string, RmTraceScore>>;

export class RmGroupScoreIndex implements vscode.Disposable {
  private readonly cache = new Map<string, { sha256: string; mtimeMs: number; byProblem: ByProblem }>();
  private readonly hashing = new Set<string>();
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.emitter.event;

  /** The scores directory for a groups file: in its workspace folder, else beside it. */
  scoresDir(groupsFile: string): string {
    const folder = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(groupsFile));
    return path.join(folder?.uri.fsPath ?? path.dirname(groupsFile), RM_SCORES_DIR);
  }

  /** The latest RM score of each trace of a record, or undefined when the file has none (or is being hashed). */
  lookup(groupsFile: string, problemId: string): ReadonlyMap<string, RmTraceScore> | undefined {
    const sha256 = cachedSha256(groupsFile);
    if (!sha256) {
      this.hashLater(groupsFile);
      return undefined;
    }
    const file = rmScoresFile(this.scoresDir(groupsFile), groupsFile, sha256);
    let mtimeMs: number;
    try {
      mtimeMs = fs.statSync(file).mtimeMs;
    } catch {
      return undefined;
    }
    let entry = this.cache.get(groupsFile);
    if (!entry || entry.sha256 !== sha256 || entry.mtimeMs !== mtimeMs) {
      const byProblem: ByProblem = new Map();
      // Lines are in time order: a later score of a trace replaces an earlier one.
      for (const s of readRmGroupScores(file, sha256)) {
        const m = byProblem.get(s.problem_id) ?? new Map<string, RmTraceScore>();
        m.set(s.trace_id, { score: s.score, gold: s.gold_total, rm: s.rm });
        byProblem.set(s.problem_id, m);
      }
      entry = { sha256, mtimeMs, byProblem };
      this.cache.set(groupsFile, entry);
    }
    return entry.byProblem.get(problemId);
  }

  /** Scores were written: re-read them. */
  invalidate(): void {
    this.cache.clear();
    this.emitter.fire();
  }

  private hashLater(groupsFile: string): void {
    if (this.hashing.has(groupsFile) || !fs.existsSync(this.scoresDir(groupsFile))) return;
    this.hashing.add(groupsFile);
    void fileSha256(groupsFile)
      .then(() => this.emitter.fire())
      .catch(() => undefined)
      .finally(() => this.hashing.delete(groupsFile));
  }

  dispose(): void {
    this.emitter.dispose();
  }
}
