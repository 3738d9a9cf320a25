// `herald nats token create|list|revoke` in-process through runCli against a temporary SQLite
// file, on a manual clock: the token is printed once and passes the auth callout's check; list
// shows states, never tokens; revoke refuses an unknown id; bad flags are usage errors.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkNatsToken } from "../../packages/core/src/delivery/natsTokens.js";
import type { DeliveryStore } from "../../packages/core/src/store/deliveryPorts.js";
import { mintedNatsTokenShape, natsTokenShape } from "../../packages/server/src/wire/natsToken.js";
import { createSqliteDeliveryStore } from "../../packages/sqlite/src/store/sqlite/deliveryStore.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import { type CliRun, runCliCaptured } from "../helpers/runCliCaptured.js";
import { type MigratedSqlite, migratedSqlite } from "../helpers/sqlite.js";

const START = Date.parse("2025-03-01T10:00:00.000Z");
const AGENT = "7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f";

let sqlite: MigratedSqlite;
let store: DeliveryStore;
let clock: ManualClock;

beforeEach(() => {
  sqlite = migratedSqlite();
  clock = new ManualClock(START);
  store = createSqliteDeliveryStore(sqlite.db, { clock });
});
afterEach(() => sqlite.cleanup());

function cli(args: string[]): Promise<CliRun> {
  return runCliCaptured(["nats", "token", ...args, "--db", sqlite.path], { clock });
}

/** The token a plain `create` printed: `token: hnt_…` on stdout, nothing else. */
function printedToken(run: CliRun): string {
  expect(run.code, run.stderr).toBe(0);
  const token = /^token: (hnt_[A-Za-z0-9_-]{43})\n$/.exec(run.stdout)?.[1];
  expect(token, run.stdout).toBeDefined();
  expect(run.stderr).not.toContain(token!);
  return token!;
}

describe("herald nats token", () => {
  it("creates a token printed once, lists states without tokens, revokes", async () => {
    const created = await cli(["create", "--identity", "agent.compute", "--id", AGENT]);
    const token = printedToken(created);
    expect(created.stderr).toMatch(
      /^Created NATS token ntk_[0-9A-Z]{26} \(agent\.compute 7c1d2e3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f, tenant default\), never expires\. .*no herald command shows it again\.\n$/,
    );
    const check = await checkNatsToken(store, token, { clock });
    expect(check).toMatchObject({
      ok: true,
      record: { identity: "agent.compute", subjectId: AGENT, tenant: "default", expiresAt: null },
    });
    const agentId = check.ok ? check.record.id : "";

    clock.advance(1_000);
    const client = await cli([
      "create",
      "--identity",
      "client",
      "--id",
      "user_42",
      "--tenant",
      "acme",
      "--expires",
      "12h",
    ]);
    const clientToken = printedToken(client);
    expect(client.stderr).toContain(
      "(client user_42, tenant acme), valid until 2025-03-01T22:00:01.000Z.",
    );
    const clientCheck = await checkNatsToken(store, clientToken, { clock });
    expect(clientCheck).toMatchObject({
      ok: true,
      record: { expiresAt: "2025-03-01T22:00:01.000Z" },
    });
    const clientId = clientCheck.ok ? clientCheck.record.id : "";

    const list = await cli(["list"]);
    expect(list).toEqual({
      code: 0,
      stdout:
        "ID                              IDENTITY       SUBJECT ID                            TENANT   STATE  EXPIRES\n" +
        `${agentId}  agent.compute  ${AGENT}  default  live   never\n` +
        `${clientId}  client         user_42                               acme     live   2025-03-01T22:00:01Z\n`,
      stderr: "",
    });

    clock.advance(12 * 3_600_000);
    const later = await cli(["list"]);
    expect(later.stdout).toMatch(new RegExp(`${clientId} .* expired +2025-03-01T22:00:01Z\\n`));
    expect(later.stdout).toMatch(new RegExp(`${agentId} .* live +never\\n`));

    const revoked = await cli(["revoke", agentId]);
    expect(revoked).toEqual({ code: 0, stdout: `revoked NATS token ${agentId}\n`, stderr: "" });
    expect(await checkNatsToken(store, token, { clock })).toMatchObject({
      ok: false,
      reason: "revoked",
    });
    const after = await cli(["list"]);
    expect(after.stdout).toMatch(new RegExp(`${agentId} .* revoked +never\\n`));

    for (const run of [list, later, revoked, after]) {
      for (const secret of [token, clientToken]) {
        expect(run.stdout).not.toContain(secret);
        expect(run.stderr).not.toContain(secret);
        expect(run.stdout).not.toContain(secret.slice(4));
      }
    }
  });

  it("filters the list by tenant, identity and id", async () => {
    printedToken(
      await cli(["create", "--identity", "client", "--id", "alice", "--tenant", "acme"]),
    );
    printedToken(await cli(["create", "--identity", "client", "--id", "bob", "--tenant", "acme"]));
    printedToken(await cli(["create", "--identity", "service", "--id", "listener"]));
    printedToken(
      await cli(["create", "--identity", "agent.storage", "--id", AGENT, "--tenant", "acme"]),
    );
    const ids = async (...filters: string[]) => {
      const run = await cli(["list", "--json", ...filters]);
      expect(run.code, run.stderr).toBe(0);
      return (JSON.parse(run.stdout) as { data: { subject_id: string }[] }).data.map(
        (t) => t.subject_id,
      );
    };
    expect(await ids()).toEqual(["alice", "bob", "listener", AGENT]);
    expect(await ids("--tenant", "acme")).toEqual(["alice", "bob", AGENT]);
    expect(await ids("--identity", "client")).toEqual(["alice", "bob"]);
    expect(await ids("--identity", "service")).toEqual(["listener"]);
    expect(await ids("--id", "bob")).toEqual(["bob"]);
    expect(await ids("--tenant", "acme", "--identity", "agent.storage")).toEqual([AGENT]);
    expect(await ids("--tenant", "globex")).toEqual([]);
    expect((await cli(["list", "--tenant", "globex"])).stdout).toBe("no NATS tokens\n");
  });

  it("prints the --json shapes: the token once with create, never with list or revoke", async () => {
    const created = await cli([
      "create",
      "--identity",
      "service",
      "--id",
      "listener",
      "--expires",
      "30d",
      "--json",
    ]);
    expect(created.code, created.stderr).toBe(0);
    expect(created.stderr).toBe("");
    const minted = mintedNatsTokenShape.strict().parse(JSON.parse(created.stdout));
    expect(minted).toEqual({
      id: expect.stringMatching(/^ntk_[0-9A-Z]{26}$/),
      identity: "service",
      subject_id: "listener",
      tenant: "default",
      created_at: "2025-03-01T10:00:00.000Z",
      expires_at: "2025-03-31T10:00:00.000Z",
      revoked_at: null,
      state: "live",
      token: expect.stringMatching(/^hnt_[A-Za-z0-9_-]{43}$/),
    });
    expect(await checkNatsToken(store, minted.token, { clock })).toMatchObject({ ok: true });

    const listed = await cli(["list", "--json"]);
    const body = JSON.parse(listed.stdout) as { data: unknown[] };
    const { token: _token, ...shown } = minted;
    expect(body.data.map((t) => natsTokenShape.strict().parse(t))).toEqual([shown]);

    clock.advance(5_000);
    const revoked = await cli(["revoke", minted.id, "--json"]);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(natsTokenShape.strict().parse(JSON.parse(revoked.stdout))).toEqual({
      ...shown,
      revoked_at: "2025-03-01T10:00:05.000Z",
      state: "revoked",
    });
    for (const run of [listed, revoked]) {
      expect(run.stdout).not.toContain(minted.token);
      expect(run.stdout).not.toContain("hnt_");
      expect(run.stderr).toBe("");
    }
  });

  it("refuses a bad --expires, a bad --identity and a client without --tenant as usage errors", async () => {
    for (const expires of [
      "0d",
      "-1d",
      "1.5h",
      "30",
      "30y",
      "d",
      "10 d",
      "1e3s",
      "3651d",
      "999999999d",
    ]) {
      const run = await cli(["create", "--identity", "service", "--id", "x", "--expires", expires]);
      expect(run.code, expires).toBe(2);
      expect(run.stderr).toMatch(/^error: cli\.invalid_argument: .*--expires/);
      expect(run.stdout).toBe("");
    }
    for (const identity of ["agent", "agent.gpu", "Client", "admin"]) {
      const run = await cli(["create", "--identity", identity, "--id", "x"]);
      expect(run.code, identity).toBe(2);
      expect(run.stderr).toMatch(/^error: cli\.invalid_argument: .*--identity/);
      expect(run.stderr).toContain("agent.compute, agent.storage, agent.network, client, service");
    }
    const listIdentity = await cli(["list", "--identity", "robot"]);
    expect(listIdentity.code).toBe(2);
    expect(listIdentity.stderr).toMatch(/^error: cli\.invalid_argument: /);

    const noTenant = await cli(["create", "--identity", "client", "--id", "alice"]);
    expect(noTenant.code).toBe(2);
    expect(noTenant.stderr).toMatch(/^error: cli\.missing_argument: --tenant is required/);
    expect(noTenant.stdout).toBe("");

    const noId = await cli(["create", "--identity", "service"]);
    expect(noId.code).toBe(2);
    expect(noId.stderr).toMatch(/^error: cli\.missing_argument: .*--id/);

    expect(await store.listNatsTokens()).toEqual([]);
  });

  it("refuses an id or tenant a subject cannot carry with nats_token.invalid (exit 1)", async () => {
    const cases: [string[], string][] = [
      [["--identity", "agent.network", "--id", "not-a-uuid"], "id"],
      [["--identity", "service", "--id", "a.b"], "id"],
      [["--identity", "service", "--id", ">"], "id"],
      [["--identity", "client", "--id", "alice", "--tenant", "ac*me"], "tenant"],
      [["--identity", "client", "--id", "a b", "--tenant", "acme"], "id"],
    ];
    for (const [flags, field] of cases) {
      const run = await cli(["create", ...flags]);
      expect(run.code, flags.join(" ")).toBe(1);
      expect(run.stderr).toMatch(new RegExp(`^error: nats_token\\.invalid: ${field} `));
      expect(run.stdout).toBe("");
    }
    const json = await cli(["create", "--identity", "service", "--id", "a.b", "--json"]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: "nats_token.invalid" } });
    expect(await store.listNatsTokens()).toEqual([]);
  });

  it("refuses to revoke an unknown id with nats_token.not_found (exit 1)", async () => {
    const unknown = await cli(["revoke", "ntk_01JAAAAAAAAAAAAAAAAAAAAAAA"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe("");
    expect(unknown.stderr).toBe(
      'error: nats_token.not_found: No NATS token "ntk_01JAAAAAAAAAAAAAAAAAAAAAAA"\n',
    );
    const json = await cli(["revoke", "ntk_01JAAAAAAAAAAAAAAAAAAAAAAA", "--json"]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ error: { code: "nats_token.not_found" } });
  });

  it("is listed in `herald nats --help` and documents its exit statuses", async () => {
    const group = await runCliCaptured(["nats", "--help"]);
    expect(group.stdout).toMatch(/\n {2}token +create, list and revoke NATS tokens\n/);
    const help = await runCliCaptured(["nats", "token", "create", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--expires <span>");
    expect(help.stdout).toContain("cli.missing_argument");
    expect(help.stdout).toContain("nats_token.invalid");
    const revoke = await runCliCaptured(["nats", "token", "revoke", "--help"]);
    expect(revoke.stdout).toContain("nats_token.not_found");
  });
});
