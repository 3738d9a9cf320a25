// SIGKILL of `herald serve` in the middle of ingesting and delivering, then a restart on the same
// database (SQLite, and PostgreSQL when it is reachable): a 202 is a promise — every accepted
// message survives the crash and reaches the receiver — and nothing is stored that was not sent
// (or that was answered with something other than 202).
//
// What breaking it shows: answering 202 before the commit (or a SQLite connection without a
// durable journal) loses accepted messages, so the receiver never sees them and the wait below
// times out / GET /v1/messages/:id answers 404; a message written without its delivery, or a
// delivery lease that a restart never takes back, leaves the receiver short as well; writing a
// message when the answer was an error (or twice for one webhook) makes the stored count exceed
// the bound or names an event twice; a dedupe key committed without its message makes the retry
// at the end answer "duplicate" with a message id that does not exist.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  api,
  createEndpoint,
  createStripeSource,
  type DeliveryWire,
  errorCode,
  keepAliveAgent,
  listAllDeliveries,
  makeTempDir,
  mapLimit,
  newStripeSecret,
  type Receiver,
  send,
  startReceiver,
  stripeEvent,
  stripeHeaders,
  waitUntil,
} from "../helpers/e2eHttp.js";
import { type HeraldProcess, startHerald } from "../helpers/heraldServer.js";
import { createTestSchema, type TestSchema } from "../helpers/postgres.js";
import { serviceAvailable } from "../helpers/services.js";

const TOTAL = 2000;
const IN_FLIGHT = 48;
const KILL_AFTER_ACCEPTED = 400;
const DELIVERY_DEADLINE_MS = 60_000;

const pgAvailable = await serviceAvailable("postgres");

type Outcome =
  | { kind: "accepted"; messageId: string }
  | { kind: "answered"; status: number; code: string | undefined }
  | { kind: "refused" }
  | { kind: "no_response"; error: string }
  | { kind: "unsent" };

interface MessageWire {
  id: string;
  payload: { id?: string };
  deliveries: { status: string }[];
}

// Short leases: the deliveries the killed worker held come back within seconds, not a minute.
const CONFIG = `worker:
  concurrency: 16
  lease_ms: 2000
  poll_interval_ms: 100
`;

/**
 * `killedArgs`: extra arguments of the process that is killed (the restart runs without them):
 * with `--no-worker` the killed process only ingests, so the kill lands while it commits.
 */
function crashSuite(
  name: string,
  database: () => Promise<string[]>,
  cleanup: () => Promise<void>,
  killedArgs: readonly string[] = [],
) {
  describe(`${name}: kill -9 during load`, () => {
    const processes: HeraldProcess[] = [];
    let receiver: Receiver | undefined;
    let dir: Awaited<ReturnType<typeof makeTempDir>> | undefined;
    const agent = keepAliveAgent(IN_FLIGHT);

    afterAll(async () => {
      for (const p of processes) await p.kill9();
      await agent.close();
      await receiver?.close();
      await cleanup();
      await dir?.remove();
    });

    it("keeps every 202 and stores nothing it did not accept or leave unanswered", {
      timeout: 120_000,
    }, async () => {
      dir = await makeTempDir(`crash-${name}`);
      const configPath = join(dir.path, "herald.yaml");
      await writeFile(configPath, CONFIG);
      const dbArgs = await database();
      const start = async (extra: readonly string[] = []) => {
        const p = await startHerald({
          cwd: dir?.path ?? ".",
          args: [...dbArgs, "--config", configPath, ...extra],
          env: {
            HERALD_SSRF_ALLOW: "127.0.0.0/8",
            HERALD_API_KEY: undefined,
            HERALD_CONFIG: undefined,
            HERALD_DB: undefined,
          },
        });
        processes.push(p);
        return p;
      };
      receiver = await startReceiver();
      const first = await start(killedArgs);
      const base1 = first.url ?? "";
      const secret = newStripeSecret();
      await createStripeSource(base1, "stripe", secret);
      await createEndpoint(base1, receiver.url, ["stripe.*"]);

      // ---- load, and kill -9 once KILL_AFTER_ACCEPTED webhooks were accepted
      const eventIds = Array.from({ length: TOTAL }, (_, i) => `evt_crash_${name}_${i}`);
      const outcomes: Outcome[] = eventIds.map(() => ({ kind: "unsent" }));
      let accepted = 0;
      let killed: Promise<void> | undefined;
      let acceptedAtKill = 0;
      let next = 0;
      const lane = async () => {
        while (next < TOTAL && first.child.exitCode === null && first.child.signalCode === null) {
          const i = next++;
          const body = stripeEvent(eventIds[i] as string);
          try {
            const r = await send(`${base1}/webhooks/stripe`, {
              method: "POST",
              headers: stripeHeaders(secret, body),
              body,
              agent,
              timeoutMs: 15_000,
            });
            const messageId = (r.json as { message_id?: string } | undefined)?.message_id;
            outcomes[i] =
              r.status === 202 && messageId !== undefined
                ? { kind: "accepted", messageId }
                : { kind: "answered", status: r.status, code: errorCode(r) };
            if (r.status === 202 && ++accepted >= KILL_AFTER_ACCEPTED && killed === undefined) {
              acceptedAtKill = accepted;
              killed = first.kill9();
            }
          } catch (error) {
            const code = (error as { code?: string }).code;
            outcomes[i] =
              code === "ECONNREFUSED"
                ? { kind: "refused" }
                : { kind: "no_response", error: String(code ?? error) };
          }
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, lane));
      await killed;
      expect(killed, "the server was killed during the load").toBeDefined();

      const acceptedIds = new Map<string, string>(); // event id -> message id
      const unanswered = new Set<string>();
      const notStored = new Set<string>(); // refused or answered without 202: never stored
      const counts: Record<string, number> = {};
      outcomes.forEach((o, i) => {
        const eventId = eventIds[i] as string;
        counts[o.kind] = (counts[o.kind] ?? 0) + 1;
        if (o.kind === "accepted") acceptedIds.set(eventId, o.messageId);
        else if (o.kind === "no_response") unanswered.add(eventId);
        else if (o.kind === "refused" || o.kind === "answered") notStored.add(eventId);
      });
      const answeredOther = outcomes.filter((o) => o.kind === "answered");
      // Nothing but 202 was answered before the kill (no 5xx under load).
      expect(answeredOther).toEqual([]);
      expect(acceptedIds.size).toBeGreaterThanOrEqual(KILL_AFTER_ACCEPTED);

      // ---- restart on the same database; the receiver must get every accepted message
      const second = await start();
      const base2 = second.url ?? "";
      const wanted = [...acceptedIds.values()];
      const started = Date.now();
      await waitUntil(
        () => wanted.every((id) => receiver?.seen.has(id)),
        DELIVERY_DEADLINE_MS,
        () =>
          `receiver has ${wanted.filter((id) => receiver?.seen.has(id)).length} of ${wanted.length} accepted messages`,
        200,
      );
      // …and every delivery settles (the unanswered-but-stored ones are delivered too).
      await waitUntil(
        async () =>
          (await listAllDeliveries(base2, "status=pending,delivering,retrying")).length === 0,
        DELIVERY_DEADLINE_MS,
        () => "deliveries still pending after the restart",
        250,
      );
      const recoveryMs = Date.now() - started;

      // ---- what is stored
      const deliveries: DeliveryWire[] = await listAllDeliveries(base2);
      const storedIds = [...new Set(deliveries.map((d) => d.message_id))];
      expect(deliveries.length, "one endpoint: one delivery per message").toBe(storedIds.length);
      expect(
        storedIds.length,
        "stored ≤ accepted + unanswered (nothing else was written)",
      ).toBeLessThanOrEqual(acceptedIds.size + unanswered.size);
      const messages = await mapLimit(storedIds, 32, async (id) => {
        const r = await api(base2, "GET", `/v1/messages/${id}`);
        expect(r.status, `GET /v1/messages/${id}`).toBe(200);
        return r.json as MessageWire;
      });
      const storedByEvent = new Map<string, string>();
      for (const m of messages) {
        const eventId = m.payload.id ?? "";
        expect(eventIds.includes(eventId), `stored payload ${eventId} is one we sent`).toBe(true);
        expect(storedByEvent.has(eventId), `${eventId} is stored once`).toBe(false);
        storedByEvent.set(eventId, m.id);
        expect(notStored.has(eventId), `${eventId} was refused or rejected yet stored`).toBe(false);
        expect(m.deliveries.map((d) => d.status)).toEqual(["delivered"]);
      }
      for (const [eventId, messageId] of acceptedIds) {
        expect(storedByEvent.get(eventId), `accepted ${eventId}`).toBe(messageId);
      }
      for (const id of storedIds) {
        expect(receiver.seen.has(id), `stored ${id} reached the receiver`).toBe(true);
      }
      // Every delivered webhook is one of our events under the right message id.
      for (const id of receiver.seen) {
        const payload = receiver.bodies.get(id) as { id?: string } | undefined;
        expect(storedByEvent.get(payload?.id ?? "")).toBe(id);
      }

      const receiverRequests = receiver.ids.length;
      const receiverMessages = receiver.seen.size;

      // ---- the provider retries what got no answer: a duplicate names the stored message
      const retried = { duplicate: 0, accepted: 0 };
      for (const eventId of unanswered) {
        const body = stripeEvent(eventId);
        const r = await send(`${base2}/webhooks/stripe`, {
          method: "POST",
          headers: stripeHeaders(secret, body),
          body,
        });
        const answer = r.json as { message_id: string; status: string };
        const stored = storedByEvent.get(eventId);
        if (stored === undefined) {
          expect(r.status, `${eventId} was not stored: a retry is accepted`).toBe(202);
          retried.accepted++;
        } else {
          expect(r.status, `${eventId} was stored: a retry is a duplicate`).toBe(200);
          expect(answer).toEqual({
            message_id: stored,
            status: "duplicate",
            status_url: `/v1/messages/${stored}`,
          });
          retried.duplicate++;
        }
      }

      const redelivered = receiverRequests - receiverMessages;
      console.info(
        `  ${name}: sent ${TOTAL - (counts.unsent ?? 0)} of ${TOTAL}; killed after ${acceptedAtKill} accepted; ` +
          `outcomes ${JSON.stringify(counts)}; stored ${storedIds.length} ` +
          `(${storedIds.length - acceptedIds.size} of them unanswered); all delivered ${recoveryMs} ms after the restart; ` +
          `receiver got ${receiverRequests} requests for ${receiverMessages} messages (${redelivered} redelivered); ` +
          `retrying the unanswered: ${retried.duplicate} duplicate, ${retried.accepted} accepted`,
      );
      expect(await second.stop()).toBe(0);
    });
  });
}

{
  let dir: Awaited<ReturnType<typeof makeTempDir>> | undefined;
  crashSuite(
    "sqlite",
    async () => {
      dir = await makeTempDir("crash-sqlite-db");
      return ["--db", join(dir.path, "herald.db")];
    },
    async () => {
      await dir?.remove();
    },
  );
}

{
  let dir: Awaited<ReturnType<typeof makeTempDir>> | undefined;
  crashSuite(
    "sqlite-no-worker",
    async () => {
      dir = await makeTempDir("crash-sqlite-no-worker-db");
      return ["--db", join(dir.path, "herald.db")];
    },
    async () => {
      await dir?.remove();
    },
    ["--no-worker"],
  );
}

describe.skipIf(!pgAvailable)("postgres", () => {
  let schema: TestSchema | undefined;
  crashSuite(
    "postgres",
    async () => {
      schema = await createTestSchema("e2e_crash", { migrate: false, max: 2 });
      return ["--db", schema.url, "--schema", schema.schema];
    },
    async () => {
      await schema?.drop();
    },
  );
});
