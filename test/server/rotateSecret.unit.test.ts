// POST /v1/endpoints/:id/rotate-secret with a secret of its own: a secret the endpoint's scheme
// cannot sign with is refused (400 request.invalid, nothing stored), as POST /v1/endpoints
// refuses it — stored, it would fail every delivery to the endpoint from then on.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LocalService, startLocalService } from "../helpers/localService.js";

describe("POST /v1/endpoints/:id/rotate-secret", () => {
  let service: LocalService;

  beforeAll(async () => {
    service = await startLocalService();
  });

  afterAll(async () => {
    await service?.stop();
  });

  async function call(method: string, path: string, body?: unknown) {
    const response = await fetch(`${service.url}${path}`, {
      method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Record<string, unknown> };
  }

  it("refuses a secret the endpoint's scheme cannot use, and keeps the current one", async () => {
    const created = await call("POST", "/v1/endpoints", {
      url: "https://hooks.example.com/a",
      event_types: ["order.*"],
    });
    expect(created.status).toBe(201);
    const id = created.json.id as string;

    const refused = await call("POST", `/v1/endpoints/${id}/rotate-secret`, { secret: "bad" });
    expect(refused.status).toBe(400);
    expect(refused.json.error).toMatchObject({ code: "request.invalid" });
    expect(JSON.stringify(refused.json)).not.toContain('"bad"');
    expect((await call("GET", `/v1/endpoints/${id}`)).json.secret_count).toBe(1);
  });

  it("accepts a usable secret of the scheme", async () => {
    const created = await call("POST", "/v1/endpoints", {
      url: "https://hooks.example.com/b",
      event_types: ["order.*"],
    });
    const id = created.json.id as string;
    const secret = `whsec_${Buffer.alloc(32, 9).toString("base64")}`;
    const rotated = await call("POST", `/v1/endpoints/${id}/rotate-secret`, { secret });
    expect(rotated.status).toBe(200);
    expect(rotated.json).toMatchObject({ secret, secret_count: 2 });
  });

  it("answers 404 for an unknown endpoint, with or without a secret", async () => {
    const secret = `whsec_${Buffer.alloc(32, 9).toString("base64")}`;
    for (const body of [{}, { secret }, { secret: "bad" }]) {
      const missing = await call("POST", "/v1/endpoints/ep_nope/rotate-secret", body);
      expect(missing.status).toBe(404);
      expect(missing.json.error).toMatchObject({ code: "endpoint.not_found" });
    }
  });
});
