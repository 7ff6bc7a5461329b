/**
 * RunStore: the extension host's authoritative buffer of one run directory,
 * shared (ref-counted) by every view of the run. It wraps the vscode-free
 * RunTail/RunIndex with a vscode.EventEmitter.
 *
 *   const lease = runStores.acquire(runDir);   // shared per run directory
 *   lease.value.onDidChange(() => …);          // new groups, status, issues
 *   lease.value.index.state();                 // summary, histogram, status (live vs ended)
 *   lease.dispose();                           // last one out stops tailing (after a grace period)
 */
import * as path from 'node:path';
import * as vscode from 'vscode';
import { RefCounted, type Lease } from './refCounted';
import type { RunIndex } from './runIndex';
import { RunTail, type RunChange, type RunSource, type RunTailOptions } from './runTail';

export class RunStore implements RunSource, vscode.Disposable {
  private readonly emitter = new vscode.EventEmitter<RunChange>();
  /** Fires after new events were indexed, the run's status changed, or a search progressed. */
  readonly onDidChange: vscode.Event<RunChange> = this.emitter.event;
  private readonly tail: RunTail;

  constructor(
    readonly runDir: string,
    opts: RunTailOptions = {},
  ) {
    this.tail = new RunTail(runDir, opts);
    this.tail.onChange((c) => this.emitter.fire(c));
    this.tail.start();
  }

  get index(): RunIndex {
    return this.tail.index;
  }

  /** True until a run_ended event (or when the run directory is missing / not started). */
  get live(): boolean {
    const s = this.index.status;
    return s === 'running' || s === 'waiting';
  }

  onChange(listener: (change: RunChange) => void): vscode.Disposable {
    return this.emitter.event(listener);
  }

  kick(): void {
    this.tail.kick();
  }

  whenIdle(): Promise<void> {
    return this.tail.whenIdle();
  }

  dispose(): void {
    this.tail.dispose();
    this.emitter.dispose();
  }
}

/** One RunStore per run directory (resolved path), shared by all views. */
export class RunStoreRegistry implements vscode.Disposable {
  private readonly shared: RefCounted<RunStore>;

  constructor(opts: RunTailOptions & { graceMs?: number } = {}) {
    this.shared = new RefCounted((dir) => new RunStore(dir, opts), opts.graceMs ?? 15_000);
  }

  acquire(runDir: string): Lease<RunStore> {
    return this.shared.acquire(path.resolve(runDir));
  }

  dispose(): void {
    this.shared.dispose();
  }
}
