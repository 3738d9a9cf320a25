// Text output of the store commands: aligned tables, short times, truncation, shell quoting for
// "next page" hints, and a small progress bar for terminals.
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import type { TextSink } from "./io.js";

/** Columns separated by two spaces, padded to the widest cell; the last column is not padded. */
export function formatTable(
  header: readonly string[],
  rows: readonly (readonly string[])[],
): string {
  const widths = header.map((title, i) =>
    Math.max(title.length, ...rows.map((row) => (row[i] ?? "").length)),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return `${[line(header), ...rows.map(line)].join("\n")}\n`;
}

/** `2024-05-01T12:00:05.123Z` → `2024-05-01T12:00:05Z`; null → `-`. */
export function shortTime(iso: string | null): string {
  if (iso === null) return "-";
  return iso.replace(/\.\d{3}Z$/, "Z");
}

/** One line of at most `max` characters; longer text ends in `…`. */
export function truncate(text: string | null, max: number): string {
  if (text === null || text === "") return "-";
  const flat = text.replace(/\s+/g, " ").trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** Quotes an argument for a POSIX shell only when it needs it. */
export function shellArg(text: string): string {
  return /^[A-Za-z0-9_@%+=:,./-]+$/.test(text) ? text : `'${text.replaceAll("'", `'\\''`)}'`;
}

export function plural(count: number, one: string, many = `${one}s`): string {
  return `${count} ${count === 1 ? one : many}`;
}

/** Whether the sink is a terminal (process.stderr at a TTY, or a test's stand-in). */
export function isTerminal(sink: TextSink): boolean {
  return (sink as { isTTY?: unknown }).isTTY === true;
}

interface ProgressBar {
  /** Redraws at most every `intervalMs`, and always when done reaches total. */
  update(done: number, total: number): void;
  /** Draws the last state and ends the line. */
  finish(): void;
}

/** `[#####.....] 120/400`, redrawn in place with `\r`. */
export function renderProgress(done: number, total: number, width = 30): string {
  const ratio = total <= 0 ? 1 : Math.min(1, done / total);
  const filled = Math.round(ratio * width);
  return `[${"#".repeat(filled)}${".".repeat(width - filled)}] ${done}/${total}`;
}

export function createProgressBar(
  sink: TextSink,
  clock: Clock,
  options: { intervalMs?: number; width?: number } = {},
): ProgressBar {
  const intervalMs = options.intervalMs ?? 100;
  let last = Number.NEGATIVE_INFINITY;
  let shown = "";
  let state: [number, number] = [0, 0];
  const draw = () => {
    shown = renderProgress(state[0], state[1], options.width);
    sink.write(`\r${shown}`);
  };
  return {
    update(done, total) {
      state = [done, total];
      const now = clock.now();
      if (now - last < intervalMs && done < total) return;
      last = now;
      draw();
    },
    finish() {
      if (shown !== renderProgress(state[0], state[1], options.width)) draw();
      sink.write("\n");
    },
  };
}
