// docs/worker.md code blocks marked `<!-- region: FILE#NAME -->` must equal that test region.
import { readFileSync } from "node:fs";
import { expect, it } from "vitest";

const root = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");

function region(file: string, name: string): string {
  const match = new RegExp(
    `\\n([ \\t]*)// #region ${name}\\n([\\s\\S]*?)\\n[ \\t]*// #endregion ${name}\\n`,
  ).exec(read(file));
  if (match === null) throw new Error(`${file} has no #region ${name}`);
  const indent = match[1]!.length;
  return `${match[2]!
    .split("\n")
    .map((line) => line.slice(Math.min(indent, line.length - line.trimStart().length)))
    .join("\n")}\n`;
}

it("docs/worker.md examples match their test regions", () => {
  const blocks = [
    ...read("docs/worker.md").matchAll(/<!-- region: (\S+)#(\S+) -->\n```ts\n([\s\S]*?)```/g),
  ];
  expect(blocks.length).toBeGreaterThan(0);
  for (const [, file, name, code] of blocks) expect(code).toBe(region(file!, name!));
});
