// The switch from replay to live, driven step by step on the memory store: live messages that
// the hub offers while the replay is still reading are sent once, after it; and when the
// client's cursor is ahead of the hub (it came from a process whose reader was further on),
// what the hub offers up to that cursor is not sent again.
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import type { StreamItem, StreamReadOptions } from "../../packages/core/src/store/deliveryPorts.js";
import { createMemoryDeliveryStore } from "../../packages/core/src/store/memory/deliveryStore.js";
import { STREAM_DEFAULTS } from "../../packages/server/src/config/streamSettings.js";
import { createStreamHub } from "../../packages/server/src/server/streams/streamHub.js";
import {
  createStreamSession,
  type StreamSink,
} from "../../packages/server/src/server/streams/streamSession.js";
import { systemClock } from "../../packages/webhooks/src/core/clock.js";

const logger = pino({ level: "silent" });
const token = {
  id: "stk_01JAAAAAAAAAAAAAAAAAAAAAAA",
  tenant: "acme",
  eventTypes: ["*"],
  tokenHash: "0".repeat(64),
  createdAt: new Date().toISOString(),
  expiresAt: new Date(Date.now() + 60_000).toISOString(),
  revokedAt: null,
};

function sink(): StreamSink & { sent: StreamItem[] } {
  const sent: StreamItem[] = [];
  return {
    sent,
    send: (item) => sent.push(item),
    buffered: () => 0,
    drained: async () => {},
    ping: () => true,
    end: () => {},
  };
}

const until = (check: () => boolean) =>
  new Promise<void>((resolve) => {
    const poll = () => (check() ? resolve() : setTimeout(poll, 2));
    poll();
  });

describe("stream session: replay, then live", () => {
  it("sends what the hub offered during the replay once, after the replay", async () => {
    const store = createMemoryDeliveryStore();
    const put = async (n: number) =>
      (
        await store.createMessage({
          message: { type: "t.x", tenant: "acme", payload: { n } },
          deliveries: [],
        })
      ).message.id;
    const first = await put(1);
    await put(2);
    await put(3);
    const [m1] = await store.readStream({ after: "0", limit: 1 });
    expect(m1!.message.id).toBe(first);
    // The replay's read waits at a gate while the hub goes on.
    let open: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      open = resolve;
    });
    let replayReads = 0;
    const gated = {
      ...store,
      async readStream(options: StreamReadOptions) {
        replayReads++;
        await gate;
        return store.readStream(options);
      },
    };
    const offered: string[] = [];
    const hub = createStreamHub({
      store: {
        latestStreamCursor: () => store.latestStreamCursor(),
        async readStream(options) {
          const items = await store.readStream(options);
          offered.push(...items.map((i) => i.message.id));
          return items;
        },
      },
      pollMs: 5,
    });
    const session = createStreamSession({
      hub,
      store: gated,
      token,
      types: null,
      after: m1!.cursor,
      live: true,
      settings: STREAM_DEFAULTS,
      clock: systemClock,
      logger,
    });
    await session.open();
    const out = sink();
    const running = session.run(out);
    await until(() => replayReads === 1);
    const m4 = await put(4);
    const m5 = await put(5);
    await until(() => offered.includes(m5));
    expect(out.sent).toEqual([]);
    open();
    await running;
    const m6 = await put(6);
    await until(() => out.sent.length >= 5);
    await new Promise((r) => setTimeout(r, 30));
    expect(out.sent.map((i) => i.message.payload)).toEqual([
      { n: 2 },
      { n: 3 },
      { n: 4 },
      { n: 5 },
      { n: 6 },
    ]);
    expect([m4, m5, m6].every((id) => out.sent.some((i) => i.message.id === id))).toBe(true);
    session.close("client_closed");
  });

  it("does not send again what the client already had when its cursor is ahead of the hub", async () => {
    const store = createMemoryDeliveryStore();
    const put = (n: number) =>
      store.createMessage({
        message: { type: "t.x", tenant: "acme", payload: { n } },
        deliveries: [],
      });
    await put(1);
    // A long poll: the hub reads only when the test says so (by waiting past it).
    const hub = createStreamHub({ store, pollMs: 200 });
    const make = (after: string | null) =>
      createStreamSession({
        hub,
        store,
        token,
        types: null,
        after,
        live: true,
        settings: STREAM_DEFAULTS,
        clock: systemClock,
        logger,
      });
    const early = make(null);
    await early.open(); // the hub's position: after message 1
    const earlyOut = sink();
    void early.run(earlyOut);
    await put(2);
    await put(3);
    // The client read up to message 2 from another process, whose reader was ahead.
    const [, m2] = await store.readStream({ after: "0", limit: 2 });
    const late = make(m2!.cursor);
    await late.open();
    const lateOut = sink();
    void late.run(lateOut);
    await until(() => earlyOut.sent.length >= 2);
    await until(() => lateOut.sent.length >= 1);
    await new Promise((r) => setTimeout(r, 30));
    expect(earlyOut.sent.map((i) => i.message.payload)).toEqual([{ n: 2 }, { n: 3 }]);
    expect(lateOut.sent.map((i) => i.message.payload)).toEqual([{ n: 3 }]);
    early.close("client_closed");
    late.close("client_closed");
  });
});

describe("stream hub", () => {
  it("refuses to attach once shut down (a late stream would hold the stop up)", async () => {
    const store = createMemoryDeliveryStore();
    const hub = createStreamHub({ store, pollMs: 1000 });
    const subscriber = { tokenId: token.id, offer() {}, close() {} };
    await hub.attach(subscriber);
    expect(hub.open).toBe(1);
    hub.detach(subscriber);
    hub.closeAll("shutdown");
    await expect(hub.attach(subscriber)).rejects.toMatchObject({ code: "server.shutting_down" });
    expect(hub.open).toBe(0);
  });
});
