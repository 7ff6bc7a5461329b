/**
 * A ref-counted map of shared instances (one RunStore per run directory,
 * shared by every view that shows the run). The last release disposes the
 * instance after a grace period, so closing and reopening a view does not
 * re-index a large run. No `vscode` import.
 */
export interface Lease<T> {
  readonly value: T;
  /** Idempotent. */
  dispose(): void;
}

interface Entry<T> {
  value: T;
  refs: number;
  timer: NodeJS.Timeout | null;
}

export class RefCounted<T extends { dispose(): void }> {
  private readonly entries = new Map<string, Entry<T>>();

  constructor(
    private readonly create: (key: string) => T,
    private readonly graceMs = 15_000,
  ) {}

  acquire(key: string): Lease<T> {
    let e = this.entries.get(key);
    if (!e) {
      e = { value: this.create(key), refs: 0, timer: null };
      this.entries.set(key, e);
    }
    if (e.timer) {
      clearTimeout(e.timer);
      e.timer = null;
    }
    e.refs++;
    const entry = e;
    let released = false;
    return {
      value: e.value,
      dispose: () => {
        if (released) return;
        released = true;
        this.release(key, entry);
      },
    };
  }

  private release(key: string, e: Entry<T>): void {
    e.refs--;
    if (e.refs > 0 || this.entries.get(key) !== e) return;
    const drop = () => {
      if (e.refs > 0 || this.entries.get(key) !== e) return;
      this.entries.delete(key);
      e.value.dispose();
    };
    if (this.graceMs <= 0) drop();
    else {
      e.timer = setTimeout(drop, this.graceMs);
      e.timer.unref?.();
    }
  }

  /** Instances currently held (acquired or in their grace period). */
  keys(): string[] {
    return [...this.entries.keys()];
  }

  refs(key: string): number {
    return this.entries.get(key)?.refs ?? 0;
  }

  dispose(): void {
    for (const e of this.entries.values()) {
      if (e.timer) clearTimeout(e.timer);
      e.value.dispose();
    }
    this.entries.clear();
  }
}
