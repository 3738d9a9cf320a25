// Docs show test regions verbatim (`<!-- region: FILE#NAME -->` before a ```ts block), so
// their examples cannot drift from code that runs.
import { describe, expect, it } from "vitest";
import { docRegionBlocks, testRegion } from "../helpers/docRegions.js";

const docs = [
  "docs/storage.md",
  "docs/core.md",
  "docs/ssrf.md",
  "docs/http-transport.md",
  "docs/worker.md",
  "docs/transports.md",
  "docs/websocket.md",
  "docs/grpc.md",
  "docs/queues.md",
];

describe.each(docs)("%s examples", (doc) => {
  const blocks = docRegionBlocks(doc);

  it("has region-checked examples", () => {
    expect(blocks.length).toBeGreaterThan(0);
  });

  it.each(blocks.map(([file, name, code]) => [`${file}#${name}`, file, name, code]))(
    "%s matches",
    (_label, file, name, code) => {
      expect(code).toBe(testRegion(file, name));
    },
  );
});
