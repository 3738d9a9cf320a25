// Copies the non-TypeScript files a package reads at run time (SQL migrations) from each
// package's src/ to its dist/, keeping their paths, after tsc has compiled the rest.
import { cpSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";

function copySql(from, to) {
  for (const entry of readdirSync(from)) {
    const source = join(from, entry);
    const target = join(to, entry);
    if (statSync(source).isDirectory()) copySql(source, target);
    else if (entry.endsWith(".sql")) cpSync(source, target);
  }
}

for (const name of readdirSync("packages")) {
  copySql(join("packages", name, "src"), join("packages", name, "dist"));
}
