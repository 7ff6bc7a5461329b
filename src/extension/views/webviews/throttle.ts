/**
 * Coalesces bursts of run changes into at most one push per `ms`: the first
 * change after a quiet period goes out on the next turn of the event loop
 * (so a chunk of events costs one push), later ones wait for the interval.
 */
export class Throttle {
  private timer: NodeJS.Timeout | null = null;
  private last = 0;
  private disposed = false;

  constructor(
    private readonly ms: number,
    private readonly fn: () => void,
  ) {}

  schedule(): void {
    if (this.timer || this.disposed) return;
    const wait = Math.max(0, this.last + this.ms - Date.now());
    this.timer = setTimeout(() => {
      this.timer = null;
      if (this.disposed) return;
      this.last = Date.now();
      this.fn();
    }, wait);
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
