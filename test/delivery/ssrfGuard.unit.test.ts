// The SSRF guard against a real HTTP server on 127.0.0.1; nothing but loopback is ever contacted.
import type { LookupAddress } from "node:dns";
import { createServer, type Server } from "node:http";
import { connect } from "node:net";
import { request } from "undici";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createSsrfGuard,
  type HostResolver,
  isSsrfBlocked,
} from "../../packages/core/src/delivery/ssrfGuard.js";
import { HeraldError, isHeraldError } from "../../packages/webhooks/src/core/errors.js";

let server: Server;
let port = 0;
let hits = 0;

beforeAll(async () => {
  server = createServer((_req, res) => {
    hits += 1;
    res.end("ok");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

afterEach(() => {
  hits = 0;
});

const v4 = (address: string): LookupAddress => ({ address, family: 4 });
const v6 = (address: string): LookupAddress => ({ address, family: 6 });

/** A fake DNS: test names only, so no query ever leaves the machine. */
function fakeDns(table: Record<string, LookupAddress[] | (() => LookupAddress[])>): HostResolver {
  return async (hostname) => {
    const entry = table[hostname];
    if (entry === undefined)
      throw Object.assign(new Error(`ENOTFOUND ${hostname}`), { code: "ENOTFOUND" });
    return typeof entry === "function" ? entry() : entry;
  };
}

async function refusal(promise: Promise<unknown>): Promise<HeraldError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(isHeraldError(error, "ssrf.blocked")).toBe(true);
  return error as HeraldError;
}

describe("guarded agent (real server on 127.0.0.1)", () => {
  it("blocks loopback by default: the request never reaches the server", async () => {
    const agent = createSsrfGuard({ lookup: fakeDns({}) }).createGuardedAgent();
    try {
      const error = await refusal(request(`http://127.0.0.1:${port}/`, { dispatcher: agent }));
      expect(error.details).toEqual({
        host: "127.0.0.1",
        address: "127.0.0.1",
        reason: "loopback",
      });
      expect(error.message).toContain("127.0.0.1");
      expect(error.message).toContain("loopback");
      expect(hits).toBe(0);
    } finally {
      await agent.close();
    }
  });

  // #region ssrf-allowlist
  it("lets allowlisted ranges through", async () => {
    const guard = createSsrfGuard({ allow: ["127.0.0.0/8"] });
    const agent = guard.createGuardedAgent({ connect: { timeout: 2_000 } });
    try {
      const response = await request(`http://127.0.0.1:${port}/`, { dispatcher: agent });
      expect(response.statusCode).toBe(200);
      expect(await response.body.text()).toBe("ok");
    } finally {
      await agent.close();
    }
  });
  // #endregion ssrf-allowlist

  it("checks IP-literal hosts itself, since Node skips lookup for them", async () => {
    const asked: string[] = [];
    const guard = createSsrfGuard({
      lookup: async (hostname) => {
        asked.push(hostname);
        return [];
      },
    });
    const agent = guard.createGuardedAgent();
    try {
      for (const url of [
        `http://[::1]:${port}/`,
        `http://[::ffff:127.0.0.1]:${port}/`,
        `http://[::ffff:7f00:1]:${port}/`,
        `http://127.1:${port}/`,
        `http://0x7f000001:${port}/`,
        `http://2130706433:${port}/`,
        `http://0177.0.0.1:${port}/`,
        `http://0.0.0.0:${port}/`,
      ]) {
        const error = await refusal(request(url, { dispatcher: agent }));
        expect(["loopback", "unspecified"]).toContain(error.details?.reason);
      }
      expect(asked).toEqual([]);
      expect(hits).toBe(0);
    } finally {
      await agent.close();
    }
  });

  it("blocks hostnames resolving to internal addresses, and any mix with one", async () => {
    const guard = createSsrfGuard({
      lookup: fakeDns({
        localhost: [v4("127.0.0.1"), v6("::1")],
        "intranet.test": [v4("10.1.2.3")],
        "metadata.test": [v4("169.254.169.254")],
        "mixed.test": [v4("93.184.216.34"), v4("127.0.0.1")],
        "mapped.test": [v6("::ffff:127.0.0.1")],
      }),
    });
    const agent = guard.createGuardedAgent();
    try {
      const reasons: Record<string, unknown> = {};
      for (const host of [
        "localhost",
        "intranet.test",
        "metadata.test",
        "mixed.test",
        "mapped.test",
      ]) {
        const error = await refusal(request(`http://${host}:${port}/`, { dispatcher: agent }));
        expect(error.details?.host).toBe(host);
        reasons[host] = error.details?.reason;
      }
      expect(reasons).toEqual({
        localhost: "loopback",
        "intranet.test": "private",
        "metadata.test": "metadata",
        "mixed.test": "loopback",
        "mapped.test": "loopback",
      });
      expect(hits).toBe(0);
    } finally {
      await agent.close();
    }
  });

  it("blocks DNS rebinding: the address is checked when connecting, not when validated", async () => {
    const answers = [[v4("93.184.216.34")], [v4("127.0.0.1")]];
    const guard = createSsrfGuard({
      lookup: fakeDns({ "rebind.test": () => answers.shift() ?? [] }),
    });
    // Validation time (e.g. when the endpoint is created): the name looks public.
    await expect(guard.checkHost("rebind.test")).resolves.toEqual([v4("93.184.216.34")]);
    // Connect time: the name now points at loopback, and that is the address that is vetted.
    const agent = guard.createGuardedAgent();
    try {
      const error = await refusal(request(`http://rebind.test:${port}/`, { dispatcher: agent }));
      expect(error.details).toEqual({
        host: "rebind.test",
        address: "127.0.0.1",
        reason: "loopback",
      });
      expect(error.message).toMatch(/rebind\.test.*127\.0\.0\.1.*loopback/);
      expect(hits).toBe(0);
    } finally {
      await agent.close();
    }
  });

  it("connects to an allowlisted hostname at the address it resolved to", async () => {
    const guard = createSsrfGuard({
      allow: "127.0.0.0/8, ::1/128",
      lookup: fakeDns({ "receiver.test": [v4("127.0.0.1")] }),
    });
    const agent = guard.createGuardedAgent();
    try {
      const response = await request(`http://receiver.test:${port}/`, { dispatcher: agent });
      expect(response.statusCode).toBe(200);
      await response.body.dump();
      expect(hits).toBe(1);
    } finally {
      await agent.close();
    }
  });

  it("does not follow redirects (that is the transport's call)", async () => {
    const redirecting = createServer((_req, res) => {
      hits += 1;
      res.writeHead(302, { location: "http://169.254.169.254/latest/meta-data/" }).end();
    });
    await new Promise<void>((resolve) => redirecting.listen(0, "127.0.0.1", resolve));
    const agent = createSsrfGuard({ allow: "127.0.0.1" }).createGuardedAgent();
    try {
      const { port: redirectPort } = redirecting.address() as { port: number };
      const response = await request(`http://127.0.0.1:${redirectPort}/`, { dispatcher: agent });
      expect(response.statusCode).toBe(302);
      await response.body.dump();
      expect(hits).toBe(1);
    } finally {
      await agent.close();
      await new Promise<void>((resolve) => redirecting.close(() => resolve()));
    }
  });
});

describe("guard.lookup as a net.connect option", () => {
  function connectWith(guard: ReturnType<typeof createSsrfGuard>, host: string) {
    return new Promise<string>((resolve, reject) => {
      const socket = connect({ host, port, lookup: guard.lookup });
      socket.once("connect", () => {
        const remote = socket.remoteAddress ?? "";
        socket.destroy();
        resolve(remote);
      });
      socket.once("error", reject);
    });
  }

  it("fails the connection on a blocked answer and connects on an allowed one", async () => {
    const dns = fakeDns({ "rebind.test": [v4("127.0.0.1")] });
    const error = await refusal(connectWith(createSsrfGuard({ lookup: dns }), "rebind.test"));
    expect(error.details?.reason).toBe("loopback");
    const allowed = createSsrfGuard({ lookup: dns, allow: "127.0.0.0/8" });
    await expect(connectWith(allowed, "rebind.test")).resolves.toBe("127.0.0.1");
  });

  it("answers single-address lookups too", async () => {
    const guard = createSsrfGuard({ lookup: fakeDns({ "public.test": [v4("93.184.216.34")] }) });
    const answer = await new Promise<[string, number | undefined]>((resolve, reject) => {
      guard.lookup("public.test", { family: 4 }, (err, address, family) =>
        err ? reject(err) : resolve([address as string, family]),
      );
    });
    expect(answer).toEqual(["93.184.216.34", 4]);
  });
});

describe("checkHost and checkAddress", () => {
  it("classifies addresses with the allowlist applied", () => {
    const guard = createSsrfGuard({ allow: "10.0.0.0/8" });
    expect(guard.checkAddress("10.9.9.9")).toMatchObject({ allowed: true, allowlisted: true });
    expect(guard.checkAddress("192.168.0.1")).toMatchObject({ allowed: false, reason: "private" });
    expect(guard.checkAddress("2606:4700::1111")).toMatchObject({ allowed: true });
  });

  it("treats numeric host spellings as the IP they mean, without asking DNS", async () => {
    const guard = createSsrfGuard({ lookup: fakeDns({}) });
    for (const host of [
      "127.1",
      "0x7f000001",
      "2130706433",
      "0177.0.0.1",
      "[::ffff:127.0.0.1]",
      "::1",
    ]) {
      const error = await refusal(guard.checkHost(host));
      expect(error.details?.reason).toBe("loopback");
    }
  });

  it("passes public names and reports unknown ones as DNS errors, not as blocked", async () => {
    const guard = createSsrfGuard({ lookup: fakeDns({ "public.test": [v6("2606:4700::1111")] }) });
    await expect(guard.checkHost("public.test")).resolves.toEqual([v6("2606:4700::1111")]);
    await expect(guard.checkHost("93.184.216.34")).resolves.toEqual([v4("93.184.216.34")]);
    await expect(guard.checkHost("missing.test")).rejects.toMatchObject({ code: "ENOTFOUND" });
  });

  it("rejects a bad allowlist with config.invalid", () => {
    expect(() => createSsrfGuard({ allow: "127.0.0.0/8,10.0.0.0/99" })).toThrow(/10\.0\.0\.0\/99/);
  });

  it("finds ssrf.blocked behind wrapping errors (fetch wraps them as `cause`)", () => {
    const blocked = new HeraldError("ssrf.blocked", "no");
    expect(isSsrfBlocked(new TypeError("fetch failed", { cause: blocked }))).toBe(true);
    expect(isSsrfBlocked(new Error("other"))).toBe(false);
    expect(isSsrfBlocked("ssrf.blocked")).toBe(false);
  });
});
