// The import graph of src/ and the rules it must keep (docs/development.md, "Dependency
// direction"). Every relative import counts: static, `export … from`, `import type` and dynamic
// `import()`.
import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, sep } from "node:path";
import ts from "typescript";

/** One import: `from` imports `to` (both paths relative to src/, with `.ts`). */
export interface ImportEdge {
  from: string;
  to: string;
}

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
  wire: ["core", "model", "signing", "store", "delivery"],
  config: ["core", "model", "signing", "store", "delivery", "wire"],
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
    "wire",
    "config",
    "server",
  ],
};

/** The only files of cli/ that may import server/: the commands that run the service. */
export const SERVER_IMPORTERS: readonly string[] = ["cli/commands/serve.ts"];

/** The store's ports: what adapters implement. They import core/ and model/ only. */
export const STORE_PORTS: readonly string[] = ["store/ports.ts", "store/deliveryPorts.ts"];

/** The store's adapters, one folder each; none imports another. */
export const STORE_ADAPTERS: readonly string[] = ["memory", "sqlite", "postgres", "redis"];

/** The first folder of a path below src/ (`.` for files directly in src/). */
export function layerOf(path: string): string {
  const parts = path.split("/");
  return parts.length === 1 ? "." : (parts[0] as string);
}

/**
 * Why `edge` breaks the rules, or null when it keeps them. `entries` are the package's entry
 * files (package.json `exports`): they only re-export the published API, may name any layer, and
 * no other file may import them.
 */
export function violation(edge: ImportEdge, entries: ReadonlySet<string>): string | null {
  const { from, to } = edge;
  if (entries.has(to) && !entries.has(from)) {
    return `${from} imports the package entry ${to}: import the module itself`;
  }
  if (entries.has(from)) return null;
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

/** Every relative import of every `.ts` file below `srcDir`. */
export function readImportGraph(srcDir: string): ImportEdge[] {
  const edges: ImportEdge[] = [];
  for (const file of sourceFiles(srcDir)) {
    const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    for (const { fileName } of info.importedFiles) {
      if (!fileName.startsWith(".")) continue;
      const target = join(dirname(file), fileName).replace(/\.js$/, ".ts");
      edges.push({
        from: toPosix(relative(srcDir, file)),
        to: toPosix(relative(srcDir, target)),
      });
    }
  }
  return edges;
}

/** The package entry files below src/, from package.json `exports` (`./dist/x.js` → `x.ts`). */
export function packageEntries(packageJson: { exports?: unknown }): Set<string> {
  const entries = new Set<string>();
  const visit = (value: unknown) => {
    if (typeof value === "string") {
      const match = /^\.\/dist\/(.+)\.js$/.exec(value);
      if (match) entries.add(`${match[1]}.ts`);
    } else if (value !== null && typeof value === "object") {
      for (const inner of Object.values(value)) visit(inner);
    }
  };
  visit(packageJson.exports);
  return entries;
}
