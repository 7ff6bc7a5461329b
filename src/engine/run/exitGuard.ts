/**
 * Last words of the runs a process is writing. A process about to exit
 * without unwinding (a second Ctrl-C, an uncaught error) calls endAll(), and
 * each open run writes, synchronously, summary.json with its final status and
 * a run_ended event, so no run is left "running" by a process that is gone.
 * (A kill -9 gives no chance to: the next open of the run repairs what it can.)
 */
export type RunLastWords = (status: 'failed' | 'cancelled', message: string) => void;

export class ExitGuard {
  private readonly open = new Set<RunLastWords>();

  /** Registers a run's last words; the returned function unregisters them (the run ended normally). */
  register(lastWords: RunLastWords): () => void {
    this.open.add(lastWords);
    return () => this.open.delete(lastWords);
  }

  /** Ends every run still open; never throws (the process is exiting). */
  endAll(status: 'failed' | 'cancelled', message: string): void {
    for (const lastWords of [...this.open]) {
      this.open.delete(lastWords);
      try {
        lastWords(status, message);
      } catch {
        // Nothing more can be done for this run; the others still get their turn.
      }
    }
  }

  get openRuns(): number {
    return this.open.size;
  }
}
