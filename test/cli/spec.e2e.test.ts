// `herald spec openapi | import | check` through the built CLI, as a user's CI runs them: the
// same spec gives the same bytes in two processes with another working directory and TZ, the
// committed example passes the check, and a document whose x-herald-webhook was dropped fails
// it, naming the webhook.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { canonicalJson } from "../../packages/spec/src/spec/canonicalJson.js";
import { loadSpec } from "../../packages/spec/src/spec/load.js";
import { repoRoot, runHerald } from "../helpers/spawnNode.js";

const dir = mkdtempSync(join(tmpdir(), "herald-spec-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const example = join(repoRoot, "examples/spec");

describe("herald spec", () => {
  it("writes byte-identical OpenAPI from two processes with another cwd, path form and TZ", async () => {
    const [a, b] = await Promise.all([
      runHerald(["spec", "openapi", "--spec", "examples/spec/webhooks.yaml"], {
        env: { TZ: "UTC", LANG: "C" },
      }),
      runHerald(["spec", "openapi", "--spec", "webhooks.yaml"], {
        cwd: example,
        env: { TZ: "Pacific/Chatham", LANG: "de_DE.UTF-8" },
      }),
    ]);
    expect(a.code).toBe(0);
    expect(b.code).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(a.stdout).not.toContain(repoRoot);
    await runHerald(["spec", "openapi", "--spec", "webhooks.yaml", "--out", join(dir, "o.json")], {
      cwd: example,
    });
    expect(readFileSync(join(dir, "o.json"), "utf8")).toBe(a.stdout);
  });

  it("passes the committed examples/spec documents (the project's own gate)", async () => {
    const run = await runHerald([
      "spec",
      "check",
      "--spec",
      "examples/spec/webhooks.yaml",
      "--openapi",
      "examples/spec/openapi.json",
      "--asyncapi",
      "examples/spec/asyncapi.json",
    ]);
    expect(run.stderr).toBe("");
    expect(run.stdout).toBe(
      "examples/spec/openapi.json: matches examples/spec/webhooks.yaml\nexamples/spec/asyncapi.json: matches examples/spec/webhooks.yaml\n",
    );
    expect(run.code).toBe(0);
  });

  it("exits 1 naming the webhook whose x-herald-webhook was removed", async () => {
    const doc = JSON.parse(readFileSync(join(example, "openapi.json"), "utf8"));
    delete doc.paths["/webhooks/stripe"].post["x-herald-webhook"];
    const tampered = join(dir, "tampered.json");
    writeFileSync(tampered, `${JSON.stringify(doc, null, 2)}\n`);
    const run = await runHerald([
      "spec",
      "check",
      "--spec",
      "examples/spec/webhooks.yaml",
      "--openapi",
      tampered,
    ]);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("webhook stripe: no operation carries its x-herald-webhook block");
    expect(run.stdout).toContain("herald spec openapi --spec examples/spec/webhooks.yaml --out");
  });

  it("imports the committed AsyncAPI document back to the spec", async () => {
    const run = await runHerald([
      "spec",
      "import",
      "--asyncapi",
      "examples/spec/asyncapi.json",
      "--json",
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(canonicalJson(loadSpec("examples/spec/webhooks.yaml", repoRoot).spec));
  });

  it("imports the committed document back to the spec", async () => {
    const run = await runHerald([
      "spec",
      "import",
      "--openapi",
      "examples/spec/openapi.json",
      "--json",
    ]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(canonicalJson(loadSpec("examples/spec/webhooks.yaml", repoRoot).spec));
    const yaml = await runHerald(["spec", "import", "--openapi", "examples/spec/openapi.json"]);
    expect(yaml.stdout).toMatch(/^info:\n {2}title: Shop webhooks\n/);
  });

  it("imports a provider's webhooks, naming each entry it could not import (exit 1)", async () => {
    const fixture = join(repoRoot, "test/spec/fixtures/provider-openapi.yaml");
    const args = ["spec", "import", "--openapi", fixture, "--json"];
    const run = await runHerald([...args, "--name", "acme", "--signing", "hmac-sha256"]);
    expect(run.code).toBe(1);
    const spec = JSON.parse(run.stdout) as { webhooks: Array<{ events: Array<{ type: string }> }> };
    expect(spec.webhooks[0]?.events.map((e) => e.type)).toEqual([
      "payment.succeeded",
      "refund-created",
    ]);
    for (const name of [
      'webhooks["Dispute opened"]',
      'webhooks["payout.paid"]',
      'webhooks["ping"]',
    ]) {
      expect(run.stderr).toContain(name);
    }
    const bare = await runHerald(args);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain("cli.missing_argument");
    expect(bare.stderr).toContain("give --name and --signing");
  });

  it("refuses a bad spec with spec.invalid at file:line:column", async () => {
    writeFileSync(join(dir, "bad.yaml"), "webhooks:\n  - name: x\n    direction: sideways\n");
    const run = await runHerald(["spec", "openapi", "--spec", "bad.yaml"], { cwd: dir });
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("error: spec.invalid: bad.yaml:3:5: webhooks[0].direction");
  });
});
