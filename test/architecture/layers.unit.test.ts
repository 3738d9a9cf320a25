// The dependency direction of docs/development.md, checked on every import of every package's
// src/, within a package (layers) and across packages (the package order).
import { readdirSync, readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import {
  type ImportEdge,
  LAYERS,
  layerOf,
  PACKAGES,
  packageEntries,
  readImportGraph,
  readImports,
  violation,
} from "./importGraph.js";

const root = fileURLToPath(new URL("../../", import.meta.url));
const packagesDir = `${root}packages`;
interface PackageJson {
  name: string;
  version: string;
  exports?: unknown;
  dependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
}
const readJson = (path: string) => JSON.parse(readFileSync(path, "utf8")) as PackageJson;
const names = readdirSync(packagesDir).sort();
const manifests = new Map(
  names.map((name) => [name, readJson(`${packagesDir}/${name}/package.json`)]),
);
const entries = new Set(
  [...manifests].flatMap(([name, manifest]) =>
    [...packageEntries(manifest)].map((path) => `${name}:${path}`),
  ),
);
const graph = readImportGraph(packagesDir);
const broken = (edge: ImportEdge) => violation(edge, entries);
/** `pg` of `pg`, `@nats-io/jetstream` of `@nats-io/jetstream/x`; null for node: and relative. */
const packageOf = (specifier: string) => {
  if (specifier.startsWith(".") || specifier.startsWith("node:")) return null;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : (parts[0] as string);
};

describe("architecture: the import graph of the packages", () => {
  it("reads the imports of every layer and every package", () => {
    const layers = new Set(graph.map((edge) => layerOf(edge.from)));
    for (const layer of Object.keys(LAYERS)) expect(layers).toContain(layer);
    expect(names).toEqual(Object.keys(PACKAGES).sort());
    const crossing = graph.filter((edge) => edge.fromPackage !== edge.toPackage);
    expect(new Set(crossing.map((edge) => edge.fromPackage))).toEqual(
      new Set(names.filter((name) => name !== "webhooks")),
    );
    expect(graph.length).toBeGreaterThan(500);
    expect(entries).toContain("core:store/index.ts");
    expect(entries).toContain("webhooks:index.ts");
  });

  it("has each package import only the Herald packages below it, as its package.json says", () => {
    for (const [name, manifest] of manifests) {
      const declared = Object.keys(manifest.dependencies ?? {})
        .filter((dep) => dep.startsWith("@heraldjs/"))
        .map((dep) => dep.slice("@heraldjs/".length))
        .sort();
      expect({ name, heraldDependencies: declared }).toEqual({
        name,
        heraldDependencies: [...(PACKAGES[name] ?? [])].sort(),
      });
    }
  });

  it("has each package declare every npm package it imports, and the webhooks package none", () => {
    for (const [name, manifest] of manifests) {
      const declared = new Set([
        ...Object.keys(manifest.dependencies ?? {}),
        ...Object.keys(manifest.peerDependencies ?? {}),
      ]);
      const imported = new Set(
        readImports(`${packagesDir}/${name}/src`)
          .map(({ specifier }) => packageOf(specifier))
          .filter((pkg): pkg is string => pkg !== null),
      );
      const undeclared = [...imported].filter((pkg) => !declared.has(pkg));
      expect({ name, undeclared }).toEqual({ name, undeclared: [] });
    }
    expect(manifests.get("webhooks")?.dependencies).toBeUndefined();
  });

  it("keeps one version for all packages, and pins Herald's own packages to it", () => {
    const version = readJson(`${root}package.json`).version;
    for (const [name, manifest] of manifests) {
      expect(manifest.name).toBe(`@heraldjs/${name}`);
      expect(manifest.version).toBe(version);
      for (const [dep, range] of Object.entries(manifest.dependencies ?? {})) {
        if (dep.startsWith("@heraldjs/")) expect(`${dep}@${range}`).toBe(`${dep}@${version}`);
      }
    }
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
    for (const [name, allowed] of Object.entries(PACKAGES)) {
      const below = allowed.map((p) => `\`@heraldjs/${p}\``).join(", ");
      expect(doc).toContain(`| \`@heraldjs/${name}\` | ${below || "—"} |`);
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

  it("lets a package import only the packages below it", () => {
    const edge = (fromPackage: string, toPackage: string): ImportEdge => ({
      from: "model/a.ts",
      to: "core/errors.ts",
      fromPackage,
      toPackage,
    });
    expect(violation(edge("core", "webhooks"), none)).toBeNull();
    expect(violation(edge("sqlite", "core"), none)).toBeNull();
    expect(violation(edge("webhooks", "core"), none)).toBe(
      "webhooks:model/a.ts imports core:core/errors.ts: @heraldjs/webhooks may import only no Herald package",
    );
    expect(violation(edge("sqlite", "postgres"), none)).not.toBeNull();
    expect(violation(edge("core", "server"), none)).not.toBeNull();
    expect(violation(edge("redis", "nats"), none)).not.toBeNull();
    expect(violation(edge("elsewhere", "core"), none)).not.toBeNull();
  });

  it("applies the layer rules across packages too", () => {
    expect(
      violation(
        {
          from: "store/sqlite/x.ts",
          to: "delivery/y.ts",
          fromPackage: "sqlite",
          toPackage: "core",
        },
        none,
      ),
    ).not.toBeNull();
    expect(
      violation(
        { from: "store/x.ts", to: "index.ts", fromPackage: "server", toPackage: "core" },
        new Set(["core:index.ts"]),
      ),
    ).not.toBeNull();
  });

  it("refuses files outside the layer folders, and unknown folders", () => {
    expect(violation({ from: "stray.ts", to: "core/ids.ts" }, none)).not.toBeNull();
    expect(violation({ from: "misc/a.ts", to: "core/ids.ts" }, none)).not.toBeNull();
  });
});
