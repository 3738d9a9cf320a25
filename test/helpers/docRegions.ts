// Docs pull their examples from tests: a ```ts block preceded by `<!-- region: FILE#NAME -->`
// must equal the `// #region NAME` … `// #endregion NAME` lines of FILE (dedented).
import { readFileSync } from "node:fs";

const root = new URL("../../", import.meta.url);
export const readRepoFile = (path: string) => readFileSync(new URL(path, root), "utf8");

export function testRegion(file: string, name: string): string {
  const match = new RegExp(
    `\\n([ \\t]*)// #region ${name}\\n([\\s\\S]*?)\\n[ \\t]*// #endregion ${name}\\n`,
  ).exec(readRepoFile(file));
  if (match === null) throw new Error(`${file} has no #region ${name}`);
  const indent = match[1]!.length;
  return `${match[2]!
    .split("\n")
    .map((line) => line.slice(Math.min(indent, line.length - line.trimStart().length)))
    .join("\n")}\n`;
}

/** The region-marked blocks of a doc: [file, region name, code shown]. */
export function docRegionBlocks(doc: string): [string, string, string][] {
  return [...readRepoFile(doc).matchAll(/<!-- region: (\S+)#(\S+) -->\n```ts\n([\s\S]*?)```/g)].map(
    (m) => [m[1]!, m[2]!, m[3]!],
  );
}
