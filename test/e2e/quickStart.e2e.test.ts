// The README's Quick start: `npm start` (the real npm script, from the repository root) serves
// on SQLite. The port and the database come from the environment (HERALD_PORT, HERALD_DB), so
// nothing is written to the repository. SIGTERM to npm — what `kill`, `docker stop` or a
// process manager sends — must stop the service gracefully (npm hands it on) with exit 0,
// leaving no server behind.
import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { readRepoFile } from "../helpers/docRegions.js";
import { freePort } from "../helpers/freePort.js";
import { repoRoot } from "../helpers/spawnNode.js";

async function waitFor<T>(what: string, ms: number, probe: () => Promise<T | undefined>) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} within ${ms} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("README Quick start", () => {
  const dir = mkdtempSync(join(tmpdir(), "herald-quickstart-"));
  let child: ChildProcess | undefined;
  afterAll(() => {
    // npm and what it started share the process group made for them; nothing may outlive us.
    try {
      if (child?.pid !== undefined) process.kill(-child.pid, "SIGKILL");
    } catch {
      // already gone
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it("has exactly two commands: install and serve, install and test", () => {
    const readme = readRepoFile("README.md");
    const section = /## Quick start\n([\s\S]*?)\n## /.exec(readme)?.[1] ?? "";
    const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? "";
    const commands = block
      .split("\n")
      .map((line) => line.replace(/#.*$/, "").trim())
      .filter(Boolean);
    expect(commands).toEqual(["npm install && npm start", "npm install && npm test"]);
    const scripts = JSON.parse(readRepoFile("package.json")).scripts as Record<string, string>;
    expect(scripts.start).toMatch(/^(exec )?node packages\/server\/dist\/cli\/bin\.js serve$/);
    expect(scripts.herald).toMatch(/^(exec )?node packages\/server\/dist\/cli\/bin\.js$/);
  });

  it("`npm start` serves /health and /ready on SQLite, and SIGTERM stops it with exit 0", async () => {
    const port = await freePort();
    const db = join(dir, "quickstart.db");
    const env: NodeJS.ProcessEnv = { ...process.env, HERALD_PORT: String(port), HERALD_DB: db };
    for (const name of ["HERALD_HOST", "HERALD_CONFIG", "HERALD_API_KEY", "HERALD_SSRF_ALLOW"]) {
      delete env[name];
    }
    child = spawn("npm", ["start"], { cwd: repoRoot, env, detached: true, stdio: "pipe" });
    let stderr = "";
    child.stderr?.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    let stdout = "";
    child.stdout?.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
    const exited = new Promise<[number | null, NodeJS.Signals | null]>((resolve) =>
      child?.on("exit", (code, signal) => resolve([code, signal])),
    );
    const url = `http://127.0.0.1:${port}`;

    const health = await waitFor(`npm start serves ${url}/health`, 15_000, async () => {
      const response = await fetch(`${url}/health`);
      return response.ok ? ((await response.json()) as { status: string }) : undefined;
    }).catch((error: Error) => {
      throw new Error(`${error.message}\n${stderr}`);
    });
    expect(health.status).toBe("ok");
    const ready = await fetch(`${url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({
      status: "ready",
      timestamp: expect.any(String),
      checks: { database: { status: "ok", required: true } },
    });
    expect(stderr).toContain(`Herald listening on ${url} (SQLite database ${db}`);

    child.kill("SIGTERM"); // npm's own pid only, as `kill <pid>` would
    const [code, signal] = await Promise.race([
      exited,
      new Promise<never>((_, reject) =>
        setTimeout(() => reject(new Error(`npm start did not exit:\n${stderr}`)), 10_000),
      ),
    ]);
    expect({ code, signal }).toEqual({ code: 0, signal: null });
    // The server itself stopped, gracefully (npm passed the signal on; nothing is left listening).
    expect(stdout).toContain('"msg":"Herald stopped"');
    await expect(fetch(`${url}/health`)).rejects.toThrow();
    expect(existsSync(db)).toBe(true);
  });
});
