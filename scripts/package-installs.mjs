// Install size and time of each package as a user gets it: `npm pack --workspaces` (after
// `npm run build`), then each tarball — with the Herald packages it depends on, as the registry
// would supply them — installed into its own empty project with an empty npm cache, so every
// other dependency comes from the registry. Prints one Markdown row per package:
// `node scripts/package-installs.mjs`.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const work = mkdtempSync(join(tmpdir(), "herald-installs-"));
const packed = JSON.parse(
  execFileSync("npm", ["pack", "--workspaces", "--pack-destination", work, "--json"], {
    encoding: "utf8",
  }),
);
const tarball = new Map(packed.map((p) => [p.name, join(work, p.filename)]));
const deps = (name) =>
  Object.keys(
    JSON.parse(
      readFileSync(join("packages", name.replace("@heraldjs/", ""), "package.json"), "utf8"),
    ).dependencies ?? {},
  ).filter((dep) => dep.startsWith("@heraldjs/"));
const closure = (name) => [...new Set([name, ...deps(name).flatMap(closure)])];
const count = (dir) =>
  readdirSync(dir).reduce((n, entry) => {
    if (entry.startsWith(".")) return n;
    return n + (entry.startsWith("@") ? readdirSync(join(dir, entry)).length : 1);
  }, 0);

console.log("| package | tarball | installed packages | `du -sh node_modules` | install time |");
console.log("|---|---|---|---|---|");
for (const { name, size } of packed) {
  const dir = mkdtempSync(join(work, "project-"));
  writeFileSync(join(dir, "package.json"), JSON.stringify({ name: "try", private: true }));
  const started = process.hrtime.bigint();
  execFileSync(
    "npm",
    [
      "install",
      "--no-audit",
      "--no-fund",
      "--cache",
      join(dir, ".cache"),
      ...closure(name).map((n) => tarball.get(n)),
    ],
    { cwd: dir, stdio: "ignore" },
  );
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const du = execFileSync("du", ["-sh", "node_modules"], { cwd: dir, encoding: "utf8" }).split(
    "\t",
  )[0];
  const kb = (size / 1024).toFixed(0);
  console.log(
    `| \`${name}\` | ${kb} KB | ${count(join(dir, "node_modules"))} | ${du} | ${seconds.toFixed(1)} s |`,
  );
  rmSync(dir, { recursive: true, force: true });
}
rmSync(work, { recursive: true, force: true });
