/**
 * A long-lived Python child process running
 * `python -u -m tracelift_backend.math_verify_worker` (HuggingFace
 * math-verify), multiplexing many concurrent `verify()` calls over JSON lines.
 *
 * - The worker answers in input order, one line per request; requests are
 *   matched back by an internal id.
 * - If the worker dies it is restarted and the unanswered requests are sent
 *   again. A request that was at the head of the queue during two crashes, or
 *   that got no answer for `itemTimeoutMs`, is answered with an `error`
 *   instead (the worker is killed and restarted in the timeout case).
 * - A missing interpreter or a missing math-verify package rejects every
 *   pending and later call with a `MathVerifyUnavailableError` that says how
 *   to set the project up.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { delimiter, join } from 'node:path';
import { findRepoRoot, resolvePython } from './python';

export interface MathVerifyResult {
  correct: boolean;
  extracted: string | null;
  error: string | null;
  /** The final answer offered alternatives ("18 or 19") for a single-valued reference. */
  hedged: boolean;
}

export interface MathVerifyWorkerOptions {
  /** Python interpreter; default `TRACELIFT_PYTHON`, else `<repoRoot>/.venv/bin/python`. */
  pythonPath?: string;
  /** Repository root (holds backend/); default found from package.json. */
  repoRoot?: string;
  /** No answer for this long while requests wait → the head request fails with a timeout. Default 60 s. */
  itemTimeoutMs?: number;
  /** Consecutive crashes (no answer in between) before giving up. Default 3. */
  maxRestarts?: number;
  /** Extra environment for the worker (e.g. TRACELIFT_MV_ITEM_TIMEOUT). */
  env?: NodeJS.ProcessEnv;
}

export const SETUP_HINT =
  'run the README set-up: python3 -m venv .venv && .venv/bin/pip install math-verify ' +
  '(or point TRACELIFT_PYTHON / the pythonPath option at an interpreter that has math-verify)';

/** Python or math-verify is not available; retrying will not help. */
export class MathVerifyUnavailableError extends Error {
  override name = 'MathVerifyUnavailableError';
}

/** The worker keeps crashing, or was closed. */
export class MathVerifyWorkerError extends Error {
  override name = 'MathVerifyWorkerError';
}

/** Exit code the Python worker uses when math-verify cannot be imported. */
const EXIT_MISSING_DEPENDENCY = 3;
const STDERR_TAIL_CHARS = 4000;

interface Pending {
  id: string;
  line: string;
  resolve: (r: MathVerifyResult) => void;
  reject: (e: Error) => void;
  /** Crashes that happened while this request was at the head of the queue. */
  headCrashes: number;
}

interface Refable {
  ref?: () => void;
  unref?: () => void;
}

export class MathVerifyWorker {
  readonly python: string;
  readonly repoRoot: string;
  private readonly itemTimeoutMs: number;
  private readonly maxRestarts: number;
  private readonly extraEnv: NodeJS.ProcessEnv;

  private proc: ChildProcessWithoutNullStreams | null = null;
  /** Requests sent to the current process, in send order (= answer order). */
  private readonly queue: Pending[] = [];
  private readonly byId = new Map<string, Pending>();
  private nextId = 1;
  private stdoutBuf = '';
  private stderrTail = '';
  private crashesInARow = 0;
  private fatal: Error | null = null;
  private closed = false;
  private watchdog: NodeJS.Timeout | null = null;
  private killedForTimeout = false;
  private exitWaiters: (() => void)[] = [];

  constructor(opts: MathVerifyWorkerOptions = {}) {
    this.repoRoot = opts.repoRoot ?? findRepoRoot();
    this.python = resolvePython(opts.pythonPath);
    this.itemTimeoutMs = opts.itemTimeoutMs ?? 60_000;
    this.maxRestarts = opts.maxRestarts ?? 3;
    this.extraEnv = opts.env ?? {};
  }

  /** Process id of the running worker, if one is running. */
  get pid(): number | undefined {
    return this.proc?.pid;
  }

  /** Number of requests not yet answered. */
  get pendingCount(): number {
    return this.queue.length;
  }

  /** Checks `prediction` (free text) against a MATH-style `reference` answer. */
  verify(prediction: string, reference: string): Promise<MathVerifyResult> {
    if (this.closed) return Promise.reject(new MathVerifyWorkerError('MathVerifyWorker is closed'));
    if (this.fatal) return Promise.reject(this.fatal);
    return new Promise<MathVerifyResult>((resolve, reject) => {
      const id = String(this.nextId++);
      const line = JSON.stringify({ id, prediction: String(prediction), reference: String(reference) }) + '\n';
      const p: Pending = { id, line, resolve, reject, headCrashes: 0 };
      this.queue.push(p);
      this.byId.set(id, p);
      if (this.proc) {
        this.send(p);
        return;
      }
      try {
        this.ensureProcess(); // spawns and sends the whole queue, p included
      } catch (err) {
        this.failAll(err instanceof Error ? err : new Error(String(err)));
      }
    });
  }

  /** Stops the worker; unanswered calls are rejected. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.clearWatchdog();
    this.failAll(new MathVerifyWorkerError('MathVerifyWorker closed before the answer arrived'));
    const proc = this.proc;
    if (!proc || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((res) => this.exitWaiters.push(res));
    for (const h of [proc, proc.stdin, proc.stdout, proc.stderr] as Refable[]) h.ref?.();
    try {
      proc.stdin.end();
    } catch {
      /* already closed */
    }
    const timer = setTimeout(() => proc.kill('SIGKILL'), 2000);
    await exited;
    clearTimeout(timer);
  }

  // -------------------------------------------------------------------------

  private ensureProcess(): void {
    if (this.proc) return;
    const backend = join(this.repoRoot, 'backend');
    const inherited = process.env.PYTHONPATH;
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      ...this.extraEnv,
      PYTHONPATH: inherited ? backend + delimiter + inherited : backend,
      PYTHONUNBUFFERED: '1',
      PYTHONIOENCODING: 'utf-8',
    };
    const proc = spawn(this.python, ['-u', '-m', 'tracelift_backend.math_verify_worker'], {
      cwd: this.repoRoot,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
      windowsHide: true,
    });
    this.proc = proc;
    this.stdoutBuf = '';
    this.stderrTail = '';
    this.killedForTimeout = false;
    proc.stdout.setEncoding('utf8');
    proc.stderr.setEncoding('utf8');
    proc.stdout.on('data', (chunk: string) => this.onStdout(proc, chunk));
    proc.stderr.on('data', (chunk: string) => {
      this.stderrTail = (this.stderrTail + chunk).slice(-STDERR_TAIL_CHARS);
    });
    proc.stdin.on('error', () => {
      /* EPIPE when the worker died; the exit handler deals with it */
    });
    proc.on('error', (err: NodeJS.ErrnoException) => this.onSpawnError(proc, err));
    proc.on('exit', (code, signal) => this.onExit(proc, code, signal));
    // Re-send everything not answered yet (after a restart).
    for (const p of this.queue) this.send(p);
    this.updateRef();
  }

  private send(p: Pending): void {
    const proc = this.proc;
    if (!proc) return;
    try {
      proc.stdin.write(p.line);
    } catch {
      /* the exit handler re-sends */
    }
    this.updateRef();
    if (!this.watchdog) this.armWatchdog();
  }

  private onStdout(proc: ChildProcessWithoutNullStreams, chunk: string): void {
    if (proc !== this.proc) return;
    this.stdoutBuf += chunk;
    let nl: number;
    while ((nl = this.stdoutBuf.indexOf('\n')) >= 0) {
      const line = this.stdoutBuf.slice(0, nl).trim();
      this.stdoutBuf = this.stdoutBuf.slice(nl + 1);
      if (line) this.onLine(line);
    }
  }

  private onLine(line: string): void {
    let msg: { id?: unknown; correct?: unknown; extracted?: unknown; error?: unknown; hedged?: unknown };
    try {
      msg = JSON.parse(line) as typeof msg;
    } catch {
      return; // not a protocol line
    }
    if (typeof msg !== 'object' || msg === null) return;
    const id = typeof msg.id === 'string' ? msg.id : msg.id === undefined || msg.id === null ? null : String(msg.id);
    // Answers come in order; an unmatched id falls back to the head of the queue.
    const p = (id !== null ? this.byId.get(id) : undefined) ?? (id === null ? this.queue[0] : undefined);
    if (!p) return;
    this.crashesInARow = 0;
    this.settle(p);
    const error = typeof msg.error === 'string' ? msg.error : null;
    p.resolve({
      // An item the worker could not check is never correct.
      correct: msg.correct === true && error === null,
      extracted: typeof msg.extracted === 'string' ? msg.extracted : null,
      error,
      hedged: msg.hedged === true,
    });
    this.rearmWatchdog();
  }

  private settle(p: Pending): void {
    this.byId.delete(p.id);
    const i = this.queue.indexOf(p);
    if (i >= 0) this.queue.splice(i, 1);
    this.updateRef();
  }

  private onSpawnError(proc: ChildProcessWithoutNullStreams, err: NodeJS.ErrnoException): void {
    if (proc !== this.proc) return;
    this.proc = null;
    this.clearWatchdog();
    const reason =
      err.code === 'ENOENT'
        ? `Python interpreter not found: ${this.python}`
        : err.code === 'EACCES'
          ? `Python interpreter is not executable: ${this.python}`
          : `cannot start ${this.python}: ${err.message}`;
    this.fatal = new MathVerifyUnavailableError(`math verification unavailable: ${reason}; ${SETUP_HINT}`);
    this.failAll(this.fatal);
    this.notifyExit();
  }

  private onExit(proc: ChildProcessWithoutNullStreams, code: number | null, signal: NodeJS.Signals | null): void {
    if (proc !== this.proc) {
      this.notifyExit();
      return;
    }
    this.proc = null;
    this.clearWatchdog();
    this.notifyExit();
    if (this.closed) return;
    const tail = this.stderrTail.trim().split('\n').slice(-5).join('\n');
    if (code === EXIT_MISSING_DEPENDENCY || /No module named ['"]?(math_verify|tracelift_backend)/.test(tail)) {
      this.fatal = new MathVerifyUnavailableError(
        `math verification unavailable: ${this.python} cannot import math-verify (${tail || `exit ${code}`}); ${SETUP_HINT}`,
      );
      this.failAll(this.fatal);
      return;
    }
    if (this.queue.length === 0) return; // idle exit: restart lazily on the next call
    if (this.killedForTimeout) {
      this.killedForTimeout = false; // the stuck request was already answered
    } else {
      this.crashesInARow++;
      const head = this.queue[0];
      if (head) {
        head.headCrashes++;
        if (head.headCrashes >= 2) {
          this.settle(head);
          head.resolve({
            correct: false,
            extracted: null,
            error: `math-verify worker crashed on this item (exit ${code ?? signal})`,
            hedged: false,
          });
        }
      }
      if (this.crashesInARow > this.maxRestarts) {
        this.failAll(
          new MathVerifyWorkerError(
            `math-verify worker keeps dying (exit ${code ?? signal}, ${this.crashesInARow} times in a row): ${tail}`,
          ),
        );
        this.crashesInARow = 0;
        return;
      }
    }
    if (this.queue.length > 0) {
      try {
        this.ensureProcess();
      } catch (err) {
        this.failAll(err instanceof Error ? err : new Error(String(err)));
      }
    }
  }

  private notifyExit(): void {
    const waiters = this.exitWaiters.splice(0);
    for (const w of waiters) w();
  }

  private failAll(err: Error): void {
    const all = this.queue.splice(0);
    this.byId.clear();
    for (const p of all) p.reject(err);
    this.clearWatchdog();
    this.updateRef();
  }

  // -- watchdog -------------------------------------------------------------

  private armWatchdog(): void {
    this.clearWatchdog();
    if (this.queue.length === 0 || !this.proc) return;
    this.watchdog = setTimeout(() => this.onWatchdog(), this.itemTimeoutMs);
  }

  private rearmWatchdog(): void {
    if (this.queue.length === 0) this.clearWatchdog();
    else this.armWatchdog();
  }

  private clearWatchdog(): void {
    if (this.watchdog) clearTimeout(this.watchdog);
    this.watchdog = null;
  }

  private onWatchdog(): void {
    this.watchdog = null;
    const proc = this.proc;
    const head = this.queue[0];
    if (!proc || !head) return;
    this.settle(head);
    head.resolve({
      correct: false,
      extracted: null,
      error: `math-verify gave no answer within ${this.itemTimeoutMs} ms (worker restarted)`,
      hedged: false,
    });
    this.killedForTimeout = true;
    proc.kill('SIGKILL');
  }

  // -- keep an idle worker from holding the Node event loop open -------------

  private updateRef(): void {
    const proc = this.proc;
    if (!proc) return;
    const busy = this.queue.length > 0;
    for (const h of [proc, proc.stdin, proc.stdout, proc.stderr] as Refable[]) {
      if (busy) h.ref?.();
      else h.unref?.();
    }
  }
}
