// The `herald` executable applies its V8 settings before any other module of the CLI runs:
// ES modules are evaluated in import order, so heapSettings.js must be bin.ts's first import.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repoRoot } from "../helpers/spawnNode.js";

const cliDir = join(repoRoot, "packages/server/src/cli");
const importsOf = (file: string) =>
  [
    ...readFileSync(join(cliDir, file), "utf8").matchAll(
      /^import\s+(?:[^"']*\s+from\s+)?["']([^"']+)["']/gm,
    ),
  ].map((m) => m[1]);

describe("herald executable: V8 settings", () => {
  it("imports heapSettings.js before anything else", () => {
    const imports = importsOf("bin.ts");
    expect(imports[0]).toBe("./heapSettings.js");
    expect(imports).toContain("./main.js");
  });

  it("turns allocation-site pretenuring off, importing nothing of Herald's", () => {
    const source = readFileSync(join(cliDir, "heapSettings.ts"), "utf8");
    expect(source).toContain('setFlagsFromString("--no-allocation-site-pretenuring")');
    expect(importsOf("heapSettings.ts")).toEqual(["node:v8"]);
  });
});
