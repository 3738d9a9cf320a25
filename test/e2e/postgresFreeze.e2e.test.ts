// PostgreSQL freezes under load (every process of the cluster SIGSTOPped for 35 s, as a network
// partition or a stuck host looks to clients: connections stay open, the kernel still
// acknowledges, nothing answers, no server-side timeout fires) with `herald serve` left running.
// Every webhook is answered within the request deadline — 202 only once committed, otherwise 503
// store.unavailable with Retry-After — and /ready and /v1 too; after the thaw the load recovers
// on its own; every 202 is stored and delivered; and a provider retrying each 503 gets it
// accepted or named as a duplicate of the message stored after all, and delivered.
//
// The database is a private cluster this file creates (initdb in a temp dir, its own port); the
// shared server on 5432 is never touched.
//
// What breaking it shows: without a client-side bound, the requests whose batch was mid-
// transaction wait for the whole freeze (a latency of ~35 s, or no answer within the send
// timeout); a 202 answered before its commit shows up as a 202 answered while frozen or as a
// 404 for an accepted message; a 503 whose message was stored under another dedupe key shows
// up as a retry accepted and delivered twice (a second message for one event); a connection put
// back in the pool with its statement still running keeps the load from recovering.
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONFIG_DEFAULTS } from "../../packages/server/src/config/fileSchema.js";
import {
  api,
  createEndpoint,
  createStripeSource,
  errorCode,
  keepAliveAgent,
  makeTempDir,
  mapLimit,
  newStripeSecret,
  type Receiver,
  send,
  startReceiver,
  waitUntil,
} from "../helpers/e2eHttp.js";
import { type HeraldProcess, startHerald } from "../helpers/heraldServer.js";
import { createPgCluster, type PgCluster, privateClusterUsable } from "../helpers/pgCluster.js";
import { type LaneSample, postStripeWebhook, startWebhookLanes } from "../helpers/webhookLanes.js";

const DEADLINE_MS = 2_000;
/** Scheduling on a shared 2-core machine: the event loop, undici, the test's own loop. */
const SLACK_MS = 750;
const FREEZE_MS = 35_000;
const LANES = 6;
const PAUSE_MS = 15;
const RECOVERY_DEADLINE_MS = 30_000;
const DELIVERY_DEADLINE_MS = 45_000;

const CONFIG = `server:
  request_deadline_ms: ${DEADLINE_MS}
worker:
  lease_ms: 5000
  poll_interval_ms: 200
`;

const clusterUsable = await privateClusterUsable("the PostgreSQL freeze test");

/** freezing / thawing: while the processes are being signalled one by one. */
type Phase = "up" | "freezing" | "frozen" | "thawing" | "thawed";

type Sample = LaneSample<Phase>;

// A private cluster to freeze; privateClusterUsable skips loudly where none can be made, and
// fails the run under CI=true.
describe.skipIf(!clusterUsable)("postgres freeze", () => {
  let cluster: PgCluster | undefined;
  let herald: HeraldProcess | undefined;
  let receiver: Receiver | undefined;
  let cwd: Awaited<ReturnType<typeof makeTempDir>> | undefined;
  const agent = keepAliveAgent(LANES + 4);

  beforeAll(async () => {
    cluster = await createPgCluster();
    await cluster.start();
    cwd = await makeTempDir("freeze");
  }, 60_000);

  afterAll(async () => {
    await cluster?.thaw().catch(() => {});
    await herald?.kill9();
    await receiver?.close();
    await agent.close();
    await cluster?.destroy();
    await cwd?.remove();
  }, 60_000);

  it("the default request deadline answers before providers give up (10 s)", () => {
    expect(CONFIG_DEFAULTS.requestDeadlineMs).toBeLessThanOrEqual(10_000);
  });

  it("answers every request within the deadline while frozen, recovers, and loses nothing", {
    timeout: 150_000,
  }, async () => {
    if (cluster === undefined || cwd === undefined) throw new Error("no cluster");
    const pg = cluster;
    const configPath = join(cwd.path, "herald.yaml");
    await writeFile(configPath, CONFIG);
    herald = await startHerald({
      cwd: cwd.path,
      args: ["--db", pg.url, "--config", configPath],
      env: {
        HERALD_SSRF_ALLOW: "127.0.0.0/8",
        HERALD_API_KEY: undefined,
        HERALD_CONFIG: undefined,
        HERALD_DB: undefined,
      },
    });
    const base = herald.url ?? "";
    const secret = newStripeSecret();
    receiver = await startReceiver();
    const seen = receiver.seen;
    await createStripeSource(base, "stripe", secret);
    await createEndpoint(base, receiver.url, ["stripe.*"]);

    // ---- continuous load: LANES senders of distinct webhooks
    let phase: Phase = "up";
    const lanes = startWebhookLanes({
      url: `${base}/webhooks/stripe`,
      secret,
      agent,
      lanes: LANES,
      pauseMs: PAUSE_MS,
      idPrefix: "evt_freeze_",
      // Far beyond the deadline: a request that hangs shows as a latency, not a hung test.
      timeoutMs: FREEZE_MS + 10_000,
      phase: () => phase,
    });
    const { samples, inPhase } = lanes;

    // ---- /ready and the management API, probed while frozen
    interface Probe {
      path: string;
      status: number | null;
      ms: number;
      code?: string;
      retryAfter?: string;
    }
    const probes: Probe[] = [];
    const probe = async (path: string) => {
      const started = Date.now();
      try {
        const r = await send(`${base}${path}`, { timeoutMs: FREEZE_MS + 10_000 });
        const retryAfter = r.headers["retry-after"];
        probes.push({
          path,
          status: r.status,
          ms: Date.now() - started,
          ...(errorCode(r) === undefined ? {} : { code: errorCode(r) }),
          ...(typeof retryAfter === "string" ? { retryAfter } : {}),
        });
      } catch {
        probes.push({ path, status: null, ms: Date.now() - started });
      }
    };

    let frozenAt = 0;
    let thawedAt = 0;
    try {
      // Up.
      await waitUntil(
        () => inPhase("up").filter((s) => s.status === 202).length >= 100,
        15_000,
        () => "no 100 accepted webhooks while the database is up",
      );
      const knownMessage = inPhase("up").find((s) => s.status === 202)?.messageId;

      // Freeze, under load, for FREEZE_MS.
      phase = "freezing";
      await pg.freeze();
      phase = "frozen";
      frozenAt = Date.now();
      const probing = (async () => {
        while (Date.now() - frozenAt < FREEZE_MS - 4_000) {
          await Promise.all([
            probe("/ready"),
            probe(`/v1/messages/${knownMessage}`),
            probe("/v1/endpoints"),
          ]);
          await new Promise((resolve) => setTimeout(resolve, 1_000));
        }
      })();
      await new Promise((resolve) => setTimeout(resolve, FREEZE_MS));
      await probing;

      // Thaw.
      phase = "thawing";
      thawedAt = Date.now();
      await pg.thaw();
      phase = "thawed";
      await waitUntil(
        () => inPhase("thawed").filter((s) => s.status === 202).length >= 100,
        RECOVERY_DEADLINE_MS,
        () => `fewer than 100 accepted since the thaw: ${summarize(inPhase("thawed"))}`,
      );
      const recoveredMs = Date.now() - thawedAt;
      await lanes.stop();

      // ---- the answers
      const latency = (s: Sample) => (s.answeredAt ?? Date.now()) - s.sentAt;
      expect(
        samples.filter((s) => s.status === null).map(describeSample),
        "every request is answered",
      ).toEqual([]);
      expect(
        samples.filter((s) => latency(s) > DEADLINE_MS + SLACK_MS).map(describeSample),
        `every answer within the ${DEADLINE_MS} ms deadline (+${SLACK_MS} ms)`,
      ).toEqual([]);
      expect(
        samples
          .filter(
            (s) =>
              !(
                s.status === 202 ||
                s.status === 200 ||
                (s.status === 503 &&
                  s.code === "store.unavailable" &&
                  s.shapeOk === true &&
                  s.retryAfter !== undefined)
              ),
          )
          .map(describeSample),
        "202, 200 or 503 store.unavailable with Retry-After, nothing else",
      ).toEqual([]);
      // Nothing commits while the database is frozen: a 202 is answered after the thaw began or
      // not at all (one sent during the freeze may commit right after the thaw, within its
      // deadline). 250 ms: a response to a commit made just before the freeze, on its way.
      expect(
        samples
          .filter((s) => s.status === 202 && (s.answeredAt ?? 0) > frozenAt + 250)
          .filter((s) => (s.answeredAt ?? 0) < thawedAt)
          .map(describeSample),
        "no 202 answered while frozen",
      ).toEqual([]);
      const frozen503 = inPhase("frozen").filter((s) => s.status === 503).length;
      expect(frozen503, "the frozen phase was answered, with 503s").toBeGreaterThanOrEqual(20);
      expect(
        probes.filter(
          (p) =>
            p.status !== 503 ||
            p.code !== "store.unavailable" ||
            p.retryAfter === undefined ||
            p.ms > DEADLINE_MS + SLACK_MS,
        ),
        "/ready and /v1 answer 503 store.unavailable within the deadline while frozen",
      ).toEqual([]);
      expect(probes.length).toBeGreaterThanOrEqual(9);

      // ---- every 202 is stored and delivered
      const accepted = samples.filter((s) => s.status === 202);
      const missing: string[] = [];
      await mapLimit(accepted, 16, async (s) => {
        const r = await api(base, "GET", `/v1/messages/${s.messageId}`);
        const payload = (r.json as { payload?: { id?: string } } | undefined)?.payload;
        if (r.status !== 200 || payload?.id !== s.eventId) {
          missing.push(`${s.eventId} → ${s.messageId}: ${r.status}`);
        }
      });
      expect(missing, "every 202'd message exists").toEqual([]);
      const acceptedIds = accepted.map((s) => s.messageId as string);
      await waitUntil(
        () => acceptedIds.every((id) => seen.has(id)),
        DELIVERY_DEADLINE_MS,
        () =>
          `the receiver has ${acceptedIds.filter((id) => seen.has(id)).length} of ${acceptedIds.length} accepted messages`,
        250,
      );

      // ---- a provider retrying every 503: accepted now, or a duplicate of the message that was
      // committed after its 503 — and delivered either way.
      const refused = samples.filter((s) => s.status === 503);
      const retry = { accepted: 0, duplicate: 0 };
      const retriedIds: string[] = [];
      const badRetries: string[] = [];
      await mapLimit(refused, 16, async (s) => {
        const r = await postStripeWebhook(`${base}/webhooks/stripe`, secret, s.eventId, {
          agent,
          timeoutMs: FREEZE_MS + 10_000,
        });
        const id = (r.json as { message_id?: string } | undefined)?.message_id;
        if ((r.status !== 200 && r.status !== 202) || id === undefined) {
          badRetries.push(`${s.eventId}: ${r.status} ${r.text}`);
          return;
        }
        if (r.status === 200) retry.duplicate++;
        else retry.accepted++;
        const m = await api(base, "GET", `/v1/messages/${id}`);
        const payload = (m.json as { payload?: { id?: string } } | undefined)?.payload;
        if (m.status !== 200 || payload?.id !== s.eventId) {
          badRetries.push(`${s.eventId} → ${id}: message ${m.status}`);
        }
        retriedIds.push(id);
      });
      expect(badRetries, "every retried 503 is accepted or a duplicate of its message").toEqual([]);
      await waitUntil(
        () => retriedIds.every((id) => seen.has(id)),
        DELIVERY_DEADLINE_MS,
        () =>
          `the receiver has ${retriedIds.filter((id) => seen.has(id)).length} of ${retriedIds.length} retried messages`,
        250,
      );
      // One message per event: no event was stored twice (under two message ids).
      const byEvent = new Map<string, Set<string>>();
      for (const [id, body] of receiver.bodies) {
        const eventId = (body as { id?: string } | undefined)?.id;
        if (eventId === undefined) continue;
        byEvent.set(eventId, (byEvent.get(eventId) ?? new Set()).add(id));
      }
      expect(
        [...byEvent].filter(([, ids]) => ids.size > 1).map(([e]) => e),
        "no event delivered as two messages",
      ).toEqual([]);
      expect(byEvent.size).toBeGreaterThanOrEqual(accepted.length);

      const frozenSamples = inPhase("frozen");
      const phases = (["freezing", "thawing"] as const)
        .map((p) => `${p} ${summarize(inPhase(p))}`)
        .join("; ");
      const max = (list: readonly Sample[]) => Math.max(0, ...list.map(latency));
      const count = (list: readonly Sample[], status: number) =>
        list.filter((s) => s.status === status).length;
      console.info(
        `  freeze (${FREEZE_MS} ms, deadline ${DEADLINE_MS} ms): ${samples.length} requests; ` +
          `max latency ${max(samples)} ms overall, ${max(frozenSamples)} ms for those sent while frozen; ` +
          `up ${count(inPhase("up"), 202)}×202 ${count(inPhase("up"), 503)}×503; ` +
          `frozen ${frozenSamples.length} requests ${count(frozenSamples, 202)}×202 ${count(frozenSamples, 200)}×200 ${frozen503}×503; ` +
          `${phases}; thawed ${count(inPhase("thawed"), 202)}×202 ${count(inPhase("thawed"), 503)}×503, 100 accepted ${recoveredMs} ms after the thaw; ` +
          `probes ${probes.length}×503 max ${Math.max(...probes.map((p) => p.ms))} ms; ` +
          `${accepted.length} accepted all stored and delivered (lost 0); ` +
          `503s retried: ${retry.accepted} accepted, ${retry.duplicate} duplicate, all delivered`,
      );
      expect(herald.child.exitCode, "herald kept running").toBeNull();
    } finally {
      const stopped = lanes.stop();
      await pg.thaw().catch(() => {});
      await stopped;
    }
  });
});

function describeSample(s: Sample): string {
  const ms = s.answeredAt === undefined ? "?" : String(s.answeredAt - s.sentAt);
  return `${s.phase} ${s.eventId}: ${s.status ?? s.error} ${s.code ?? ""} after ${ms} ms`;
}

function summarize(samples: readonly Sample[]): string {
  const counts = new Map<string, number>();
  for (const s of samples) {
    const key = `${s.status ?? s.error} ${s.code ?? ""}`.trim();
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  return JSON.stringify(Object.fromEntries(counts));
}
