// The webhooks spec: loading with file:line:column errors, the OpenAPI 3.1 document (checked by
// an independent validator), importing it back, and the check that gates a committed document.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, describe, expect, it } from "vitest";
import { canonicalJson } from "../../packages/spec/src/spec/canonicalJson.js";
import { checkOpenApi, lineDiff } from "../../packages/spec/src/spec/check.js";
import { fromOpenApi } from "../../packages/spec/src/spec/importOpenApi.js";
import { loadSpec, parseSpec } from "../../packages/spec/src/spec/load.js";
import {
  renderOpenApi,
  SPEC_EXTENSION,
  toOpenApi,
  WEBHOOK_EXTENSION,
} from "../../packages/spec/src/spec/openapi.js";
import { repoRoot } from "../helpers/spawnNode.js";

const generator = { version: "9.9.9" };
const dir = mkdtempSync(join(tmpdir(), "herald-spec-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const example = () => loadSpec("examples/spec/webhooks.yaml", repoRoot);

/** The error `parseSpec` throws for `text` (as file spec.yaml). */
function refusal(text: string): { code: string; message: string } {
  try {
    parseSpec(text, "spec.yaml", dir);
  } catch (error) {
    return error as { code: string; message: string };
  }
  throw new Error("the spec was accepted");
}

const minimal = `webhooks:
  - name: stripe
    direction: in
    signing: stripe
    events:
      - type: invoice.paid
`;

describe("loading a spec", () => {
  it("reads the example: both directions, schemas from a file, a $ref and inline, whole", () => {
    const { spec, schemas } = example();
    expect(spec.webhooks.map((w) => [w.name, w.direction])).toEqual([
      ["stripe", "in"],
      ["orders", "out"],
    ]);
    const invoice = schemas.get("stripe")?.get("invoice.paid") as Record<string, never>;
    // The nested $ref (#/components/schemas/Invoice → LineItem) is inlined, whole.
    expect(
      JSON.stringify(invoice).includes('"$ref"'),
      "every internal $ref of the provider document is inlined",
    ).toBe(false);
    expect(invoice).toMatchObject({
      properties: {
        data: {
          properties: {
            object: {
              required: ["id", "amount_paid", "currency"],
              properties: { lines: { type: "array", items: { properties: { amount: {} } } } },
            },
          },
        },
      },
    });
    const charge = schemas.get("stripe")?.get("charge.refunded") as Record<string, never>;
    expect(JSON.stringify(charge)).toContain('"oneOf"');
    const order = schemas.get("orders")?.get("order.placed") as Record<string, never>;
    expect(order).toMatchObject({ properties: { total: { required: ["amount", "currency"] } } });
    expect(schemas.get("orders")?.has("order.shipped.v0")).toBe(false);
  });

  it("takes the webhooks: of a herald.yaml and leaves its other keys to the config loader", () => {
    const loaded = parseSpec(`server: { port: 8080 }\n${minimal}`, "herald.yaml", dir);
    expect(loaded.spec).toEqual({
      webhooks: [
        { name: "stripe", direction: "in", signing: "stripe", events: [{ type: "invoice.paid" }] },
      ],
    });
  });

  it("accepts the short signing forms and hmac options", () => {
    for (const signing of ["hmac-sha256", "hmac-sha512", "ed25519", "github"]) {
      expect(() =>
        parseSpec(minimal.replace("stripe\n    events", `${signing}\n    events`), "s.yaml", dir),
      ).not.toThrow();
    }
    const hmac = minimal.replace(
      "signing: stripe",
      "signing: { scheme: hmac, options: { algorithm: sha512, signature_header: X-Sig } }",
    );
    expect(parseSpec(hmac, "s.yaml", dir).spec.webhooks[0]?.signing).toEqual({
      scheme: "hmac",
      options: { algorithm: "sha512", signature_header: "X-Sig" },
    });
  });

  it.each([
    [
      "an unknown key",
      minimal.replace("    signing: stripe", "    signing: stripe\n    retries: 3"),
      "spec.yaml:5:5: webhooks[0]",
    ],
    [
      "an unknown scheme",
      minimal.replace("signing: stripe", "signing: rot13"),
      "spec.yaml:4:5: webhooks[0].signing",
    ],
    [
      "max_attempts on an in webhook",
      minimal.replace("    signing: stripe", "    signing: stripe\n    max_attempts: 3"),
      "spec.yaml:5:5: webhooks[0].max_attempts: is only for direction: out",
    ],
    [
      "path on an out webhook",
      minimal
        .replace("direction: in", "direction: out")
        .replace("    signing: stripe", "    signing: stripe\n    path: /x"),
      "spec.yaml:5:5: webhooks[0].path: is only for direction: in",
    ],
    [
      "a repeated name",
      `${minimal}${minimal.replace("webhooks:\n", "")}`,
      "spec.yaml:7:5: webhooks[1].name: repeats the name of webhooks[0]",
    ],
    [
      "a repeated event type",
      `${minimal}      - type: invoice.paid\n`,
      "spec.yaml:7:9: webhooks[0].events[1].type: repeats the type of events[0]",
    ],
    [
      "an exponential backoff without max_attempts",
      minimal
        .replace("direction: in", "direction: out")
        .replace(
          "    signing: stripe",
          "    signing: stripe\n    backoff: { type: exponential, base_s: 5 }",
        ),
      "webhooks[0].max_attempts: is required with backoff type exponential",
    ],
    [
      "hmac options that do not compile",
      minimal.replace(
        "signing: stripe",
        'signing: { scheme: hmac, options: { template: "{timestamp}.{body}" } }',
      ),
      "webhooks[0].signing.options",
    ],
    ["a YAML syntax error", "webhooks: [", "spec.yaml:1:"],
    [
      "a schema file that is missing",
      minimal.replace(
        "- type: invoice.paid",
        "- type: invoice.paid\n        schema: { file: nope.json }",
      ),
      "spec.yaml:7:9: webhooks[0].events[0].schema: cannot read nope.json",
    ],
    [
      "a $ref to another file inside a schema",
      minimal.replace(
        "- type: invoice.paid",
        "- type: invoice.paid\n        schema: { type: object, properties: { a: { $ref: 'other.json#/A' } } }",
      ),
      "points outside the document (only #/… references are followed; nothing is fetched)",
    ],
    [
      "a URL as schema file",
      minimal.replace(
        "- type: invoice.paid",
        "- type: invoice.paid\n        schema: { file: 'https://example.com/s.json' }",
      ),
      "must be a path relative to the spec (no absolute paths or URLs)",
    ],
    [
      "a recursive $ref",
      minimal.replace(
        "- type: invoice.paid",
        "- type: invoice.paid\n        schema: { $defs: { A: { $ref: '#/$defs/A' } }, $ref: '#/$defs/A' }",
      ),
      "is recursive",
    ],
  ])("refuses %s with spec.invalid at file:line:column", (_what, text, message) => {
    const error = refusal(text);
    expect(error.code).toBe("spec.invalid");
    expect(error.message).toContain(message);
  });
});

describe("docs/spec.md", () => {
  it("shows examples/spec/webhooks.yaml verbatim", () => {
    const doc = readFileSync(join(repoRoot, "docs/spec.md"), "utf8");
    const block = /<!-- example: examples\/spec\/webhooks.yaml -->\n```yaml\n([\s\S]*?)```/.exec(
      doc,
    );
    expect(block?.[1]).toBe(readFileSync(join(repoRoot, "examples/spec/webhooks.yaml"), "utf8"));
  });
});

describe("the OpenAPI document", () => {
  it("is valid OpenAPI 3.1 for an independent validator", async () => {
    const doc = toOpenApi(example(), generator);
    const result = await new Validator().validate(doc);
    expect(result.errors).toBeUndefined();
    expect(result.valid).toBe(true);
  });

  it("puts in webhooks under paths and out webhooks under webhooks, each with its block", () => {
    const doc = toOpenApi(example(), generator) as Record<
      string,
      Record<string, Record<string, Record<string, unknown>>>
    >;
    expect(Object.keys(doc.paths ?? {})).toEqual(["/webhooks/stripe"]);
    expect(Object.keys(doc.webhooks ?? {}).sort()).toEqual([
      "order.cancelled",
      "order.placed",
      "order.shipped.v0",
    ]);
    const receive = doc.paths?.["/webhooks/stripe"]?.post as Record<string, unknown>;
    expect((receive[WEBHOOK_EXTENSION] as { name: string }).name).toBe("stripe");
    expect(receive.parameters).toEqual([
      { in: "header", name: "stripe-signature", required: true, schema: { type: "string" } },
    ]);
    const placed = doc.webhooks?.["order.placed"]?.post as Record<string, unknown>;
    expect((placed.parameters as Array<{ name: string }>).map((p) => p.name)).toEqual([
      "webhook-id",
      "webhook-signature",
      "webhook-timestamp",
    ]);
    expect(doc.webhooks?.["order.shipped.v0"]?.post?.deprecated).toBe(true);
    expect(doc[SPEC_EXTENSION]).toMatchObject({
      generator: "herald 9.9.9",
      order: ["stripe", "orders"],
    });
  });

  it("is the same text every time for the same spec, and says which spec it came from", () => {
    const once = renderOpenApi(example(), generator);
    expect(renderOpenApi(example(), generator)).toBe(once);
    expect(once.endsWith("}\n")).toBe(true);
    expect(once).not.toContain("\r");
    expect(once).not.toContain(repoRoot);
    expect(once).toMatch(/"spec_sha256": "[0-9a-f]{64}"/);
  });
});

describe("import and check", () => {
  it("imports the document back to the spec, exactly", () => {
    const loaded = example();
    const { spec, problems } = fromOpenApi(toOpenApi(loaded, generator));
    expect(problems).toEqual([]);
    expect(canonicalJson(spec)).toBe(canonicalJson(loaded.spec));
  });

  it("passes the committed example, as the project's CI runs it", () => {
    const loaded = example();
    const committed = renderOpenApi(loaded, generator);
    expect(checkOpenApi(loaded, committed, generator)).toEqual({
      ok: true,
      problems: [],
      diff: "",
    });
  });

  it("fails naming the webhook when its x-herald-webhook is removed", () => {
    const loaded = example();
    const doc = toOpenApi(loaded, generator) as {
      paths: Record<string, { post: Record<string, unknown> }>;
    };
    delete doc.paths["/webhooks/stripe"]?.post[WEBHOOK_EXTENSION];
    const result = checkOpenApi(loaded, canonicalJson(doc), generator);
    expect(result.ok).toBe(false);
    expect(result.problems.join("\n")).toContain(
      "webhook stripe: no operation carries its x-herald-webhook block",
    );
    expect(result.diff).toMatch(/^\+ +"x-herald-webhook": \{$/m);
  });

  it("fails naming the webhook when one copy of its block is edited", () => {
    const loaded = example();
    // A copy, as a reader of the file has it: each operation's block is its own object.
    const doc = JSON.parse(renderOpenApi(loaded, generator)) as {
      webhooks: Record<string, { post: Record<string, { max_attempts: number }> }>;
    };
    const block = doc.webhooks["order.placed"]?.post[WEBHOOK_EXTENSION];
    if (block !== undefined) block.max_attempts = 3;
    const result = checkOpenApi(loaded, canonicalJson(doc), generator);
    expect(result.ok).toBe(false);
    expect(result.problems.join("\n")).toContain(
      "webhook orders: its x-herald-webhook block differs",
    );
  });

  it("fails naming the webhook when every copy of its block is edited alike", () => {
    const loaded = example();
    const text = renderOpenApi(loaded, generator).replaceAll(
      '"max_attempts": 8',
      '"max_attempts": 5',
    );
    const result = checkOpenApi(loaded, text, generator);
    expect(result.ok).toBe(false);
    expect(result.problems.join("\n")).toContain("imports to a different spec (webhooks orders)");
    expect(result.diff).toContain('-           "max_attempts": 5,');
  });

  it("writes a short diff around the first difference", () => {
    expect(lineDiff("a\nb\nc\n", "a\nB\nc\n")).toBe("@@ line 2 @@\n  a\n- b\n+ B\n  c\n  \n");
    expect(lineDiff("same", "same")).toBe("");
  });

  it("refuses documents it cannot read the spec from, one problem each", () => {
    expect(fromOpenApi("text").problems).toHaveLength(1);
    expect(fromOpenApi({ openapi: "3.1.0" }).problems[0]?.where).toBe(SPEC_EXTENSION);
    const stray = toOpenApi(example(), generator) as Record<string, Record<string, unknown>>;
    (stray[SPEC_EXTENSION] as { order: string[] }).order = ["stripe"];
    expect(fromOpenApi(stray).problems.map((p) => p.webhook)).toEqual(["orders"]);
    writeFileSync(join(dir, "x.json"), "{}");
  });
});
