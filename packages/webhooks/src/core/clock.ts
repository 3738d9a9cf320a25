// Time is injected everywhere (tolerance windows, TTLs, retry schedules) so tests never sleep.

export interface Clock {
  /** Current time in milliseconds since the Unix epoch. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to; for tests and simulations. */
export class ManualClock implements Clock {
  private current: number;

  constructor(start: number | Date = 0) {
    this.current = typeof start === "number" ? start : start.getTime();
  }

  now(): number {
    return this.current;
  }

  set(to: number | Date): void {
    this.current = typeof to === "number" ? to : to.getTime();
  }

  advance(ms: number): void {
    this.current += ms;
  }
}
