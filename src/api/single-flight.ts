/**
 * Request coalescing: concurrent identical reads share one HTTP request.
 *
 * A Terraform refresh of thousands of access resources asks for the same
 * member list many times at once; with coalescing that is one request. Only
 * calls that overlap in time share: once the request settles, the next call
 * goes to the server again, so nothing is ever served stale.
 *
 * Callers may be cancelled one by one: a caller whose AbortSignal fires
 * stops waiting at once, and the shared request is aborted only when every
 * caller waiting for it has been cancelled.
 */
interface Flight {
  promise: Promise<unknown>;
  controller: AbortController;
  /** Callers still waiting; a caller without a signal never stops waiting. */
  waiting: number;
}

export class SingleFlight {
  private readonly inFlight = new Map<string, Flight>();

  /**
   * Runs `work` unless a call with the same key is already running, in which
   * case it waits for that one. The first caller gets the result itself;
   * the others get a structured clone, so a caller that mutates its copy
   * cannot change what another caller sees.
   *
   * @param work receives a signal that fires when every caller has been cancelled.
   * @param signal this caller's cancellation; when it fires, this call rejects with `cancelled()`.
   * @param cancelled the error a cancelled caller rejects with.
   */
  run<T>(key: string, work: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal, cancelled: () => unknown = () => signal?.reason): Promise<T> {
    if (signal?.aborted) return Promise.reject(cancelled());
    let flight = this.inFlight.get(key);
    let result: Promise<T>;
    if (flight) {
      result = flight.promise.then((value) => structuredClone(value) as T);
    } else {
      const controller = new AbortController();
      const started = work(controller.signal);
      const created: Flight = { promise: started, controller, waiting: 0 };
      started.then(
        () => this.forget(key, created),
        () => this.forget(key, created),
      );
      this.inFlight.set(key, created);
      flight = created;
      result = started;
    }
    flight.waiting++;
    if (signal === undefined) return result;

    const shared = flight;
    return new Promise<T>((resolve, reject) => {
      const leave = (): void => {
        shared.waiting--;
        if (shared.waiting === 0) {
          // Nobody wants the answer any more; later callers start afresh.
          this.forget(key, shared);
          shared.controller.abort(signal.reason);
        }
        reject(cancelled());
      };
      signal.addEventListener("abort", leave, { once: true });
      result.then(resolve, reject).finally(() => signal.removeEventListener("abort", leave));
    });
  }

  /** Number of distinct requests in flight (for tests and metrics). */
  get size(): number {
    return this.inFlight.size;
  }

  private forget(key: string, flight: Flight): void {
    if (this.inFlight.get(key) === flight) this.inFlight.delete(key);
  }
}
