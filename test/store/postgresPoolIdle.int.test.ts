// Idle pool connections stay open (database.ts, IDLE_TIMEOUT_MS): pg would close them after 10 s,
// and a burst after a quiet spell would then wait for new backends. They must not keep the
// process alive either: an idle connection's socket is unref'd until it is taken again. And the
// connections' application_name: the pool's, unless the URL or PGAPPNAME names one.
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { createPgPool } from "../../packages/postgres/src/store/postgres/database.js";
import { createTestSchema, type TestSchema } from "../helpers/postgres.js";
import { serviceAvailable, serviceUrl } from "../helpers/services.js";

const available = await serviceAvailable("postgres");

const backendPid = async (client: { query: TestSchema["pool"]["query"] }) => {
  const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
  return rows[0]!.pid;
};

/** Sockets keeping the event loop alive. */
const refSockets = () =>
  process.getActiveResourcesInfo().filter((name) => name === "TCPSocketWrap").length;

// Skipped only when PostgreSQL is down outside CI; under CI=true serviceAvailable throws instead.
describe.skipIf(!available)("postgres pool: idle connections", () => {
  let schema: TestSchema;

  beforeAll(async () => {
    schema = await createTestSchema("poolidle", { migrate: false, max: 3 });
  });

  afterAll(async (suite) => {
    await schema?.dropIfPassed(suite);
  });

  it("keeps its connections through a quiet minute", async () => {
    const { pool } = schema;
    const clients = await Promise.all([pool.connect(), pool.connect(), pool.connect()]);
    const pids = await Promise.all(clients.map(backendPid));
    vi.useFakeTimers({ toFake: ["setTimeout", "clearTimeout"] });
    try {
      for (const client of clients) client.release();
      // pg's own default would close each of them 10 s after its release.
      await vi.advanceTimersByTimeAsync(60_000);
      expect(pool.totalCount).toBe(3);
      expect(pool.idleCount).toBe(3);
    } finally {
      vi.useRealTimers();
    }
    const again = await Promise.all([pool.connect(), pool.connect(), pool.connect()]);
    expect(new Set(await Promise.all(again.map(backendPid)))).toEqual(new Set(pids));
    for (const client of again) client.release();
  });

  it("does not keep the process alive with idle connections", async () => {
    const { pool } = schema;
    const idle = refSockets();
    const clients = await Promise.all([pool.connect(), pool.connect(), pool.connect()]);
    // Taken from the pool, the three sockets hold the process as any query in flight does.
    expect(refSockets()).toBe(idle + 3);
    for (const client of clients) client.release();
    expect(refSockets()).toBe(idle);
  });
});

// Skipped only when PostgreSQL is down outside CI; under CI=true serviceAvailable throws instead.
describe.skipIf(!available)("postgres pool: application_name", () => {
  afterEach(() => {
    vi.unstubAllEnvs();
  });

  const nameOf = async (options: { url?: string; applicationName?: string }) => {
    const pool = createPgPool({
      connectionString: options.url ?? serviceUrl("postgres"),
      max: 1,
      ...(options.applicationName === undefined
        ? {}
        : { applicationName: options.applicationName }),
    });
    try {
      const { rows } = await pool.query<{ name: string }>(
        "SELECT application_name AS name FROM pg_stat_activity WHERE pid = pg_backend_pid()",
      );
      return rows[0]!.name;
    } finally {
      await pool.end();
    }
  };

  it("is herald, or the name the pool is given", async () => {
    vi.stubEnv("PGAPPNAME", undefined);
    expect(await nameOf({})).toBe("herald");
    expect(await nameOf({ applicationName: "herald worker" })).toBe("herald worker");
  });

  it("is the connection string's or PGAPPNAME's when they name one", async () => {
    const url = new URL(serviceUrl("postgres"));
    url.searchParams.set("application_name", "from_url");
    vi.stubEnv("PGAPPNAME", undefined);
    expect(await nameOf({ url: url.toString(), applicationName: "herald serve" })).toBe("from_url");
    vi.stubEnv("PGAPPNAME", "from_env");
    expect(await nameOf({ applicationName: "herald serve" })).toBe("from_env");
  });
});
