// The package's own version, read once from package.json (the HTTP transport's User-Agent, `herald --version`, /health).
import { readFileSync } from "node:fs";

export function readPackageVersion(): string {
  const url = new URL("../../package.json", import.meta.url);
  return (JSON.parse(readFileSync(url, "utf8")) as { version: string }).version;
}
