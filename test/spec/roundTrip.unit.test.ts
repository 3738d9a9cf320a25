// spec → OpenAPI (and AsyncAPI) → import → spec is the identity, over generated specs: both
// directions, every signing form, retries, dedupe, and event schemas that are nested, use oneOf
// and arrays, reference their own $defs (and keys that look like escaped references), or come
// from a file or a $ref into an OpenAPI document.
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { renderAsyncApi } from "../../packages/spec/src/spec/asyncapi.js";
import { canonicalJson } from "../../packages/spec/src/spec/canonicalJson.js";
import { fromAsyncApi, fromOpenApi } from "../../packages/spec/src/spec/importOpenApi.js";
import { parseSpec } from "../../packages/spec/src/spec/load.js";
import { renderOpenApi } from "../../packages/spec/src/spec/openapi.js";
import { repoRoot } from "../helpers/spawnNode.js";

const generator = { version: "0.0.0-test" };
const specDir = join(repoRoot, "examples/spec");
const name = fc.stringMatching(/^[a-z][a-z0-9_-]{0,12}$/);
const segment = fc.stringMatching(/^[a-z][a-z0-9_]{0,8}$/);
const eventType = fc.array(segment, { minLength: 1, maxLength: 3 }).map((parts) => parts.join("."));

const leaf = fc.oneof(
  fc.constant({ type: "string" }),
  fc.constant({ type: "integer", minimum: 0 }),
  fc.constant({ type: ["string", "null"] }),
  fc.constant({ $ref: "#/$defs/Money" }),
  fc.constant({ enum: ["a", "b"], description: "$$ref and $ref-like keys stay as written" }),
);
const schema = fc
  .letrec<{ node: Record<string, unknown> }>((tie) => ({
    node: fc.oneof(
      { depthSize: "small" },
      leaf,
      fc.record({
        type: fc.constant("object"),
        properties: fc.dictionary(segment, tie("node"), { maxKeys: 3 }),
      }),
      fc.record({ type: fc.constant("array"), items: tie("node") }),
      fc.record({ oneOf: fc.array(tie("node"), { minLength: 1, maxLength: 3 }) }),
    ),
  }))
  .node.map((root) => ({
    ...root,
    $defs: { Money: { type: "object", properties: { amount: { type: "integer" } } } },
    "x-keys": { $$ref: "not a reference" },
  }));

// Schemas from a file and by $ref into an OpenAPI document (examples/spec/schemas), whose own
// references are inlined when the spec loads; the spec keeps the reference as written.
const referenced = fc.constantFrom(
  { file: "schemas/order.json" },
  { $ref: "schemas/stripe.yaml#/components/schemas/ChargeEvent" },
  { $ref: "schemas/stripe.yaml#/components/schemas/Invoice" },
);
const event = fc.record(
  {
    type: eventType,
    description: fc.string({ maxLength: 30 }),
    schema: fc.oneof(schema, referenced),
    examples: fc.array(fc.jsonValue({ maxDepth: 2 }), { maxLength: 2 }),
    deprecated: fc.oneof(
      fc.boolean(),
      fc.record({ since: fc.constant("1.2.0"), replaced_by: eventType }, { requiredKeys: [] }),
    ),
  },
  { requiredKeys: ["type"] },
);
const signing = fc.oneof(
  fc.constantFrom("standard", "stripe", "github", "slack", "shopify", "hmac", "eventing"),
  fc.constantFrom("hmac-sha256", "hmac-sha512", "ed25519"),
  fc.record({
    scheme: fc.constant("hmac"),
    options: fc.record(
      { algorithm: fc.constantFrom("sha256", "sha512"), signature_header: fc.constant("X-Sig") },
      { requiredKeys: [] },
    ),
  }),
);
const incoming = fc.record(
  {
    name,
    direction: fc.constant("in"),
    signing,
    timestamp_window: fc.integer({ min: 1, max: 3600 }),
    dedupe: fc.record(
      {
        key: fc.constantFrom("id", "body", "header:Idempotency-Key"),
        ttl: fc.integer({ min: 1, max: 999 }),
      },
      { requiredKeys: [] },
    ),
    description: fc.string({ maxLength: 20 }),
    events: fc.uniqueArray(event, { minLength: 1, maxLength: 3, selector: (e) => e.type }),
  },
  { requiredKeys: ["name", "direction", "signing", "events"] },
);
const outgoing = fc.record(
  {
    name,
    direction: fc.constant("out"),
    signing,
    max_attempts: fc.constant(4),
    backoff: fc.oneof(
      fc.record({ type: fc.constant("exponential"), base_s: fc.integer({ min: 1, max: 60 }) }),
      fc.record({
        type: fc.constant("linear"),
        base_s: fc.integer({ min: 1, max: 60 }),
        jitter: fc.constant(0),
      }),
      fc.record({ type: fc.constant("schedule"), schedule_s: fc.constant([1, 2, 3]) }),
    ),
    events: fc.uniqueArray(event, { minLength: 1, maxLength: 3, selector: (e) => e.type }),
  },
  { requiredKeys: ["name", "direction", "signing", "max_attempts", "events"] },
);
const spec = fc
  .record(
    {
      info: fc.record(
        { title: fc.constant("Generated"), version: fc.constant("1") },
        { requiredKeys: [] },
      ),
      webhooks: fc.uniqueArray(fc.oneof(incoming, outgoing), {
        minLength: 1,
        maxLength: 4,
        selector: (w) => w.name,
      }),
    },
    { requiredKeys: ["webhooks"] },
  )
  // The spec's own rules: one path per in webhook (by name here), one out webhook per type.
  .filter((s) => {
    const types = s.webhooks
      .filter((w) => w.direction === "out")
      .flatMap((w) => w.events.map((e) => e.type));
    return new Set(types).size === types.length;
  });

describe("spec → OpenAPI (and AsyncAPI) → import → spec", () => {
  it("is the identity, byte for byte in canonical JSON", () => {
    fc.assert(
      fc.property(spec, (written) => {
        const loaded = parseSpec(canonicalJson(written), "spec.json", specDir);
        expect(canonicalJson(loaded.spec)).toBe(canonicalJson(written));
        const text = renderOpenApi(loaded, generator);
        const { spec: back, problems } = fromOpenApi(JSON.parse(text));
        expect(problems).toEqual([]);
        expect(canonicalJson(back)).toBe(canonicalJson(written));
        expect(renderOpenApi(loaded, generator)).toBe(text);
        // The same through AsyncAPI, which carries the blocks on its channels.
        const asyncapi = fromAsyncApi(JSON.parse(renderAsyncApi(loaded, generator)));
        expect(asyncapi.problems).toEqual([]);
        expect(canonicalJson(asyncapi.spec)).toBe(canonicalJson(written));
      }),
      {
        numRuns: 150,
        // Found by this property once: a `__proto__` key is a key like any other, at any depth.
        examples: [
          [
            JSON.parse(
              '{"webhooks":[{"name":"a","direction":"in","signing":"hmac-sha256","events":[{"type":"a","examples":[{"__proto__":""},{"x":[{"__proto__":{"__proto__":1}}]}],"schema":{"__proto__":{},"type":"object","properties":{"__proto__":{"type":"string"}}}}]}]}',
            ),
          ],
        ],
      },
    );
  });
});
