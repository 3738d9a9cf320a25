// `Name: value` header lines: what `herald sign` prints, what `curl -H @file` reads and what
// `curl -D file` writes (status lines included), parsed back for `herald verify`.
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Parses one `Name: value` line; undefined when it is not one. */
export function parseHeaderLine(line: string): [name: string, value: string] | undefined {
  const colon = line.indexOf(":");
  if (colon <= 0) return undefined;
  const name = line.slice(0, colon);
  if (!TOKEN.test(name)) return undefined;
  return [name, line.slice(colon + 1).trim()];
}

/** Header lines in the order given; one header may occur several times. */
export type HeaderList = [name: string, value: string][];

export function parseHeaderFlag(flag: string): [string, string] {
  const header = parseHeaderLine(flag);
  if (header === undefined) {
    throw new HeraldError(
      "cli.invalid_argument",
      `--header ${JSON.stringify(flag)} is not of the form 'Name: value'`,
    );
  }
  return header;
}

/**
 * The headers in a file of `Name: value` lines. An `HTTP/…` status line (curl -D output) starts
 * a new response, so after redirects only the last response's headers count.
 */
export function parseHeaderFile(text: string, fileName: string): HeaderList {
  let headers: HeaderList = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((line, index) => {
    if (line.trim() === "") return;
    if (/^HTTP\/\d/.test(line)) {
      headers = [];
      return;
    }
    const header = parseHeaderLine(line);
    if (header === undefined) {
      throw new HeraldError(
        "cli.invalid_argument",
        `${fileName}:${index + 1} is not a 'Name: value' header line`,
      );
    }
    headers.push(header);
  });
  return headers;
}

/** A case-insensitive record for verifyWebhook; repeated headers keep every value. */
export function toHeaderRecord(headers: HeaderList): Record<string, string | string[]> {
  const record: Record<string, string | string[]> = {};
  for (const [name, value] of headers) {
    const key = name.toLowerCase();
    const existing = record[key];
    if (existing === undefined) record[key] = value;
    else record[key] = [...(Array.isArray(existing) ? existing : [existing]), value];
  }
  return record;
}

/** Lines for `curl -H @file`: `Name: value`, one per line. */
export function formatHeaderLines(headers: Readonly<Record<string, string>>): string {
  return Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\n`)
    .join("");
}
