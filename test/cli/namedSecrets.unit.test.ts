// `herald secret list|create|rotate|delete` (and the `secrets` alias) in-process through runCli
// against a temporary SQLite file, on a manual clock: a value is printed only when generated,
// and never by list, rotate with a given value, or an error.
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import type { DeliveryStore } from "../../packages/core/src/store/deliveryPorts.js";
import { createSqliteDeliveryStore } from "../../packages/sqlite/src/store/sqlite/deliveryStore.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import { generateSecret } from "../../packages/webhooks/src/signing/sign.js";
import { type CliRun, runCliCaptured } from "../helpers/runCliCaptured.js";
import { type MigratedSqlite, migratedSqlite } from "../helpers/sqlite.js";

const START = Date.parse("2025-03-01T10:00:00.000Z");

let sqlite: MigratedSqlite;
let store: DeliveryStore;
let clock: ManualClock;

beforeEach(() => {
  sqlite = migratedSqlite();
  clock = new ManualClock(START);
  store = createSqliteDeliveryStore(sqlite.db, { clock });
});
afterEach(() => sqlite.cleanup());

function cli(args: string[], env: Record<string, string> = {}): Promise<CliRun> {
  return runCliCaptured([...args, "--db", sqlite.path], { env, clock });
}

describe("herald secret", () => {
  it("creates with a generated value, printed once, and lists without values", async () => {
    const created = await cli(["secret", "create", "partner"]);
    expect(created.code).toBe(0);
    const value = /^secret: (whsec_\S+)\n$/.exec(created.stdout)?.[1];
    expect(value).toBeDefined();
    expect(created.stderr).toMatch(/no herald command shows it again/);
    expect((await store.getNamedSecret("default", "partner"))?.secrets[0]?.secret).toBe(value);

    const list = await cli(["secrets", "list"]);
    expect(list).toEqual({
      code: 0,
      stdout:
        "NAME     TENANT   SCHEME    VERSIONS  UPDATED\npartner  default  standard  1         2025-03-01T10:00:00Z\n",
      stderr: "",
    });
    const json = await cli(["secret", "list", "--json"]);
    expect(JSON.parse(json.stdout)).toEqual({
      data: [
        {
          name: "partner",
          tenant: "default",
          scheme: "standard",
          scheme_options: null,
          versions: [{ created_at: "2025-03-01T10:00:00.000Z", expires_at: null }],
          created_at: "2025-03-01T10:00:00.000Z",
          updated_at: "2025-03-01T10:00:00.000Z",
        },
      ],
    });
    expect(json.stdout).not.toContain(value!);
  });

  it("takes a value from --secret or HERALD_SECRET without printing it, and checks it against the scheme", async () => {
    const given = generateSecret("standard");
    const created = await cli(["secret", "create", "partner", "--tenant", "acme"], {
      HERALD_SECRET: `${given}\n`,
    });
    expect(created).toEqual({
      code: 0,
      stdout: "created secret partner (tenant acme, standard)\n",
      stderr: "",
    });
    expect((await store.getNamedSecret("acme", "partner"))?.secrets[0]?.secret).toBe(given);

    const bad = await cli(["secret", "create", "other", "--secret", "not-a-standard-secret"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(
      /^error: cli\.invalid_argument: --secret: is not a usable standard secret: /,
    );
    expect(bad.stderr).not.toContain("not-a-standard-secret");
    const github = await cli(["secret", "create", "gh", "--scheme", "github", "--json"]);
    expect(JSON.parse(github.stdout)).toMatchObject({ name: "gh", scheme: "github" });
    expect(JSON.parse(github.stdout).secret).toEqual(expect.any(String));

    const taken = await cli(["secret", "create", "partner", "--tenant", "acme"]);
    expect(taken.code).toBe(1);
    expect(taken.stderr).toMatch(/^error: secret\.already_exists: /);
  });

  it("rotates with an overlap and deletes", async () => {
    const first = generateSecret("standard");
    await store.createNamedSecret({ name: "partner", secrets: [{ secret: first }] });
    clock.advance(60_000);
    const rotated = await cli(["secret", "rotate", "partner", "--overlap", "3600", "--json"]);
    expect(rotated.code).toBe(0);
    const body = JSON.parse(rotated.stdout);
    expect(body.secret).toMatch(/^whsec_/);
    expect(body.versions).toEqual([
      { created_at: "2025-03-01T10:01:00.000Z", expires_at: null },
      { created_at: "2025-03-01T10:00:00.000Z", expires_at: "2025-03-01T11:01:00.000Z" },
    ]);
    expect(rotated.stdout).not.toContain(first);

    const next = generateSecret("standard");
    const given = await cli(["secret", "rotate", "partner", "--secret", next]);
    expect(given).toEqual({
      code: 0,
      stdout: "rotated secret partner (tenant default, standard)\n",
      stderr: "",
    });
    expect(
      (await store.getNamedSecret("default", "partner"))?.secrets.map((s) => s.secret),
    ).toEqual([next, body.secret, first]);
    const refused = await cli(["secret", "rotate", "partner", "--secret", "short"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^error: cli\.invalid_argument: --secret: is not a usable /);
    const missing = await cli(["secret", "rotate", "nobody"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error: secret\.not_found: /);

    expect(await cli(["secret", "delete", "partner"])).toEqual({
      code: 0,
      stdout: "deleted secret partner (tenant default)\n",
      stderr: "",
    });
    const again = await cli(["secret", "delete", "partner"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error: secret\.not_found: /);
    expect(await cli(["secret", "list"])).toMatchObject({ stdout: "no secrets\n" });
  });

  it("documents each subcommand in --help", async () => {
    for (const sub of ["list", "create", "rotate", "delete"]) {
      const help = await runCliCaptured(["secret", sub, "--help"]);
      expect(help.code).toBe(0);
      expect(help.stdout).toMatch(/Exit status:/);
    }
  });
});
