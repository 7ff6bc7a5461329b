/**
 * Abort signals of their own for an executor client's calls, aborted when any
 * of the client's long-lived signals (the caller's cancel, the circuit
 * breaker's) is. The openai SDK adds an abort listener to the signal it is
 * given on every attempt and never removes it: given a long-lived signal,
 * those piled up over a run (MaxListenersExceededWarning). Here they land on a
 * per-call signal that goes away with the call, and each long-lived signal
 * carries one listener, only while calls are in flight, whatever the concurrency.
 */
export class RequestSignals {
  private readonly inFlight = new Set<AbortController>();

  constructor(private readonly shared: readonly AbortSignal[]) {}

  /** Runs `call` with a signal aborted (with the same reason) when any shared signal is, or already was. */
  async run<T>(call: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const request = new AbortController();
    const aborted = this.shared.find((s) => s.aborted);
    if (aborted) request.abort(aborted.reason);
    if (this.inFlight.size === 0) for (const s of this.shared) s.addEventListener('abort', this.abortInFlight);
    this.inFlight.add(request);
    try {
      return await call(request.signal);
    } finally {
      this.inFlight.delete(request);
      if (this.inFlight.size === 0) for (const s of this.shared) s.removeEventListener('abort', this.abortInFlight);
    }
  }

  private readonly abortInFlight = (event: Event): void => {
    const reason: unknown = (event.target as AbortSignal).reason;
    for (const request of [...this.inFlight]) request.abort(reason);
  };
}
