// The import graph of the workspace's packages and the rules it must keep (docs/development.md,
// "Dependency direction"). Every import counts: static, `export … from`, `import type` and
// dynamic `import()`; relative ones stay in their package, `@heraldjs/<name>[/…]` ones cross.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import ts from "typescript";

/**
 * One import: `from` imports `to`, both paths relative to their package's src/, with `.ts`.
 * The packages are named when the edge was read from the workspace (`webhooks`, `core`, …).
 */
export interface ImportEdge {
  from: string;
  to: string;
  fromPackage?: string;
  toPackage?: string;
}

/**
 * The packages, lowest first, and the Herald packages each may import (its `dependencies`
 * list them, and no others). A package imports only packages below it.
 */
export const PACKAGES: Readonly<Record<string, readonly string[]>> = {
  webhooks: [],
  core: ["webhooks"],
  sqlite: ["core", "webhooks"],
  postgres: ["core", "webhooks"],
  redis: ["core", "webhooks"],
  nats: ["core", "webhooks"],
  websocket: ["core", "webhooks"],
  grpc: ["core", "webhooks"],
  rabbitmq: ["core", "webhooks"],
  aws: ["core", "webhooks"],
  spec: ["core", "webhooks"],
  server: [
    "aws",
    "core",
    "grpc",
    "nats",
    "postgres",
    "rabbitmq",
    "redis",
    "spec",
    "sqlite",
    "webhooks",
    "websocket",
  ],
};

/**
 * The layers, lowest first, and what each may import besides itself. A layer never imports one
 * above it or a sibling it does not name.
 */
export const LAYERS: Readonly<Record<string, readonly string[]>> = {
  core: [],
  model: ["core"],
  signing: ["core"],
  store: ["core", "model"],
  bus: ["core", "model", "store"],
  inbound: ["core", "model", "signing", "store"],
  delivery: ["core", "model", "signing", "store", "bus"],
  events: ["core", "model", "store", "bus"],
  platform: ["core", "model", "signing", "store", "bus", "delivery"],
  wire: ["core", "model", "signing", "store", "delivery"],
  config: ["core", "model", "signing", "store", "delivery", "wire"],
  spec: ["core", "model", "signing", "wire", "config"],
  server: ["core", "model", "signing", "store", "bus", "inbound", "delivery", "wire", "config"],
  cli: [
    "core",
    "model",
    "signing",
    "store",
    "bus",
    "inbound",
    "delivery",
    "events",
    "platform",
    "wire",
    "config",
    "spec",
    "server",
  ],
};

/** The only files of cli/ that may import server/: the commands that run the service. */
export const SERVER_IMPORTERS: readonly string[] = ["cli/commands/serve.ts"];

/** The store's ports: what adapters implement. They import core/ and model/ only. */
export const STORE_PORTS: readonly string[] = [
  "store/ports.ts",
  "store/deliveryPorts.ts",
  "store/dedupePort.ts",
];

/** The store's adapters, one folder each; none imports another. */
export const STORE_ADAPTERS: readonly string[] = ["memory", "sqlite", "postgres", "redis"];

/** The first folder of a path below src/ (`.` for files directly in src/). */
export function layerOf(path: string): string {
  const parts = path.split("/");
  return parts.length === 1 ? "." : (parts[0] as string);
}

/**
 * Why `edge` breaks the rules, or null when it keeps them. `entries` are the packages' entry
 * files (each package.json's `exports`, as `name:path` or, for one package, `path`): they only
 * re-export the published API, may name any layer, and no other file may import them.
 */
export function violation(edge: ImportEdge, entries: ReadonlySet<string>): string | null {
  const { from, to, fromPackage, toPackage } = edge;
  const at = (pkg: string | undefined, path: string) =>
    pkg === undefined ? path : `${pkg}:${path}`;
  const fromEntry = entries.has(at(fromPackage, from));
  if (entries.has(at(toPackage, to)) && !fromEntry) {
    return `${at(fromPackage, from)} imports the package entry ${at(toPackage, to)}: import the module itself`;
  }
  if (fromPackage !== undefined && toPackage !== undefined && fromPackage !== toPackage) {
    const allowed = PACKAGES[fromPackage];
    if (allowed === undefined) return `packages/${fromPackage} is not a known package`;
    if (!allowed.includes(toPackage)) {
      return `${at(fromPackage, from)} imports ${at(toPackage, to)}: @heraldjs/${fromPackage} may import only ${allowed.map((p) => `@heraldjs/${p}`).join(", ") || "no Herald package"}`;
    }
  }
  if (fromEntry) return null;
  const a = layerOf(from);
  const b = layerOf(to);
  if (a === ".") return `${from} is not in a layer folder`;
  const allowed = LAYERS[a];
  if (allowed === undefined) return `${from}: the folder src/${a}/ is not a known layer`;
  if (a !== b && !allowed.includes(b)) {
    return `${from} imports ${to}: ${a}/ may import only ${allowed.join(", ") || "nothing"}`;
  }
  if (a === "cli" && b === "server" && !SERVER_IMPORTERS.includes(from)) {
    return `${from} imports ${to}: only ${SERVER_IMPORTERS.join(", ")} may import server/`;
  }
  if (a === "store" && b === "store") return storeViolation(from, to);
  return null;
}

function storeViolation(from: string, to: string): string | null {
  if (STORE_PORTS.includes(from) && !STORE_PORTS.includes(to)) {
    return `${from} imports ${to}: the store's ports import core/ and model/ only`;
  }
  const adapterOf = (path: string) => STORE_ADAPTERS.find((a) => path.startsWith(`store/${a}/`));
  const fromAdapter = adapterOf(from);
  const toAdapter = adapterOf(to);
  if (toAdapter !== undefined && fromAdapter !== undefined && toAdapter !== fromAdapter) {
    return `${from} imports ${to}: one store adapter never imports another`;
  }
  return null;
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith(".ts") ? [path] : [];
  });
}

const toPosix = (path: string) => path.split(sep).join("/");

/** The file a `@heraldjs/…` specifier names, as `[package, path below its src/]`. */
export function resolveHeraldSpecifier(specifier: string): [string, string] | null {
  const match = /^@heraldjs\/([a-z]+)(?:\/(.+))?$/.exec(specifier);
  if (match === null) return null;
  const [, pkg, rest] = match as unknown as [string, string, string | undefined];
  if (rest === undefined) return [pkg, "index.ts"];
  if (rest.startsWith("internal/"))
    return [pkg, rest.slice("internal/".length).replace(/\.js$/, ".ts")];
  return [pkg, `${rest}/index.ts`];
}

/** One import of a file: the specifier as written. */
export interface ImportSite {
  file: string;
  specifier: string;
}

/** Every import specifier of every `.ts` file below `srcDir` (paths relative to it). */
export function readImports(srcDir: string): ImportSite[] {
  return sourceFiles(srcDir).flatMap((file) =>
    ts.preProcessFile(readFileSync(file, "utf8"), true, true).importedFiles.map(({ fileName }) => ({
      file: toPosix(relative(srcDir, file)),
      specifier: fileName,
    })),
  );
}

/**
 * Every import between Herald's sources in the workspace `packagesDir` (one folder per package,
 * its sources in src/): relative ones within a package, `@heraldjs/…` ones across packages.
 */
export function readImportGraph(packagesDir: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const pkg of readdirSync(packagesDir)) {
    const srcDir = join(packagesDir, pkg, "src");
    for (const { file, specifier } of readImports(srcDir)) {
      if (specifier.startsWith(".")) {
        const target = toPosix(join(dirname(file), specifier)).replace(/\.js$/, ".ts");
        edges.push({ from: file, to: target, fromPackage: pkg, toPackage: pkg });
        continue;
      }
      const herald = resolveHeraldSpecifier(specifier);
      if (herald !== null) {
        edges.push({ from: file, to: herald[1], fromPackage: pkg, toPackage: herald[0] });
      }
    }
  }
  return edges;
}

/**
 * The entry files of one package below its src/, from its package.json `exports`
 * (`./dist/x.js` → `x.ts`; the `./internal/*` pattern names no entry).
 */
export function packageEntries(packageJson: { exports?: unknown }): Set<string> {
  const entries = new Set<string>();
  const visit = (value: unknown) => {
    if (typeof value === "string") {
      const match = /^\.\/dist\/([^*]+)\.js$/.exec(value);
      if (match) entries.add(`${match[1]}.ts`);
    } else if (value !== null && typeof value === "object") {
      for (const inner of Object.values(value)) visit(inner);
    }
  };
  visit(packageJson.exports);
  return entries;
}
