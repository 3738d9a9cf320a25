// Code blocks in the docs marked `<!-- region: FILE#NAME -->` are the named #region of that
// test file, verbatim (dedented), so the examples cannot drift from code that runs.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";

const root = new URL("../../", import.meta.url);
const read = (path: string) => readFileSync(new URL(path, root), "utf8");

function region(file: string, name: string): string {
  const text = read(file);
  const match = new RegExp(
    `\\n([ \\t]*)// #region ${name}\\n([\\s\\S]*?)\\n[ \\t]*// #endregion ${name}\\n`,
  ).exec(text);
  if (match === null) throw new Error(`${file} has no #region ${name}`);
  const indent = match[1]!.length;
  return `${match[2]!
    .split("\n")
    .map((line) => line.slice(Math.min(indent, line.length - line.trimStart().length)))
    .join("\n")}\n`;
}

describe.each(["docs/storage.md", "docs/core.md"])("%s examples", (doc) => {
  const blocks = [...read(doc).matchAll(/<!-- region: (\S+)#(\S+) -->\n```ts\n([\s\S]*?)```/g)];

  it("has region-checked examples", () => {
    expect(blocks.length).toBeGreaterThan(0);
  });

  it.each(blocks.map((b) => [`${b[1]}#${b[2]}`, b[1]!, b[2]!, b[3]!]))(
    "%s matches",
    (_label, file, name, code) => {
      expect(code).toBe(region(file, name));
    },
  );
});
