// A small tmpfs of its own for tests that need a filesystem to fill up (disk-full behaviour),
// mounted in a fresh temp directory and unmounted afterwards. Mounting needs root (or
// CAP_SYS_ADMIN); tmpfsUnavailable() says why it cannot be done here.
import { execFile } from "node:child_process";
import { closeSync, openSync, writeSync } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

export interface Tmpfs {
  path: string;
  /** Unmounts (lazily if busy) and removes the directory. Safe to call more than once. */
  unmount(): Promise<void>;
}

export async function mountTmpfs(sizeBytes: number): Promise<Tmpfs> {
  const path = await mkdtemp(join(tmpdir(), "herald-tmpfs-"));
  try {
    await run("mount", ["-t", "tmpfs", "-o", `size=${sizeBytes}`, "tmpfs", path]);
  } catch (error) {
    await rm(path, { recursive: true, force: true });
    throw error;
  }
  let unmounted = false;
  return {
    path,
    async unmount() {
      if (unmounted) return;
      unmounted = true;
      await run("umount", [path]).catch(() => run("umount", ["-l", path]));
      await rm(path, { recursive: true, force: true });
    },
  };
}

/** Why a tmpfs cannot be mounted here (null when it can): tries one. */
export async function tmpfsUnavailable(): Promise<string | null> {
  if (process.platform !== "linux") return `not Linux (${process.platform})`;
  try {
    const probe = await mountTmpfs(64 * 1024);
    await probe.unmount();
    return null;
  } catch (error) {
    const { stderr, message } = error as { stderr?: string; message?: string };
    return `mount -t tmpfs failed: ${(stderr || message || String(error)).trim()}`;
  }
}

/** Writes zeros to `file` until the filesystem refuses (ENOSPC); returns the bytes written. */
export function fillFilesystem(file: string): number {
  const fd = openSync(file, "w");
  let written = 0;
  try {
    for (const size of [1024 * 1024, 64 * 1024, 4096, 512, 1]) {
      const chunk = Buffer.alloc(size);
      for (;;) {
        try {
          written += writeSync(fd, chunk);
        } catch (error) {
          if ((error as { code?: string }).code !== "ENOSPC") throw error;
          break;
        }
      }
    }
  } finally {
    closeSync(fd);
  }
  return written;
}
