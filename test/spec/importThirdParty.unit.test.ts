// A provider's published OpenAPI document imported as one inbound webhook: schemas whole
// ($ref'd, nested, oneOf, arrays, allOf), external references refused, and every entry that
// cannot be imported reported by name.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseYaml } from "../../packages/spec/src/config/yamlSource.js";
import { canonicalJson } from "../../packages/spec/src/spec/canonicalJson.js";
import { fromThirdPartyOpenApi } from "../../packages/spec/src/spec/importThirdParty.js";
import { parseSpec } from "../../packages/spec/src/spec/load.js";

const fixture = join(import.meta.dirname, "fixtures/provider-openapi.yaml");
const doc = () => parseYaml(readFileSync(fixture, "utf8"), "provider-openapi.yaml").doc.toJS();
const options = { name: "acme", signing: "hmac-sha256" as const };

describe("importing a provider's OpenAPI webhooks", () => {
  it("keeps $ref'd, nested, oneOf, allOf and array schemas whole", () => {
    const { spec } = fromThirdPartyOpenApi(doc(), options);
    const events = spec?.webhooks[0]?.events ?? [];
    expect(events.map((e) => e.type)).toEqual(["payment.succeeded", "refund-created"]);
    const payment = events[0];
    expect(JSON.stringify(payment?.schema)).not.toContain("$ref");
    expect(payment?.schema).toMatchObject({
      required: ["id", "type", "data"],
      properties: {
        data: {
          required: ["id", "amount"],
          properties: {
            method: {
              oneOf: [
                { properties: { brand: { enum: ["visa", "mastercard"] } } },
                { properties: { iban: { type: "string" } } },
              ],
            },
            items: {
              type: "array",
              items: { properties: { tax: { properties: { rate: { type: "number" } } } } },
            },
          },
        },
      },
    });
    expect(payment).toMatchObject({
      description: "A payment succeeded.",
      examples: [{ id: "evt_1", type: "payment.succeeded" }],
    });
    const refund = events[1];
    expect(refund).toMatchObject({
      deprecated: true,
      schema: {
        allOf: [
          { required: ["id"] },
          {
            properties: {
              data: {
                properties: {
                  reason: { oneOf: [{ const: "duplicate" }, { const: "fraud" }, { type: "null" }] },
                },
              },
            },
          },
        ],
      },
    });
  });

  it("reports each entry it cannot import, by name, instead of skipping it", () => {
    const { problems } = fromThirdPartyOpenApi(doc(), options);
    expect(problems.map((p) => [p.webhook, p.problem])).toEqual([
      [
        "Dispute opened",
        "neither its name nor its operationId is an event type (no spaces, dots between parts)",
      ],
      ["payout.paid", expect.stringContaining("points outside the document")],
      ["ping", "has no JSON request body schema"],
    ]);
  });

  it("gives a valid spec, which loads as it is", () => {
    const { spec } = fromThirdPartyOpenApi(doc(), { ...options, path: "/hooks/acme" });
    const loaded = parseSpec(canonicalJson(spec), "acme.json");
    expect(loaded.spec.webhooks[0]).toMatchObject({
      name: "acme",
      direction: "in",
      path: "/hooks/acme",
      signing: "hmac-sha256",
    });
    expect(loaded.schemas.get("acme")?.size).toBe(2);
    expect(spec?.info).toEqual({ title: "Acme Payments" });
  });

  it("imports an entry named __proto__ as an event type like any other", () => {
    const provider = JSON.parse(
      '{"openapi":"3.1.0","webhooks":{"__proto__":{"post":{"requestBody":{"content":{"application/json":{"schema":{"type":"object","properties":{"__proto__":{"type":"string"}}}}}}}}}}',
    );
    const { spec, problems } = fromThirdPartyOpenApi(provider, options);
    expect(problems).toEqual([]);
    const [event] = spec?.webhooks[0]?.events ?? [];
    expect(event?.type).toBe("__proto__");
    const schema = event?.schema as { properties: object } | undefined;
    expect(Object.keys(schema?.properties ?? {})).toEqual(["__proto__"]);
  });

  it("reads x-webhooks of OpenAPI 3.0 the same way, and refuses a document without webhooks", () => {
    const old = doc() as Record<string, unknown>;
    old.openapi = "3.0.3";
    old["x-webhooks"] = old.webhooks;
    delete old.webhooks;
    expect(fromThirdPartyOpenApi(old, options).spec?.webhooks[0]?.events).toHaveLength(2);
    expect(fromThirdPartyOpenApi({ openapi: "3.1.0", paths: {} }, options)).toEqual({
      spec: null,
      problems: [{ where: "", problem: "the document has no webhooks (nor x-webhooks) to import" }],
    });
    expect(fromThirdPartyOpenApi([], options).spec).toBeNull();
  });
});
