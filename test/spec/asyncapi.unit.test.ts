// The AsyncAPI 3.0 document of a spec: valid against the official AsyncAPI 3.0.0 JSON Schema
// (@asyncapi/specs, checked with Ajv), imported back exactly, and gated by the check.
import specs from "@asyncapi/specs";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { renderAsyncApi, toAsyncApi } from "../../packages/spec/src/spec/asyncapi.js";
import { canonicalJson } from "../../packages/spec/src/spec/canonicalJson.js";
import { checkAsyncApi } from "../../packages/spec/src/spec/check.js";
import { fromAsyncApi } from "../../packages/spec/src/spec/importOpenApi.js";
import { loadSpec } from "../../packages/spec/src/spec/load.js";
import { WEBHOOK_EXTENSION } from "../../packages/spec/src/spec/openapi.js";
import { repoRoot } from "../helpers/spawnNode.js";

const generator = { version: "9.9.9" };
const example = () => loadSpec("examples/spec/webhooks.yaml", repoRoot);
// The schema bundles its own draft-07 meta-schema, so Ajv's is left out.
const validate = new Ajv({
  strict: false,
  allErrors: true,
  validateFormats: false,
  meta: false,
  validateSchema: false,
}).compile(specs.schemas["3.0.0"] as object);

describe("the AsyncAPI document", () => {
  it("is valid AsyncAPI 3.0.0 for the official schema, which refuses a broken copy", () => {
    const doc = toAsyncApi(example(), generator);
    expect(validate(doc), JSON.stringify(validate.errors?.slice(0, 3))).toBe(true);
    const broken = JSON.parse(canonicalJson(doc)) as {
      operations: Record<string, { action: string }>;
    };
    const operation = broken.operations["receive-stripe"];
    if (operation !== undefined) operation.action = "listen";
    expect(validate(broken)).toBe(false);
  });

  it("has a channel per webhook, a message per event type and an operation per webhook", () => {
    const doc = toAsyncApi(example(), generator) as {
      channels: Record<
        string,
        { address: string | null; messages: Record<string, { name: string }> }
      >;
      operations: Record<string, { action: string }>;
    };
    expect(doc.channels.stripe?.address).toBe("/webhooks/stripe");
    expect(doc.channels.orders?.address).toBeNull();
    expect(Object.values(doc.channels.orders?.messages ?? {}).map((m) => m.name)).toEqual([
      "order.placed",
      "order.cancelled",
      "order.shipped.v0",
    ]);
    expect(
      Object.fromEntries(Object.entries(doc.operations).map(([k, v]) => [k, v.action])),
    ).toEqual({
      "receive-stripe": "receive",
      "send-orders": "send",
    });
  });

  it("imports back to the spec exactly, and the check names a webhook whose block was dropped", () => {
    const loaded = example();
    const text = renderAsyncApi(loaded, generator);
    const { spec, problems } = fromAsyncApi(JSON.parse(text));
    expect(problems).toEqual([]);
    expect(canonicalJson(spec)).toBe(canonicalJson(loaded.spec));
    expect(checkAsyncApi(loaded, text, generator).ok).toBe(true);

    const doc = JSON.parse(text) as { channels: Record<string, Record<string, unknown>> };
    delete doc.channels.orders?.[WEBHOOK_EXTENSION];
    const result = checkAsyncApi(loaded, canonicalJson(doc), generator);
    expect(result.ok).toBe(false);
    expect(result.problems.join("\n")).toContain(
      "webhook orders: no channel carries its x-herald-webhook block (removed?)",
    );
    expect(result.problems.join("\n")).toContain("(herald spec asyncapi)");
  });
});
