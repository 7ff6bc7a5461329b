/**
 * The workspace's runs as one model for the explorer, the annotations, the
 * status bar and the commands: the run list (rescanned on file events,
 * debounced; polled while a run is live) from cheap reads only (runScan.ts),
 * and — for a run whose problems and samples are asked for — its run index,
 * the same one the webviews use (shared and ref-counted by the run stores).
 *
 * Listing runs never indexes them: an index is acquired when a run is
 * expanded in the tree, a command needs its samples, or an open groups file
 * was measured by it; it is released when the run's node is collapsed or the
 * run leaves the list (the store keeps it a grace period for a quick return).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as vscode from 'vscode';
import type { ActiveRuns } from './activeRuns';
import type { Measured } from './annotate';
import type { Lease } from './runs/refCounted';
import type { RunIndex } from './runs/runIndex';
import type { RunStore, RunStoreRegistry } from './runs/runStore';
import { MeasuredUplift, setSharedMeasuredUplift, sharedMeasuredUplift } from './measuredUplift';
import { listRunDirs, scanRun, type RunInfo, type RunOrigin } from './runScan';
import { onSettingsChanged, runsFolders } from './settings';

const POLL_MS = 3000;
const DEBOUNCE_MS = 400;

export class RunsModel implements vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<void>();
  readonly onDidChange = this.emitter.event;
  private list: RunInfo[] = [];
  private readonly held = new Map<string, { lease: Lease<RunStore>; sub: vscode.Disposable }>();
  private indexChanged: NodeJS.Timeout | undefined;
  /** Measured uplift of groups files, matched to these runs by the files' content hash. */
  readonly measuredUplift: MeasuredUplift;
  private watchers: vscode.Disposable[] = [];
  private readonly disposables: vscode.Disposable[] = [];
  private debounce: NodeJS.Timeout | undefined;
  private poll: NodeJS.Timeout | undefined;

  constructor(
    private readonly active: ActiveRuns,
    private readonly log: (line: string) => void,
    private readonly stores: RunStoreRegistry,
  ) {
    this.measuredUplift = new MeasuredUplift({
      runs: () => this.list,
      problemsWithId: (dir, problemId) => this.indexNow(dir).problemsWithId(problemId),
      whenRead: (dir) => this.index(dir, 5000),
      onChanged: () => this.emitter.fire(),
      log,
    });
    setSharedMeasuredUplift(this.measuredUplift); // the trace diff reads measurements through it
    this.watch();
    this.rescan();
    this.disposables.push(
      onSettingsChanged((e) => {
        if (e.affectsConfiguration('tracelift.runsFolder')) {
          this.watch();
          this.rescan();
        }
      }),
      vscode.workspace.onDidChangeWorkspaceFolders(() => {
        this.watch();
        this.rescan();
      }),
      active.onDidChange(() => this.schedule()), // progress ticks: debounced
    );
  }

  folders(): string[] {
    return runsFolders();
  }

  runs(): readonly RunInfo[] {
    return this.list;
  }

  run(dir: string): RunInfo | undefined {
    const abs = path.resolve(dir);
    return this.list.find((r) => path.resolve(r.dir) === abs);
  }

  live(): RunInfo[] {
    return this.list.filter((r) => r.live);
  }

  /** The run's index as it is now (held from here on: it fills in the background and fires onDidChange). */
  indexNow(dir: string): RunIndex {
    return this.hold(dir).index;
  }

  /**
   * The run's index once what was written so far is read — or after
   * `maxWaitMs` with what is read by then (a run written without pause may
   * never be idle; the rest arrives with onDidChange).
   */
  async index(dir: string, maxWaitMs = 1000): Promise<RunIndex> {
    const store = this.hold(dir);
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([store.whenIdle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, maxWaitMs)))]);
    clearTimeout(timer);
    return store.index;
  }

  /** The explorer no longer shows this run's problems: let its index go (unless a view still holds it). */
  release(dir: string): void {
    const abs = path.resolve(dir);
    const h = this.held.get(abs);
    if (!h) return;
    this.held.delete(abs);
    h.sub.dispose();
    h.lease.dispose();
  }

  private hold(dir: string): RunStore {
    const abs = path.resolve(dir);
    let h = this.held.get(abs);
    if (!h) {
      const lease = this.stores.acquire(abs);
      h = { lease, sub: lease.value.onDidChange(() => this.scheduleIndexChange()) };
      this.held.set(abs, h);
    }
    return h.lease.value;
  }

  /** New rows in a held index: one change notification per debounce window. */
  private scheduleIndexChange(): void {
    if (this.indexChanged) return;
    this.indexChanged = setTimeout(() => {
      this.indexChanged = undefined;
      this.emitter.fire();
    }, DEBOUNCE_MS);
  }

  origin(dir: string): RunOrigin | null {
    return this.measuredUplift.origin(dir);
  }

  /**
   * Uplift and reward measured for the traces of a groups record, by sample
   * id: from runs that "Measure Uplift" made from this file's content (its
   * SHA-256, so a moved workspace keeps them), or that read it as their trace
   * source; the newest run wins. Answers at once; fires onDidChange when the
   * file's hash (computed in the background) changes the answer.
   */
  measured(groupsFile: string, problemId: string): ReadonlyMap<string, Measured> | undefined {
    return this.measuredUplift.peek(groupsFile, problemId);
  }

  refresh(): void {
    this.rescan();
  }

  private watch(): void {
    for (const w of this.watchers) w.dispose();
    this.watchers = [];
    for (const folder of this.folders()) {
      const ws = vscode.workspace.getWorkspaceFolder(vscode.Uri.file(folder));
      const rel = ws ? path.relative(ws.uri.fsPath, folder).split(path.sep).join('/') : null;
      // Inside a workspace folder: a pattern there also sees the runs folder being created.
      const pattern = ws && rel ? new vscode.RelativePattern(ws, `${rel}/**`) : new vscode.RelativePattern(vscode.Uri.file(folder), '**');
      const w = vscode.workspace.createFileSystemWatcher(pattern);
      const kick = () => this.schedule();
      w.onDidCreate(kick);
      w.onDidChange(kick);
      w.onDidDelete(kick);
      this.watchers.push(w);
    }
  }

  private schedule(): void {
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => this.rescan(), DEBOUNCE_MS);
  }

  private rescan(): void {
    const activeDirs = this.active.dirs();
    const seen = new Set<string>();
    const list: RunInfo[] = [];
    for (const folder of this.folders()) {
      for (const dir of listRunDirs(folder)) {
        const abs = path.resolve(dir);
        if (seen.has(abs)) continue;
        seen.add(abs);
        try {
          list.push(scanRun(abs, { activeDirs }));
        } catch (err) {
          this.log(`reading run ${abs}: ${(err as Error).message}`);
        }
      }
    }
    // A run of this window that has not written its files yet still shows.
    for (const dir of activeDirs) if (!seen.has(dir) && fs.existsSync(dir)) list.push(scanRun(dir, { activeDirs }));
    list.sort((a, b) => b.updatedMs - a.updatedMs);
    this.list = list;
    for (const dir of [...this.held.keys()]) if (!seen.has(dir) && !activeDirs.has(dir)) this.release(dir);
    this.measuredUplift.forget();
    void vscode.commands.executeCommand('setContext', 'tracelift.hasRuns', list.length > 0);
    void vscode.commands.executeCommand('setContext', 'tracelift.hasTwoRuns', list.length > 1);
    this.schedulePoll();
    this.emitter.fire();
  }

  /** Live runs change without file events reaching us everywhere (remote, network drives): poll while one is live. */
  private schedulePoll(): void {
    if (this.poll) clearTimeout(this.poll);
    this.poll = this.list.some((r) => r.live) ? setTimeout(() => this.rescan(), POLL_MS) : undefined;
  }

  dispose(): void {
    if (this.debounce) clearTimeout(this.debounce);
    if (this.poll) clearTimeout(this.poll);
    if (this.indexChanged) clearTimeout(this.indexChanged);
    for (const dir of [...this.held.keys()]) this.release(dir);
    if (sharedMeasuredUplift() === this.measuredUplift) setSharedMeasuredUplift(null);
    for (const d of [...this.watchers, ...this.disposables]) d.dispose();
    this.emitter.dispose();
  }
}
