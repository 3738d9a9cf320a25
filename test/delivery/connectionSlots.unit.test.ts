// The per-URL connection slots the broker transports share: one connection per key, reused
// while usable, reopened at once after a break, and after a failed connect no new connect until
// the back-off has passed (sends fail with the last error meanwhile); and the draining
// send/close life: a send in flight at close() ends first, a send after it fails.
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import { succeededAttempt } from "../../packages/core/src/delivery/transports/attemptResult.js";
import {
  createConnectionSlots,
  type SlotConnector,
} from "../../packages/core/src/delivery/transports/connectionSlots.js";
import { createDrainingTransport } from "../../packages/core/src/delivery/transports/drainingTransport.js";
import type { TransportSendInput } from "../../packages/core/src/delivery/transports/types.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";

interface FakeConnection {
  n: number;
  broken: boolean;
}

function connector(): SlotConnector<FakeConnection> & { opened: FakeConnection[]; fail: boolean } {
  const state = {
    opened: [] as FakeConnection[],
    fail: false,
    async open() {
      if (state.fail) throw new Error(`refused #${state.opened.length + 1}`);
      const connection = { n: state.opened.length + 1, broken: false };
      state.opened.push(connection);
      return connection;
    },
    usable: (connection: FakeConnection) => !connection.broken,
    describe: (error: unknown) => `network: ${(error as Error).message}`,
  };
  return state;
}

describe("connection slots", () => {
  it("one connection per key, shared by concurrent connects, reopened at once after a break", async () => {
    const slots = createConnectionSlots<FakeConnection>({ baseMs: 1000, maxMs: 1000 });
    const c = connector();
    const [a, b] = await Promise.all([slots.connect("k", c), slots.connect("k", c)]);
    expect(a).toBe(b);
    expect(c.opened).toHaveLength(1);
    expect((await slots.connect("other", c)).n).toBe(2);
    a.broken = true;
    expect((await slots.connect("k", c)).n).toBe(3);
    expect(slots.removeAll()).toHaveLength(2);
  });

  it("a failed connect backs off: sends fail at once with its error until the wait has passed", async () => {
    const slots = createConnectionSlots<FakeConnection>({ baseMs: 200, maxMs: 200 });
    const c = connector();
    c.fail = true;
    await expect(slots.connect("k", c)).rejects.toThrow("network: refused #1");
    await expect(slots.connect("k", c)).rejects.toThrow("network: refused #1");
    c.fail = false;
    await expect(slots.connect("k", c)).rejects.toThrow("network: refused #1");
    await sleep(250);
    expect((await slots.connect("k", c)).n).toBe(1);
    slots.succeeded("k");
  });
});

describe("draining transport", () => {
  it("close() waits for the sends in flight; a send after it fails as closed", async () => {
    const clock = new ManualClock(0);
    let finish: (() => void) | undefined;
    const events: string[] = [];
    const transport = createDrainingTransport({
      name: "queue",
      clock,
      thrownFallback: "send failed",
      attempt: async (_input, timer) => {
        await new Promise<void>((resolve) => {
          finish = resolve;
        });
        events.push("sent");
        return succeededAttempt(timer, null);
      },
      release: async () => {
        events.push("released");
      },
    });
    const input = {} as TransportSendInput;
    const inFlight = transport.send(input);
    expect(transport.isClosing()).toBe(false);
    const closing = transport.close();
    expect(transport.isClosing()).toBe(true);
    const refused = await transport.send(input);
    expect(refused.attempt.error).toBe("queue: the transport is closed");
    expect(refused.classification).toEqual({ outcome: "retry", reason: "network_error" });
    finish?.();
    expect((await inFlight).attempt.succeeded).toBe(true);
    await closing;
    await transport.close();
    expect(events).toEqual(["sent", "released"]);
  });

  it("an attempt that throws is a failed attempt named by the transport", async () => {
    const transport = createDrainingTransport({
      name: "queue",
      clock: new ManualClock(0),
      thrownFallback: "send failed",
      attempt: async () => {
        throw new Error("socket gone");
      },
      release: async () => {},
    });
    const result = await transport.send({} as TransportSendInput);
    expect(result.attempt.error).toBe("queue: socket gone");
    expect(result.classification).toEqual({ outcome: "retry", reason: "network_error" });
  });
});
