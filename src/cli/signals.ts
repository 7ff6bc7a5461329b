/**
 * SIGINT and SIGTERM cancel a CLI run: the first one aborts (the run stops
 * starting groups, drops those in flight, ends "cancelled" and the command
 * exits 130); a second one exits at once, after each open run has written
 * its last words (summary.json and run_ended, synchronously). An uncaught
 * error does the same with "failed" and exit code 1, so no run is left
 * "running" by a process that is gone.
 */
import { setMaxListeners } from 'node:events';
import { ExitGuard } from '../engine/run/exitGuard';

/** The exit code of a run ended by a signal (128 + SIGINT, what shells expect of Ctrl-C). */
export const CANCELLED_EXIT_CODE = 130;

export interface CancelOnSignals {
  signal: AbortSignal;
  /** Runs register their last words here (runEval's exitGuard). */
  guard: ExitGuard;
  /** Removes the handlers (the command is done). */
  dispose(): void;
}

export function cancelOnSignals(log: (line: string) => void, proc: NodeJS.Process = process): CancelOnSignals {
  const controller = new AbortController();
  const guard = new ExitGuard();
  const onSignal = (name: NodeJS.Signals) => {
    if (!controller.signal.aborted) {
      log(`${name}: cancelling — groups in flight are dropped (send it again to quit now)…`);
      controller.abort(new Error(`cancelled by ${name}`));
      return;
    }
    guard.endAll('cancelled', `cancelled by a second ${name}: quit at once, groups in flight were not written`);
    proc.exit(CANCELLED_EXIT_CODE);
  };
  const onUncaught = (err: unknown) => {
    const message = err instanceof Error ? (err.stack ?? err.message) : String(err);
    log(`tracelift: internal error: ${message}`);
    guard.endAll('failed', `internal error: ${err instanceof Error ? err.message : String(err)}`);
    proc.exit(1);
  };
  // A parent that went away closes our pipes: writing a line must not turn a cancel into a failure
  // (kept after dispose: the last writes may fail after the command is done).
  const onPipeError = (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') onUncaught(err);
  };
  proc.stdout.on('error', onPipeError);
  proc.stderr.on('error', onPipeError);
  // Executor clients, the runner, and each RM request in flight (fetch and its backoff) listen to
  // the signal: more than the default 10 at once is expected with a concurrent RM.
  setMaxListeners(0, controller.signal);
  proc.on('SIGINT', onSignal);
  proc.on('SIGTERM', onSignal);
  proc.on('uncaughtException', onUncaught);
  proc.on('unhandledRejection', onUncaught);
  return {
    signal: controller.signal,
    guard,
    dispose: () => {
      proc.removeListener('SIGINT', onSignal);
      proc.removeListener('SIGTERM', onSignal);
      proc.removeListener('uncaughtException', onUncaught);
      proc.removeListener('unhandledRejection', onUncaught);
    },
  };
}
