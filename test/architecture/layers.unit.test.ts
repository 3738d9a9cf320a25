// The dependency direction of docs/development.md, checked on every import in src/.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  type ImportEdge,
  LAYERS,
  layerOf,
  packageEntries,
  readImportGraph,
  violation,
} from "./importGraph.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const srcDir = `${root}src`;
const entries = packageEntries(JSON.parse(readFileSync(`${root}package.json`, "utf8")));
const graph = readImportGraph(srcDir);
const broken = (edge: ImportEdge) => violation(edge, entries);

describe("architecture: the import graph of src/", () => {
  it("reads the imports of every layer", () => {
    const layers = new Set(graph.map((edge) => layerOf(edge.from)));
    for (const layer of Object.keys(LAYERS)) expect(layers).toContain(layer);
    expect(graph.length).toBeGreaterThan(500);
    expect(entries).toContain("store/index.ts");
    expect(entries).toContain("webhooks.ts");
  });

  it("has no import against the documented order", () => {
    expect(graph.map(broken).filter((reason) => reason !== null)).toEqual([]);
  });

  it("names the order in docs/development.md exactly as enforced here", () => {
    const doc = readFileSync(`${root}docs/development.md`, "utf8");
    for (const [layer, allowed] of Object.entries(LAYERS)) {
      const line = `| \`${layer}/\` | ${allowed.length === 0 ? "—" : allowed.map((l) => `\`${l}\``).join(", ")} |`;
      expect(doc).toContain(line);
    }
  });
});

describe("architecture: the rules", () => {
  const none = new Set<string>();

  it("refuses an import from the store into the delivery engine", () => {
    expect(
      violation({ from: "store/sqlite/createMessages.ts", to: "delivery/routing.ts" }, none),
    ).toBe(
      "store/sqlite/createMessages.ts imports delivery/routing.ts: store/ may import only core, model",
    );
  });

  it("refuses upward and sideways edges, accepts downward ones and imports within a layer", () => {
    expect(violation({ from: "model/lifecycle.ts", to: "store/ports.ts" }, none)).not.toBeNull();
    expect(violation({ from: "core/ids.ts", to: "model/constants.ts" }, none)).not.toBeNull();
    expect(violation({ from: "signing/sign.ts", to: "model/check.ts" }, none)).not.toBeNull();
    expect(violation({ from: "wire/records.ts", to: "config/load.ts" }, none)).not.toBeNull();
    expect(violation({ from: "delivery/dispatcher.ts", to: "events/index.ts" }, none)).not.toBe(
      null,
    );
    expect(violation({ from: "server/app.ts", to: "cli/main.ts" }, none)).not.toBeNull();
    expect(violation({ from: "server/app.ts", to: "config/fileSchema.ts" }, none)).toBeNull();
    expect(violation({ from: "store/sqlite/a.ts", to: "store/sql/b.ts" }, none)).toBeNull();
    expect(violation({ from: "model/a.ts", to: "core/b.ts" }, none)).toBeNull();
  });

  it("lets only the serve command import server/", () => {
    expect(violation({ from: "cli/commands/serve.ts", to: "server/service.ts" }, none)).toBeNull();
    expect(violation({ from: "cli/main.ts", to: "server/service.ts" }, none)).not.toBeNull();
  });

  it("keeps the store's ports free of adapters and adapters free of each other", () => {
    expect(violation({ from: "store/ports.ts", to: "store/sqlite/x.ts" }, none)).not.toBeNull();
    expect(violation({ from: "store/ports.ts", to: "store/sql/x.ts" }, none)).not.toBeNull();
    expect(
      violation({ from: "store/sqlite/x.ts", to: "store/postgres/y.ts" }, none),
    ).not.toBeNull();
    expect(violation({ from: "store/sqlite/x.ts", to: "store/deliveryPorts.ts" }, none)).toBe(null);
  });

  it("lets package entries re-export any layer, and nothing else import them", () => {
    const withEntries = new Set(["store/index.ts", "bus/index.ts"]);
    expect(violation({ from: "store/index.ts", to: "bus/inbox.ts" }, withEntries)).toBeNull();
    expect(violation({ from: "store/index.ts", to: "bus/index.ts" }, withEntries)).toBeNull();
    expect(
      violation({ from: "delivery/dispatcher.ts", to: "store/index.ts" }, withEntries),
    ).not.toBeNull();
  });

  it("refuses files outside the layer folders, and unknown folders", () => {
    expect(violation({ from: "stray.ts", to: "core/ids.ts" }, none)).not.toBeNull();
    expect(violation({ from: "misc/a.ts", to: "core/ids.ts" }, none)).not.toBeNull();
  });
});
