// PostgreSQL createMessages' one-statement path (src/store/postgres/createMessagesFast.ts): a
// batch without idempotency keys and without two inputs sharing a dedupe key is written by one
// autocommit statement; inputs whose key is held live, a deleted endpoint, and every other batch
// take the transaction path, with the results that path gives. Statements are counted by
// wrapping the query function of each connection of the store's pool.
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createMemoryDeliveryStore } from "../../packages/core/src/store/memory/deliveryStore.js";
import type {
  CreateMessageInput,
  CreateMessageResult,
  DeliveryStore,
} from "../../packages/core/src/store/ports.js";
import { createPgPool, type PgPool } from "../../packages/postgres/src/store/postgres/database.js";
import { createPostgresDeliveryStore } from "../../packages/postgres/src/store/postgres/deliveryStore.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import { input } from "../contracts/deliveryStore/batches.js";
import {
  allDeliveryIds,
  DEDUPE_TTL,
  dedupe,
  makeEndpoint,
  START,
} from "../contracts/deliveryStore/fixtures.js";
import { createTestSchema, type TestSchema } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";

const available = await serviceAvailable("postgres");

const TTL = DEDUPE_TTL;

/** What a statement sent to the server was: its text's first line, or the prepared name. */
type Sent = { name: string | undefined; text: string };

function statementOf(arg: unknown): Sent {
  if (typeof arg === "string") return { name: undefined, text: arg };
  const config = arg as { name?: string; text: string };
  return { name: config.name, text: config.text };
}

/** A pool whose every connection records the statements it runs into `sent`. */
function recordingPool(schema: TestSchema, sent: Sent[], max = 4): PgPool {
  const pool = createPgPool({ connectionString: schema.url, schema: schema.schema, max });
  pool.on("connect", (client) => {
    const query = client.query.bind(client) as (...args: unknown[]) => unknown;
    (client as { query: unknown }).query = (...args: unknown[]) => {
      const statement = statementOf(args[0]);
      // The pool's own plan refresh (database.ts) is not the store's.
      if (statement.text !== "DISCARD PLANS") sent.push(statement);
      return query(...args);
    };
  });
  return pool;
}

const isFast = (s: Sent) => s.name?.startsWith("herald_create_messages_") === true;
const isBegin = (s: Sent) => s.text.startsWith("BEGIN");

/** Created flags, and for each duplicate the index of the first result with its message. */
function shape(results: readonly CreateMessageResult[]): string[] {
  return results.map((r, i) => {
    const first = results.findIndex((o) => o.message.id === r.message.id);
    return r.created ? `created${first === i ? "" : ` twice as ${first}`}` : `dup of ${first}`;
  });
}

// Skipped only when PostgreSQL is down outside CI; under CI=true serviceAvailable throws instead.
describe.skipIf(!available)("postgres createMessages: one-statement path", () => {
  let schema: TestSchema;
  let pool: PgPool;
  let sent: Sent[];
  let clock: ManualClock;
  let store: DeliveryStore;
  const extraPools: PgPool[] = [];

  beforeAll(async () => {
    schema = await createTestSchema("ingest_fast_path");
    sent = [];
    pool = recordingPool(schema, sent);
  });
  afterAll(async (suite) => {
    await pool.end();
    await schema.dropIfPassed(suite);
  });
  beforeEach(async () => {
    await schema.pool.query(
      "TRUNCATE inbound_keys, attempts, deliveries, messages, endpoints, sources, event_types CASCADE",
    );
    clock = new ManualClock(START);
    store = createPostgresDeliveryStore(pool, { clock });
    sent.length = 0;
  });
  afterEach(async () => {
    await Promise.all(extraPools.splice(0).map((p) => p.end()));
  });

  /** Runs `fn`, answering what it resolved to and the statements it sent. */
  async function recorded<T>(fn: () => Promise<T>): Promise<{ value: T; statements: Sent[] }> {
    sent.length = 0;
    const value = await fn();
    return { value, statements: [...sent] };
  }

  async function count(table: string): Promise<number> {
    const { rows } = await schema.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${table}`,
    );
    return rows[0]!.n;
  }

  it("an eligible batch is one statement: no BEGIN, no read, every input created", async () => {
    const a = await makeEndpoint(store);
    const b = await makeEndpoint(store);
    const inputs = [
      input([a.id], { payload: { i: 0 } }, dedupe("k-0")),
      input([a.id, b.id], { payload: null }, dedupe("k-1")),
      input([], { payload: [1, "two"] }), // no dedupe key
      input([b.id], { payload: "text" }, dedupe("k-1", { source: "crm" })),
    ];
    const { value: results, statements } = await recorded(() => store.createMessages(inputs));
    expect(statements).toHaveLength(1);
    expect(isFast(statements[0]!)).toBe(true);
    expect(results.map((r) => r.created)).toEqual([true, true, true, true]);
    expect(results.map((r) => r.message.payload)).toEqual([{ i: 0 }, null, [1, "two"], "text"]);
    expect(results.map((r) => r.deliveries.length)).toEqual([1, 2, 0, 1]);
    for (const result of results) {
      expect(await store.getMessage(result.message.id)).toEqual({
        message: result.message,
        deliveries: result.deliveries,
        filtered: [],
      });
    }
    expect(await count("messages")).toBe(4);
    expect(await count("inbound_keys")).toBe(3);
    // The same statement counted them in the catalogue.
    expect(await store.getEventType("order.created.v1")).toMatchObject({ auto: true, count: 4 });
    expect((await allDeliveryIds(store)).sort()).toEqual(
      results.flatMap((r) => r.deliveries.map((d) => d.id)).sort(),
    );
    // The keys hold their messages: the same keys again are duplicates (in one statement, plus
    // the transaction that reads their holders).
    const again = await store.createMessages([inputs[0]!, inputs[1]!, inputs[3]!]);
    expect(again).toEqual([0, 1, 3].map((i) => ({ ...results[i]!, created: false })));
    expect(await count("messages")).toBe(4);
    expect((await store.getEventType("order.created.v1"))?.count).toBe(4);
  });

  it("stores a payload parsed from webhook text as that JSON: escapes, unicode, nesting", async () => {
    // The statement splices each payload's own text into its rows' JSON (no re-serialising):
    // what PostgreSQL stores must be the value the text means.
    const texts = [
      '{ "a" : "\u00fc\u2028\\"q\\\\", "n": 1.50, "deep": [null, {"x": true, "y": 2.5e-3}] }',
      '[ "x", 1e3, {"}": "]"} ]',
      '{"emoji":"😀","tab":"\\t","slash":"\\/"}',
    ];
    const inputs = texts.map((text, i) =>
      input([], { payload: JSON.parse(text), payloadText: text }, dedupe(`text-${i}`)),
    );
    const { value: results, statements } = await recorded(() => store.createMessages(inputs));
    expect(statements.filter(isFast)).toHaveLength(1);
    expect(statements).toHaveLength(1);
    for (const [i, result] of results.entries()) {
      const stored = await store.getMessage(result.message.id);
      expect(stored?.message.payload).toEqual(JSON.parse(texts[i]!));
    }
  });

  it("wakes the workers when it stored deliveries", async () => {
    const endpoint = await makeEndpoint(store);
    let woken = 0;
    const stop = await store.wakeUps!(() => woken++);
    try {
      await store.createMessages([input([], {}, dedupe("quiet"))]);
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(woken).toBe(0);
      await store.createMessages([input([endpoint.id], {}, dedupe("loud"))]);
      await expect.poll(() => woken, { timeout: 2000 }).toBeGreaterThan(0);
    } finally {
      await stop();
    }
  });

  it("a key held live by a stored message: that input is a duplicate of it, the others are created", async () => {
    const endpoint = await makeEndpoint(store);
    const first = await store.createMessage(input([endpoint.id], { payload: 1 }, dedupe("held")));
    clock.advance(TTL - 1);
    const { value: results, statements } = await recorded(() =>
      store.createMessages([
        input([endpoint.id], { payload: 2 }, dedupe("fresh-1")),
        input([endpoint.id], { payload: 3 }, dedupe("held")),
        input([endpoint.id], { payload: 4 }),
        input([endpoint.id], { payload: 5 }, dedupe("fresh-2")),
      ]),
    );
    expect(results.map((r) => r.created)).toEqual([true, false, true, true]);
    expect(results[1]).toEqual({ ...first, created: false });
    expect(results.map((r) => r.message.payload)).toEqual([2, 1, 4, 5]);
    // The one statement, then a transaction deciding the held input alone.
    expect(isFast(statements[0]!)).toBe(true);
    expect(isBegin(statements[1]!)).toBe(true);
    expect(statements.filter(isFast)).toHaveLength(1);
    expect(await count("messages")).toBe(4);
    expect((await allDeliveryIds(store)).sort()).toEqual(
      [first, results[0]!, results[2]!, results[3]!].map((r) => r.deliveries[0]!.id).sort(),
    );
    const { rows } = await schema.pool.query<{ message_id: string }>(
      "SELECT message_id FROM inbound_keys WHERE key = 'held'",
    );
    expect(rows).toEqual([{ message_id: first.message.id }]);
  });

  it("an expired key is taken over in the one statement", async () => {
    const endpoint = await makeEndpoint(store);
    const first = await store.createMessage(input([endpoint.id], {}, dedupe("k")));
    clock.set(START + TTL); // expired at expiresAt itself
    const { value: second, statements } = await recorded(() =>
      store.createMessage(input([endpoint.id], {}, dedupe("k", { expiresAt: START + 2 * TTL }))),
    );
    expect(statements).toHaveLength(1);
    expect(isFast(statements[0]!)).toBe(true);
    expect(second.created).toBe(true);
    expect(second.message.id).not.toBe(first.message.id);
    const { rows } = await schema.pool.query<{ message_id: string; expires_at: Date }>(
      "SELECT message_id, expires_at FROM inbound_keys WHERE key = 'k'",
    );
    expect(rows).toEqual([
      { message_id: second.message.id, expires_at: new Date(START + 2 * TTL) },
    ]);
    clock.advance(1);
    const third = await store.createMessage(input([endpoint.id], {}, dedupe("k")));
    expect(third).toEqual({ ...second, created: false });
    // The first message stays: only its key went.
    expect((await store.getMessage(first.message.id))?.message).toEqual(first.message);
  });

  it("a deleted endpoint: endpoint.not_found naming the input, nothing stored", async () => {
    const a = await makeEndpoint(store);
    const b = await makeEndpoint(store);
    // Deleted behind the caller's back, as by another process after the caller's read.
    expect(await store.deleteEndpoint(b.id)).toBe(true);
    sent.length = 0;
    const error = await store
      .createMessages([
        input([a.id], {}, dedupe("k-0")),
        input([a.id, b.id], {}, dedupe("k-1")),
        input([a.id]),
      ])
      .then(
        () => undefined,
        (e: unknown) => e,
      );
    expect(error).toMatchObject({ code: "endpoint.not_found", details: { index: 1 } });
    // Tried in one statement, which the foreign key rolled back; the transaction said why.
    expect(isFast(sent[0]!)).toBe(true);
    expect(isBegin(sent[1]!)).toBe(true);
    expect(await count("messages")).toBe(0);
    expect(await count("inbound_keys")).toBe(0);
    expect(await count("deliveries")).toBe(0);
    // The keys were not taken: the next batch creates them.
    const later = await store.createMessages([input([a.id], {}, dedupe("k-1"))]);
    expect(later[0]!.created).toBe(true);
  });

  describe("other batches take the transaction path, with the same results", () => {
    // Each case runs on PostgreSQL and on the memory store (the shared plan, no PostgreSQL).
    async function both(
      build: (endpointId: string) => CreateMessageInput[][],
    ): Promise<{ pg: string[][]; memory: string[][]; statements: Sent[] }> {
      const memory = createMemoryDeliveryStore({ clock });
      const pgEndpoint = await makeEndpoint(store);
      const memoryEndpoint = await makeEndpoint(memory);
      const out = { pg: [] as string[][], memory: [] as string[][], statements: [] as Sent[] };
      for (const [i, batch] of build(pgEndpoint.id).entries()) {
        const { value, statements } = await recorded(() => store.createMessages(batch));
        out.pg.push(shape(value));
        out.statements.push(statements[0]!);
        const memoryBatch = build(memoryEndpoint.id)[i]!;
        out.memory.push(shape(await memory.createMessages(memoryBatch)));
      }
      return out;
    }

    it("with idempotency keys", async () => {
      const result = await both((e) => [
        [input([e], { idempotencyKey: "i-1" }, dedupe("d-1")), input([e], {}, dedupe("d-2"))],
        [
          input([e], { idempotencyKey: "i-1" }, dedupe("d-3")),
          input([e], { idempotencyKey: "i-2" }),
          input([e], { idempotencyKey: "i-2" }),
          input([e], {}, dedupe("d-2")),
        ],
      ]);
      expect(result.statements.map(isBegin)).toEqual([true, true]);
      expect(result.pg).toEqual(result.memory);
      expect(result.pg).toEqual([
        ["created", "created"],
        ["dup of 0", "created", "dup of 1", "dup of 3"],
      ]);
    });

    it("with a dedupe key twice in the batch", async () => {
      const result = await both((e) => [
        [
          input([e], {}, dedupe("d-1", { expiresAt: START })), // expired at once
          input([e], {}, dedupe("d-1")),
          input([e], {}, dedupe("d-1")),
          input([e], {}),
        ],
        [input([e], {}, dedupe("d-1")), input([e], {}, dedupe("d-1")), input([e], {})],
      ]);
      expect(result.statements.map(isBegin)).toEqual([true, true]);
      expect(result.pg).toEqual(result.memory);
      expect(result.pg).toEqual([
        ["created", "created", "dup of 1", "created"],
        ["dup of 0", "dup of 0", "created"],
      ]);
    });

    it("and an eligible batch gives what the memory store gives", async () => {
      const result = await both((e) => [
        [input([e], {}, dedupe("a")), input([e], {}, dedupe("b"))],
        [input([e], {}, dedupe("b")), input([e], {}, dedupe("c")), input([e], {})],
      ]);
      expect(result.statements.map(isFast)).toEqual([true, true]);
      expect(result.pg).toEqual(result.memory);
      expect(result.pg).toEqual([
        ["created", "created"],
        ["dup of 0", "created", "created"],
      ]);
    });
  });

  it("concurrent batches over several pools racing on the same keys store each key's message once", async () => {
    const endpoint = await makeEndpoint(store);
    const SHARED = 24;
    const POOLS = 6;
    const BATCHES_PER_POOL = 4;
    const stores = Array.from({ length: POOLS }, () => {
      const p = createPgPool({ connectionString: schema.url, schema: schema.schema, max: 3 });
      extraPools.push(p);
      return createPostgresDeliveryStore(p, { clock });
    });
    // Each batch: every shared key in its own order, and a key of its own. Every fourth batch
    // also carries an idempotency key, so the transaction path races the one-statement path.
    let n = 0;
    const batches = stores.flatMap((s) =>
      Array.from({ length: BATCHES_PER_POOL }, () => {
        const b = n++;
        const order = Array.from({ length: SHARED }, (_, i) => (i * 7 + b * 5) % SHARED);
        const inputs = order.map((k) =>
          input([endpoint.id], { payload: { b, k } }, dedupe(`s-${k}`)),
        );
        inputs.push(input([endpoint.id], {}, dedupe(`own-${b}`)));
        if (b % 4 === 3) inputs.push(input([endpoint.id], { idempotencyKey: `i-${b}` }));
        return { store: s, b, order, inputs };
      }),
    );
    const results = await Promise.all(batches.map((x) => x.store.createMessages(x.inputs)));
    const byKey = new Map<number, CreateMessageResult[]>();
    for (const [i, { order }] of batches.entries()) {
      const batch = results[i]!;
      for (const [j, k] of order.entries()) byKey.set(k, [...(byKey.get(k) ?? []), batch[j]!]);
      // Its own key (and idempotency key) are created.
      for (const own of batch.slice(SHARED)) expect(own.created).toBe(true);
    }
    for (const [, answers] of byKey) {
      expect(answers).toHaveLength(POOLS * BATCHES_PER_POOL);
      expect(answers.filter((r) => r.created)).toHaveLength(1);
      expect(new Set(answers.map((r) => r.message.id)).size).toBe(1);
      expect(new Set(answers.map((r) => r.deliveries[0]!.id)).size).toBe(1);
    }
    const ownCount = batches.length + batches.filter((x) => x.b % 4 === 3).length;
    expect(await count("messages")).toBe(SHARED + ownCount);
    expect(await count("deliveries")).toBe(SHARED + ownCount);
    expect(await count("inbound_keys")).toBe(SHARED + batches.length);
    const { rows } = await schema.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM inbound_keys k JOIN messages m ON m.id = k.message_id
       WHERE m.payload->>'k' = substr(k.key, 3)`,
    );
    expect(rows[0]!.n).toBe(SHARED);
  });
});
