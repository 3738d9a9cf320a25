// The store commands' text helpers: tables, the progress bar's rate limit, --since and --limit.
import { InvalidArgumentError } from "commander";
import { describe, expect, it } from "vitest";
import {
  nextPageCommand,
  parseStatusFlag,
} from "../../packages/server/src/cli/commands/deliveries.js";
import {
  formatTypeFrom,
  parseTypeFromFlag,
} from "../../packages/server/src/cli/commands/sources.js";
import {
  createProgressBar,
  formatTable,
  renderProgress,
  shellArg,
  shortTime,
  truncate,
} from "../../packages/server/src/cli/format.js";
import {
  parseLimitFlag,
  parseSinceFlag,
  resolveSince,
} from "../../packages/server/src/cli/options.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";

describe("formatTable", () => {
  it("pads every column but the last to its widest cell", () => {
    expect(
      formatTable(
        ["ID", "NAME"],
        [
          ["a", "x"],
          ["long-id", ""],
        ],
      ),
    ).toBe("ID       NAME\na        x\nlong-id\n");
  });
});

describe("text helpers", () => {
  it("shortens times, truncates one-liners and quotes shell arguments", () => {
    expect(shortTime("2025-03-01T10:00:00.123Z")).toBe("2025-03-01T10:00:00Z");
    expect(shortTime(null)).toBe("-");
    expect(truncate(null, 5)).toBe("-");
    expect(truncate("a\n b", 10)).toBe("a b");
    expect(truncate("abcdefgh", 5)).toBe("abcd…");
    expect(shellArg("dead_lettered,retrying")).toBe("dead_lettered,retrying");
    expect(shellArg("/tmp/my db.sqlite")).toBe("'/tmp/my db.sqlite'");
    expect(shellArg("it's")).toBe(`'it'\\''s'`);
  });
});

describe("progress bar", () => {
  it("renders [#####.....] done/total", () => {
    expect(renderProgress(120, 400, 10)).toBe("[###.......] 120/400");
    expect(renderProgress(0, 0, 4)).toBe("[####] 0/0");
  });

  it("redraws at most every 100 ms, always at the end, and ends the line", () => {
    const clock = new ManualClock(0);
    let out = "";
    const bar = createProgressBar({ write: (text: string) => (out += text) }, clock, { width: 4 });
    bar.update(0, 4);
    bar.update(1, 4); // same instant: skipped
    clock.advance(100);
    bar.update(2, 4);
    clock.advance(50);
    bar.update(3, 4); // too soon: skipped
    bar.update(4, 4); // done: drawn
    bar.finish();
    expect(out).toBe("\r[....] 0/4\r[##..] 2/4\r[####] 4/4\n");
    let late = "";
    const other = createProgressBar({ write: (text: string) => (late += text) }, clock, {
      width: 4,
    });
    other.update(0, 4);
    other.update(3, 4);
    other.finish(); // the last state had not been drawn yet
    expect(late).toBe("\r[....] 0/4\r[###.] 3/4\n");
  });
});

describe("flag parsers", () => {
  it("parses --since as a span ago, Unix seconds or ISO 8601", () => {
    const now = Date.parse("2025-03-01T12:00:00Z");
    const at = (value: string) => resolveSince(parseSinceFlag(value), now).toISOString();
    expect(at("30s")).toBe("2025-03-01T11:59:30.000Z");
    expect(at("30m")).toBe("2025-03-01T11:30:00.000Z");
    expect(at("1h")).toBe("2025-03-01T11:00:00.000Z");
    expect(at("2d")).toBe("2025-02-27T12:00:00.000Z");
    expect(at("1w")).toBe("2025-02-22T12:00:00.000Z");
    expect(at("1740830400")).toBe("2025-03-01T12:00:00.000Z");
    expect(at("2025-03-01T00:00:00Z")).toBe("2025-03-01T00:00:00.000Z");
    for (const bad of ["", "1y", "h", "soon", "-1h"]) {
      expect(() => parseSinceFlag(bad)).toThrow(InvalidArgumentError);
    }
  });

  it("parses --limit from 1 to 1000", () => {
    expect(parseLimitFlag("1")).toBe(1);
    expect(parseLimitFlag(" 1000 ")).toBe(1000);
    for (const bad of ["0", "1001", "1.5", "-3", "", "1e3"]) {
      expect(() => parseLimitFlag(bad)).toThrow(InvalidArgumentError);
    }
  });

  it("collects --status values without duplicates", () => {
    expect(parseStatusFlag("retrying", parseStatusFlag("dead_lettered,retrying"))).toEqual([
      "dead_lettered",
      "retrying",
    ]);
  });

  it("parses and prints --type-from", () => {
    for (const text of ["body:type", "header:X-GitHub-Event", "fixed:received", "body:data.kind"]) {
      expect(formatTypeFrom(parseTypeFromFlag(text))).toBe(text);
    }
    expect(() => parseTypeFromFlag("header:")).toThrow(InvalidArgumentError);
    expect(() => parseTypeFromFlag("type")).toThrow(InvalidArgumentError);
  });

  it("leaves a PostgreSQL password out of the next-page hint", () => {
    const base = { limit: 50, status: ["dead_lettered" as const] };
    expect(nextPageCommand({ ...base, db: "postgres://u:pw@db/h", schema: "s" }, "C")).toBe(
      "herald deliveries --status dead_lettered --cursor C",
    );
    expect(nextPageCommand({ ...base, db: "postgres://u@db/h", schema: "s", limit: 5 }, "C")).toBe(
      "herald deliveries --status dead_lettered --limit 5 --db postgres://u@db/h --schema s --cursor C",
    );
  });
});
