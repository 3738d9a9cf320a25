// A counting semaphore: at most `limit` holders at once, waiters served first come, first served.

interface ConcurrencyGate {
  /** Resolves with a release function once a slot is free; call it exactly once. */
  acquire(): Promise<() => void>;
  /** Holders plus waiters. */
  readonly load: number;
}

export function createConcurrencyGate(limit: number): ConcurrencyGate {
  let active = 0;
  const waiting: Array<() => void> = [];

  function release(): void {
    const next = waiting.shift();
    if (next === undefined) active -= 1;
    else next(); // the slot passes straight to the next waiter
  }

  function releaser(): () => void {
    let done = false;
    return () => {
      if (done) return;
      done = true;
      release();
    };
  }

  return {
    acquire() {
      if (active < limit) {
        active += 1;
        return Promise.resolve(releaser());
      }
      return new Promise((resolve) => waiting.push(() => resolve(releaser())));
    },
    get load() {
      return active + waiting.length;
    },
  };
}
