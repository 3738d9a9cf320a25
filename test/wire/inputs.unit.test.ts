// The wire schemas: JSON Schema conversion (Fastify/OpenAPI), converters to store inputs, and
// one clear message per zod issue.
import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  DEFAULT_RETRY_POLICY,
  type RetryPolicy,
} from "../../packages/core/src/core/retryPolicy.js";
import {
  formatZodIssue,
  parseWire,
  retryToWire,
  schemeOptionsToWire,
  toEndpointInput,
  toEndpointPatch,
  toEventTypeInput,
  toRetryPolicy,
  toSourceInput,
  wireEndpointCreateSchema,
  wireEndpointPatchSchema,
  wireEventTypeSchema,
  wireRetrySchema,
  wireSourceSchema,
  zodErrorToHerald,
} from "../../packages/server/src/config/index.js";
import { signWebhook, verifyWebhook } from "../../packages/webhooks/src/signing/sign.js";
import { STANDARD_SECRET } from "../config/helpers.js";

type JsonSchema = {
  type?: string;
  properties?: Record<string, JsonSchema & { default?: unknown }>;
  required?: string[];
  additionalProperties?: unknown;
  anyOf?: JsonSchema[];
  pattern?: string;
  maximum?: number;
  minItems?: number;
  enum?: unknown[];
};

const jsonSchema = (schema: z.ZodType) => z.toJSONSchema(schema, { io: "input" }) as JsonSchema;

describe("JSON Schema conversion", () => {
  it("converts every wire schema", () => {
    for (const schema of [
      wireSourceSchema,
      wireEndpointCreateSchema,
      wireEndpointPatchSchema,
      wireEventTypeSchema,
      wireRetrySchema,
    ]) {
      expect(() => jsonSchema(schema)).not.toThrow();
    }
  });

  it("states the endpoint's fields, bounds and defaults, and refuses unknown keys", () => {
    const schema = jsonSchema(wireEndpointCreateSchema);
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(["url", "event_types"]);
    expect(schema.properties?.timeout_ms).toMatchObject({ type: "integer", maximum: 300_000 });
    expect(schema.properties?.transport).toMatchObject({
      enum: [
        "http",
        "nats",
        "function",
        "websocket",
        "grpc",
        "rabbitmq",
        "redis-streams",
        "nats-core",
        "sqs",
        "eventbridge",
      ],
      default: "http",
    });
    expect(schema.properties?.scheme?.default).toBe("standard");
    expect(schema.properties?.event_types).toMatchObject({ type: "array", minItems: 1 });
    expect(schema.properties?.id?.pattern).toBe("^[A-Za-z0-9_.-]{1,64}$");
  });

  it("makes every patch field optional, without id or secret", () => {
    const schema = jsonSchema(wireEndpointPatchSchema);
    expect(schema.required).toBeUndefined();
    expect(Object.keys(schema.properties ?? {})).not.toContain("id");
    expect(Object.keys(schema.properties ?? {})).not.toContain("secret");
  });

  it("gives the source's defaults", () => {
    const schema = jsonSchema(wireSourceSchema);
    // secrets: at least one, except for scheme none (checked by toSourceInput).
    expect(schema.required).toEqual(["name", "scheme"]);
    expect(schema.properties?.secrets?.default).toEqual([]);
    expect(schema.properties?.allow_from?.default).toEqual([]);
    expect(schema.properties?.tolerance_s?.default).toBe(300);
    expect(schema.properties?.dedupe_ttl_s?.default).toBe(259_200);
    expect(schema.properties?.type_from?.default).toEqual({ fixed: "received" });
  });

  it("describes retry policies as alternatives", () => {
    expect(jsonSchema(wireRetrySchema).anyOf).toHaveLength(2);
  });
});

describe("converters", () => {
  it("toEndpointInput maps url to target and generates a secret when absent", () => {
    const body = parseWire(wireEndpointCreateSchema, {
      url: "https://x.example/in",
      event_types: ["order.*"],
      timeout_ms: 1000,
      retry: { backoff: "linear", base_s: 2, max_attempts: 3 },
      rate_limit_per_s: null,
    });
    const { input, secret } = toEndpointInput(body, { now: 0 });
    expect(secret).toMatch(/^whsec_/);
    expect(input).toEqual({
      transport: "http",
      target: "https://x.example/in",
      eventTypes: ["order.*"],
      scheme: "standard",
      schemeOptions: null,
      secrets: [{ secret, createdAt: 0 }],
      timeoutMs: 1000,
      retry: { backoff: "linear", base_s: 2, max_attempts: 3 },
      rateLimitPerS: null,
    });
  });

  it("toEndpointInput keeps a given secret and generates hmac secrets that sign", () => {
    expect(
      toEndpointInput({ url: "https://x.example", event_types: ["*"], secret: STANDARD_SECRET })
        .secret,
    ).toBe(STANDARD_SECRET);
    const { input, secret } = toEndpointInput({
      url: "https://x.example",
      event_types: ["*"],
      scheme: "hmac",
      scheme_options: { signature_header: "X-Sig", secret_encoding: "hex" },
    });
    expect(input.schemeOptions).toEqual({ signatureHeader: "X-Sig", secretEncoding: "hex" });
    expect(schemeOptionsToWire(input.schemeOptions ?? null)).toEqual({
      signature_header: "X-Sig",
      secret_encoding: "hex",
    });
    expect(secret).toMatch(/^[0-9a-f]+$/);
  });

  it.each([
    [{ url: "/relative", event_types: ["*"] }, "url", "url: must be an absolute http(s) URL"],
    [
      { url: "https://x.example", event_types: ["*"], scheme: "stripe", scheme_options: {} },
      "scheme_options",
      'scheme_options: is only allowed with scheme "hmac" (scheme is "stripe")',
    ],
    [
      { url: "https://x.example", event_types: ["*"], secret: "whsec_***" },
      "secret",
      "secret: is not a usable standard secret: Invalid secret: a whsec_ secret must be followed by standard base64",
    ],
    [
      {
        url: "https://x.example",
        event_types: ["*"],
        retry: { schedule_s: [1], max_delay_s: 0.0001 },
      },
      "retry.max_delay_s",
      "retry.max_delay_s: must be a number of seconds ≥ 0.001 and ≤ 2592000 (got 0.0001)",
    ],
  ])("toEndpointInput refuses %j", (body, field, message) => {
    expect(() => toEndpointInput(body)).toThrow(
      expect.objectContaining({ code: "request.invalid", message, details: { field } }),
    );
  });

  it("toEndpointPatch maps only the fields given", () => {
    expect(toEndpointPatch({})).toEqual({});
    expect(
      toEndpointPatch({ url: "subject.a", transport: "nats", retry: null, max_in_flight: 2 }),
    ).toEqual({ target: "subject.a", transport: "nats", retry: null, maxInFlight: 2 });
    expect(toEndpointPatch({ scheme: "github" })).toEqual({
      scheme: "github",
      schemeOptions: null,
    });
    expect(() => toEndpointPatch({ scheme_options: { algorithm: "sha512" } })).toThrow(
      expect.objectContaining({ code: "request.invalid", details: { field: "scheme_options" } }),
    );
    expect(() => parseWire(wireEndpointPatchSchema, { secret: "x" })).toThrow(
      expect.objectContaining({ message: "secret: is not a known key" }),
    );
  });

  it("toSourceInput applies the defaults", () => {
    const input = toSourceInput({ name: "gh", scheme: "github", secrets: ["s"] });
    expect(input).toEqual({
      name: "gh",
      scheme: "github",
      schemeOptions: null,
      secrets: ["s"],
      toleranceS: 300,
      idempotencyHeader: null,
      idempotencyRequired: false,
      dedupeTtlS: 259_200,
      typeFrom: { fixed: "received" },
      allowFrom: [],
    });
  });

  it("toEventTypeInput refuses a schema ajv cannot compile", () => {
    expect(toEventTypeInput({ name: "a.b.v1", schema: { type: "object" } })).toEqual({
      name: "a.b.v1",
      description: "",
      schema: { type: "object" },
      deprecated: false,
    });
    expect(() => toEventTypeInput({ name: "a.b.v1", schema: { type: "nope" } })).toThrow(
      expect.objectContaining({ code: "request.invalid", details: { field: "schema" } }),
    );
  });

  it.each<RetryPolicy>([
    DEFAULT_RETRY_POLICY,
    { schedule_s: [0, 0.5], jitter: 0, max_delay_s: 10 },
    { backoff: "exponential", base_s: 30, factor: 3, max_attempts: 5, max_delay_s: 600 },
    { backoff: "linear", base_s: 1, max_attempts: 2, jitter: 0.5 },
  ])("retryToWire and toRetryPolicy round-trip %j", (policy) => {
    const wire = retryToWire(policy);
    expect(wireRetrySchema.parse(wire)).toEqual(wire);
    expect(toRetryPolicy(wire)).toEqual(policy);
  });

  it("a signed webhook verifies with the generated secret", () => {
    const { secret } = toEndpointInput({ url: "https://x.example", event_types: ["*"] });
    const headers = signWebhook({ scheme: "standard", secret, body: "{}", id: "msg_1" });
    expect(verifyWebhook({ scheme: "standard", secrets: [secret], headers, body: "{}" }).ok).toBe(
      true,
    );
  });
});

describe("messages", () => {
  const issueOf = (schema: z.ZodType, input: unknown) => {
    const result = schema.safeParse(input);
    if (result.success) throw new Error("expected a failure");
    return result.error;
  };

  it.each([
    [{ url: "https://x", event_types: ["*"], timeout_ms: 300_001 }, "timeout_ms: must be ≤ 300000"],
    [{ url: "https://x", event_types: ["*"], timeout_ms: 0 }, "timeout_ms: must be ≥ 1"],
    [
      { url: "https://x", event_types: ["*"], rate_limit_per_s: 0 },
      "rate_limit_per_s: must be > 0",
    ],
    [{ url: "", event_types: ["*"] }, "url: must not be empty"],
    [{ event_types: ["*"] }, "url: is required"],
    [{ url: "https://x", event_types: "*" }, "event_types: must be a list (got a string)"],
    [
      { url: "https://x", event_types: ["*"], ordered: "yes" },
      "ordered: must be true or false (got a string)",
    ],
    [
      { url: "https://x", event_types: ["*"], transport: "smtp" },
      'transport: must be one of "http", "nats", "function", "websocket", "grpc", "rabbitmq", "redis-streams", "nats-core", "sqs", "eventbridge"',
    ],
    [
      { url: "https://x", event_types: ["*"], timeoutms: 1, b: 2 },
      'timeoutms: is not a known key (nor are "b")',
    ],
    [
      {
        url: "https://x",
        event_types: ["*"],
        retry: { backoff: "linear", base_s: 1, max_attempts: 2, factor: 2 },
      },
      "retry.factor: is not a known key",
    ],
    [
      { url: "https://x", event_types: ["*"], retry: { schedule_s: [1], max_attempts: 2 } },
      "retry.max_attempts: is not a known key",
    ],
    [
      { url: "https://x", event_types: ["*"], headers: { "X-A": "a\r\nb" } },
      'headers["X-A"]: must not contain CR, LF or NUL',
    ],
  ])("%j → %s", (input, message) => {
    const error = issueOf(wireEndpointCreateSchema, input);
    expect(formatZodIssue(error.issues[0]!)).toBe(message);
  });

  it("zodErrorToHerald names the prefix, file and line", () => {
    const error = issueOf(wireEndpointCreateSchema, { url: "https://x", event_types: [] });
    const herald = zodErrorToHerald(error, "config.invalid", {
      file: "herald.yaml",
      prefix: ["endpoints", 2],
      lineOf: (path) =>
        path.join(".") === "endpoints.2.event_types" ? { line: 7, column: 5 } : undefined,
    });
    expect(herald.code).toBe("config.invalid");
    expect(herald.message).toBe(
      "herald.yaml:7:5: endpoints[2].event_types: must have at least 1 item",
    );
    expect(herald.details).toMatchObject({ field: "endpoints[2].event_types", line: 7, column: 5 });
  });

  it("parseWire throws request.invalid and never quotes a secret", () => {
    const secret = "super-secret-value";
    expect(() =>
      parseWire(wireSourceSchema, { name: "s", scheme: "stripe", secrets: [secret, 5] }),
    ).toThrow(
      expect.objectContaining({
        code: "request.invalid",
        message: "secrets[1]: must be a string (got a number)",
      }),
    );
    let thrown: unknown;
    try {
      parseWire(wireSourceSchema, { name: "s", scheme: "stripe", secrets: [secret, 5] });
    } catch (error) {
      thrown = error;
    }
    expect(String((thrown as Error).cause)).not.toContain(secret);
    expect(String((thrown as Error).cause)).not.toContain('"input"');
    expect(() =>
      parseWire(wireSourceSchema, { name: "s", scheme: "stripe", secrets: secret }),
    ).toThrow("secrets: must be a list (got a string)");
  });
});
