/**
 * Request coalescing: concurrent identical reads share one HTTP request.
 *
 * A Terraform refresh of thousands of access resources asks for the same
 * member list many times at once; with coalescing that is one request. Only
 * calls that overlap in time share: once the request settles, the next call
 * goes to the server again, so nothing is ever served stale.
 */
export class SingleFlight {
  private readonly inFlight = new Map<string, Promise<unknown>>();

  /**
   * Runs `work` unless a call with the same key is already running, in which
   * case it waits for that one. The first caller gets the result itself;
   * the others get a structured clone, so a caller that mutates its copy
   * cannot change what another caller sees.
   */
  run<T>(key: string, work: () => Promise<T>): Promise<T> {
    const running = this.inFlight.get(key);
    if (running) return running.then((value) => structuredClone(value) as T);
    const started = work().finally(() => this.inFlight.delete(key));
    this.inFlight.set(key, started);
    return started;
  }

  /** Number of distinct requests in flight (for tests and metrics). */
  get size(): number {
    return this.inFlight.size;
  }
}
