// Temporary directories holding a herald.yaml for the config tests.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const dirs: string[] = [];

/** A fresh directory; with `yaml`, it holds herald.yaml with that text. */
export function configDir(yaml?: string, name = "herald.yaml"): string {
  const dir = mkdtempSync(join(tmpdir(), "herald-config-"));
  dirs.push(dir);
  if (yaml !== undefined) writeFileSync(join(dir, name), yaml);
  return dir;
}

export function removeConfigDirs(): void {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
}

/** The error a promise rejects with (fails when it resolves). */
export async function rejection(
  promise: Promise<unknown>,
): Promise<Error & { code?: string; details?: Record<string, unknown> }> {
  try {
    await promise;
  } catch (error) {
    return error as Error & { code?: string };
  }
  throw new Error("expected a rejection");
}

/** A valid standard (whsec_) secret. */
export const STANDARD_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
