/** What a running task can ask about itself. */
export interface FlightHandle {
  /**
   * True once an invalidation covered the key while the task ran: its result
   * may predate the change, so it goes to the callers already waiting but is
   * not stored, and later callers start a fresh task.
   */
  readonly detached: boolean;
}

interface Flight<R> {
  readonly promise: Promise<R>;
  readonly handle: { detached: boolean };
}

/**
 * Runs at most one task per key at a time: callers asking for a key whose
 * task is still running share its promise (a miss storm makes one load). A
 * rejection reaches every caller of that flight and is not remembered: the
 * next call after it settles runs the task again.
 */
export class SingleFlight<R> {
  private readonly flights = new Map<string, Flight<R>>();

  run(key: string, task: (handle: FlightHandle) => Promise<R>): Promise<R> {
    const running = this.flights.get(key);
    if (running) return running.promise;

    const handle = { detached: false };
    // Through `then`, so a task that throws synchronously still rejects the shared promise.
    const promise = Promise.resolve()
      .then(() => task(handle))
      .finally(() => {
        if (this.flights.get(key)?.promise === promise) this.flights.delete(key);
      });
    this.flights.set(key, { promise, handle });
    return promise;
  }

  /** Detaches the running flights whose key satisfies `matches` (see FlightHandle.detached). */
  detach(matches: (key: string) => boolean): void {
    for (const [key, flight] of this.flights) {
      if (!matches(key)) continue;
      flight.handle.detached = true;
      this.flights.delete(key);
    }
  }

  /** Flights running and still joinable. */
  get size(): number {
    return this.flights.size;
  }
}
