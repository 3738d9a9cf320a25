// 200 concurrent copies of ONE signed webhook against the built `herald serve`, on SQLite and on
// PostgreSQL: exactly one is accepted (202), the other 199 are duplicates (200) naming the same
// message, and exactly one message (one delivery) is stored.
//
// What breaking it shows: a dedupe check done outside the write transaction (check-then-insert)
// or a group-commit batch that does not dedupe within itself gives several 202s and several
// messages; a unique-key violation that escapes as an error gives 500s or 503s; a duplicate
// answered before the first copy's commit could name a message that is never stored (the GET
// then answers 404).
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  api,
  createEndpoint,
  createStripeSource,
  errorCode,
  type HttpResult,
  keepAliveAgent,
  listAllDeliveries,
  makeTempDir,
  metricValue,
  newStripeSecret,
  send,
  stripeEvent,
  stripeHeaders,
} from "../helpers/e2eHttp.js";
import { type HeraldProcess, startHerald } from "../helpers/heraldServer.js";
import { createTestSchema, type TestSchema } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";

const COPIES = 200;
const pgAvailable = await serviceAvailable("postgres");

interface Backend {
  /** Extra `herald serve` arguments (the database). */
  args(): Promise<string[]>;
  cleanup(suite: Parameters<TestSchema["dropIfPassed"]>[0]): Promise<void>;
}

function sqliteBackend(): Backend {
  let dir: Awaited<ReturnType<typeof makeTempDir>> | undefined;
  return {
    async args() {
      dir = await makeTempDir("dups-sqlite");
      return ["--db", `${dir.path}/herald.db`];
    },
    async cleanup() {
      await dir?.remove();
    },
  };
}

function postgresBackend(): Backend {
  let schema: TestSchema | undefined;
  return {
    async args() {
      schema = await createTestSchema("e2e_dups", { migrate: false, max: 2 });
      return ["--db", schema.url, "--schema", schema.schema];
    },
    async cleanup(suite) {
      await schema?.dropIfPassed(suite);
    },
  };
}

function suite(name: string, backend: Backend): void {
  describe(`${name}: ${COPIES} concurrent copies of one webhook`, () => {
    let herald: HeraldProcess | undefined;
    let base = "";
    let cwd: Awaited<ReturnType<typeof makeTempDir>>;
    const secret = newStripeSecret();
    // One connection per request: all 200 are in flight at once.
    const agent = keepAliveAgent(COPIES);

    beforeAll(async () => {
      cwd = await makeTempDir(`dups-${name}`);
      herald = await startHerald({
        cwd: cwd.path,
        // No worker: the delivery stays pending, so the count below is of rows, not sends.
        args: [...(await backend.args()), "--no-worker"],
        env: { HERALD_API_KEY: undefined, HERALD_CONFIG: undefined, HERALD_DB: undefined },
      });
      base = herald.url ?? "";
      await createStripeSource(base, "stripe", secret);
      await createEndpoint(base, "http://127.0.0.1:9/never", ["stripe.*"]);
    });

    afterEach((context) => {
      if (context.task.result?.state === "fail" && herald !== undefined) {
        console.warn(`herald stderr:\n${herald.stderr().slice(-4000)}`);
      }
    });

    afterAll(async (s) => {
      await herald?.kill9();
      await agent.close();
      await backend.cleanup(s);
      await cwd?.remove();
    });

    async function burst(bodies: () => { body: string; headers: Record<string, string> }) {
      const requests = Array.from({ length: COPIES }, () => bodies());
      // Connections opened first, so that the copies leave together rather than one per
      // connect: on a busy machine a burst on new connections reached the server one by one.
      await Promise.all(requests.map(() => send(`${base}/health`, { agent })));
      const batchesBefore = await metricValue(base, "herald_ingest_batch_size_count");
      const results = await Promise.all(
        requests.map(({ body, headers }) =>
          send(`${base}/webhooks/stripe`, { method: "POST", headers, body, agent }),
        ),
      );
      const byStatus = new Map<number, HttpResult[]>();
      for (const r of results) byStatus.set(r.status, [...(byStatus.get(r.status) ?? []), r]);
      const accepted = byStatus.get(202) ?? [];
      const duplicates = byStatus.get(200) ?? [];
      const other = results.filter((r) => r.status !== 202 && r.status !== 200);
      expect(
        other.map((r) => `${r.status} ${errorCode(r)}`),
        "every copy is accepted or a duplicate",
      ).toEqual([]);
      expect(accepted.length, "exactly one copy is accepted").toBe(1);
      expect(duplicates.length).toBe(COPIES - 1);
      const messageId = (accepted[0]?.json as { message_id: string } | undefined)?.message_id;
      expect(messageId).toMatch(/^msg_/);
      const status_url = `/v1/messages/${messageId}`;
      expect(accepted[0]?.json).toEqual({ message_id: messageId, status: "accepted", status_url });
      for (const d of duplicates) {
        expect(d.json).toEqual({ message_id: messageId, status: "duplicate", status_url });
      }
      // Copies shared group-commit batches (else this would only test sequential duplicates).
      const batches = (await metricValue(base, "herald_ingest_batch_size_count")) - batchesBefore;
      console.info(`  ${name}: ${COPIES} copies written in ${batches} group-commit batches`);
      expect(batches).toBeLessThan(COPIES);
      return messageId ?? "";
    }

    async function expectOneMessage(messageId: string, eventId: string) {
      const message = await api(base, "GET", `/v1/messages/${messageId}`);
      expect(message.status).toBe(200);
      const body = message.json as {
        payload: { id: string };
        type: string;
        deliveries: unknown[];
      };
      expect(body.payload.id).toBe(eventId);
      expect(body.type).toBe("stripe.charge.succeeded");
      expect(body.deliveries).toHaveLength(1);
      // One endpoint: one delivery per stored message. Only one row names this event.
      const deliveries = await listAllDeliveries(base);
      const forEvent: string[] = [];
      for (const d of deliveries) {
        const m = await api(base, "GET", `/v1/messages/${d.message_id}`);
        if ((m.json as { payload: { id: string } }).payload.id === eventId) {
          forEvent.push(d.message_id);
        }
      }
      expect(forEvent).toEqual([messageId]);
    }

    it("identical requests (a proxy retrying one signed request)", async () => {
      const body = stripeEvent("evt_same_bytes_1");
      const headers = stripeHeaders(secret, body);
      const messageId = await burst(() => ({ body, headers }));
      await expectOneMessage(messageId, "evt_same_bytes_1");
    });

    it("the same event signed at 200 different times (provider retries)", async () => {
      const body = stripeEvent("evt_resigned_2");
      const now = Math.floor(Date.now() / 1000);
      let i = 0;
      const messageId = await burst(() => ({
        body,
        headers: stripeHeaders(secret, body, now - i++),
      }));
      await expectOneMessage(messageId, "evt_resigned_2");
    });

    it("a later copy is still a duplicate of the first message", async () => {
      const body = stripeEvent("evt_same_bytes_1");
      const again = await send(`${base}/webhooks/stripe`, {
        method: "POST",
        headers: stripeHeaders(secret, body),
        body,
      });
      expect(again.status).toBe(200);
      expect((again.json as { status: string }).status).toBe("duplicate");
      const deliveries = await listAllDeliveries(base);
      expect(deliveries, "two events, two messages, two deliveries").toHaveLength(2);
    });
  });
}

suite("sqlite", sqliteBackend());
describe.skipIf(!pgAvailable)("postgres", () => {
  suite("postgres", postgresBackend());
});
