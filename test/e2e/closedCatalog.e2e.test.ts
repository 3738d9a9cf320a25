// The built `herald serve` with a closed catalogue, as a user sets it: herald.yaml's
// `catalog: { closed: true }` with its declared event types, and HERALD_CATALOG_CLOSED over an
// open file. A type it does not list is refused (400 event_type.unknown); declared types pass.
import { writeFile } from "node:fs/promises";
import { afterAll, describe, expect, it } from "vitest";
import { api, errorCode, makeTempDir } from "../helpers/e2eHttp.js";
import { type HeraldProcess, startHerald } from "../helpers/heraldServer.js";

const servers: HeraldProcess[] = [];
const dirs: Awaited<ReturnType<typeof makeTempDir>>[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => s.stop()));
  await Promise.all(dirs.map((d) => d.remove()));
});

async function serve(yaml: string, env: Record<string, string> = {}): Promise<string> {
  const dir = await makeTempDir("closed-catalog");
  dirs.push(dir);
  await writeFile(`${dir.path}/herald.yaml`, yaml);
  const herald = await startHerald({
    cwd: dir.path,
    args: ["--db", `${dir.path}/herald.db`, "--no-worker"],
    env: { HERALD_API_KEY: undefined, HERALD_CONFIG: undefined, HERALD_DB: undefined, ...env },
  });
  servers.push(herald);
  return herald.url as string;
}

const send = (base: string, type: string) =>
  api(base, "POST", "/v1/messages", { type, payload: {} });

describe("herald serve with a closed catalogue", () => {
  it("catalog.closed in herald.yaml: declared types pass, others get 400 event_type.unknown", async () => {
    const base = await serve(
      "catalog:\n  closed: true\nevent_types:\n  - name: order.created.v1\n",
    );
    expect((await send(base, "order.created.v1")).status).toBe(202);
    const refused = await send(base, "order.deleted.v1");
    expect(refused.status).toBe(400);
    expect(errorCode(refused)).toBe("event_type.unknown");
    const listed = (await api(base, "GET", "/v1/event-types")).json as {
      data: { name: string; auto: boolean; count: number }[];
    };
    expect(listed.data).toMatchObject([{ name: "order.created.v1", auto: false, count: 1 }]);
  });

  it("HERALD_CATALOG_CLOSED closes a catalogue the file leaves open; open, new types are recorded", async () => {
    const open = "catalog:\n  closed: false\n";
    const closed = await serve(open, { HERALD_CATALOG_CLOSED: "true" });
    expect(errorCode(await send(closed, "order.created.v1"))).toBe("event_type.unknown");
    const base = await serve(open);
    expect((await send(base, "order.created.v1")).status).toBe(202);
    expect((await api(base, "GET", "/v1/event-types/order.created.v1")).json).toMatchObject({
      auto: true,
      count: 1,
    });
  });
});
