// The README's "Run the gateway" tour, run as a script: each `<!-- tour: NAME -->` bash block,
// in order, in one bash process (so variables, functions and background jobs carry over from
// step to step, as in the reader's terminal), under `set -euo pipefail`, in a temporary
// directory that looks like the repository root (packages/ and examples/ linked) with no
// herald.db yet, on free ports the test picks through HERALD_PORT and RECEIVER_PORT.
//
// Each step's output must be the output the README shows under it (ids aside). The steps
// that watch the worker (delivered, dead-lettered, replayed) are run again until it is (for up
// to 30 s), as a reader would run them again; every other step must match the first time.
// A step that fails, hangs or prints something else fails the test.
import { type ChildProcessWithoutNullStreams, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readRepoFile } from "../helpers/docRegions.js";
import { freePort } from "../helpers/freePort.js";
import { repoRoot } from "../helpers/spawnNode.js";

interface TourStep {
  name: string;
  code: string;
  /** The output block shown right after the step's code, if any. */
  shown: string | null;
}

const STEPS = [
  "setup",
  "serve",
  "register",
  "receiver",
  "send",
  "delivered",
  "break",
  "dead-lettered",
  "replay",
  "replayed",
  "stop",
];
/** Steps that watch the worker: run again until their output is the one shown. */
const WATCH = new Set(["delivered", "dead-lettered", "replayed"]);

/** The tour's steps: a bash block after `<!-- tour: NAME -->`, then an optional output block. */
function tourSteps(markdown: string): TourStep[] {
  return [
    ...markdown.matchAll(/<!-- tour: (\S+) -->\n```sh\n([\s\S]*?)```\n(?:```\n([\s\S]*?)```\n)?/g),
  ].map((m) => ({ name: m[1]!, code: m[2]!, shown: m[3] ?? null }));
}

/** Ids and column padding differ from run to run; the rest must not. */
function normalize(text: string): string {
  return text
    .replace(/\b(msg|dlv|ep)_[0-9A-Z]{26}\b/g, "$1_<id>")
    .split("\n")
    .map((line) => line.replace(/ {2,}/g, "  ").trimEnd())
    .join("\n")
    .trim();
}

/** One bash process fed the steps one at a time; resolves each step's combined output. */
class TourShell {
  private out = "";
  private err = "";
  private exitCode: number | null | undefined;
  private count = 0;
  private readonly exited: Promise<void>;
  readonly child: ChildProcessWithoutNullStreams;

  constructor(
    private readonly dir: string,
    env: NodeJS.ProcessEnv,
  ) {
    // Its own process group: whatever the steps leave running is ended with it.
    this.child = spawn("bash", ["--noprofile", "--norc"], { cwd: dir, env, detached: true });
    this.child.stdout.setEncoding("utf8").on("data", (chunk: string) => (this.out += chunk));
    this.child.stderr.setEncoding("utf8").on("data", (chunk: string) => (this.err += chunk));
    this.exited = new Promise((resolve) =>
      this.child.on("exit", (code) => {
        this.exitCode = code;
        resolve();
      }),
    );
    this.child.stdin.write("set -euo pipefail\n");
  }

  /** Runs one step (stdin from /dev/null, stderr into the output) and returns its output. */
  async run(step: TourStep, timeoutMs = 30_000): Promise<string> {
    this.count += 1;
    const file = join(this.dir, ".tour", `${String(this.count).padStart(3, "0")}-${step.name}.sh`);
    writeFileSync(file, step.code);
    const marker = `@@tour-step-done ${this.count}`;
    const start = this.out.length;
    this.child.stdin.write(`source '${file}' < /dev/null 2>&1\nprintf '\\n%s\\n' '${marker}'\n`);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const at = this.out.indexOf(`\n${marker}\n`, start);
      if (at >= 0) return this.out.slice(start, at);
      const output = this.out.slice(start);
      if (this.exitCode !== undefined) {
        throw new Error(
          `tour step ${step.name} failed: bash exited with ${this.exitCode}\n${output}\n${this.err}`,
        );
      }
      if (Date.now() > deadline) {
        throw new Error(`tour step ${step.name} did not finish in ${timeoutMs} ms\n${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Ends the shell and everything it started (the server and receiver, if still running). */
  async close(): Promise<void> {
    if (this.exitCode === undefined) this.child.stdin.end("exit 0\n");
    try {
      process.kill(-this.child.pid!, "SIGTERM");
    } catch {
      // the group is already gone
    }
    await Promise.race([this.exited, new Promise((resolve) => setTimeout(resolve, 5000))]);
  }
}

const steps = tourSteps(readRepoFile("README.md"));

describe("README tour: run the gateway", () => {
  let dir: string;
  let shell: TourShell;
  let herald: { port: number; url: string };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "herald-tour-"));
    mkdirSync(join(dir, ".tour"));
    // The repository root as the reader has it after `npm install`, minus everything else.
    symlinkSync(join(repoRoot, "packages"), join(dir, "packages"));
    symlinkSync(join(repoRoot, "examples"), join(dir, "examples"));
    const [port, receiverPort] = [await freePort(), await freePort()];
    herald = { port, url: `http://127.0.0.1:${port}` };
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      PATH: `${dirname(process.execPath)}:${process.env.PATH ?? ""}`,
      HERALD_PORT: String(port),
      RECEIVER_PORT: String(receiverPort),
    };
    for (const name of Object.keys(env)) {
      // Nothing of the test runner's own Herald settings may leak into the reader's shell.
      if (name.startsWith("HERALD_") && name !== "HERALD_PORT") delete env[name];
    }
    for (const name of ["WEBHOOK_SECRET", "RECEIVER_FAIL", "API", "DLV"]) delete env[name];
    shell = new TourShell(dir, env);
  });

  afterAll(async () => {
    await shell?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it("has the steps in order, each with the output it shows", () => {
    expect(steps.map((step) => step.name)).toEqual(STEPS);
    for (const step of steps) {
      if (step.name !== "setup" && step.name !== "stop")
        expect(step.shown, step.name).not.toBeNull();
    }
  });

  it("runs every step with the output the README shows", { timeout: 180_000 }, async () => {
    const outputs = new Map<string, string>();
    for (const step of steps) {
      const expected = normalize(step.shown ?? "");
      let output = await shell.run(step);
      if (WATCH.has(step.name)) {
        const deadline = Date.now() + 30_000;
        while (normalize(output) !== expected && Date.now() < deadline) {
          await new Promise((resolve) => setTimeout(resolve, 250));
          output = await shell.run(step);
        }
      }
      expect(normalize(output), `output of tour step ${step.name}`).toBe(expected);
      outputs.set(step.name, output);
    }

    // Beyond the shape: the ids tie the steps together.
    const sent = (outputs.get("send") ?? "")
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { message_id: string; status: string });
    expect(sent.map((s) => s.status)).toEqual(["accepted", "duplicate"]);
    expect(sent[1]?.message_id).toBe(sent[0]?.message_id);
    const first = sent[0]!.message_id;
    expect(outputs.get("delivered")).toContain(`delivered ${first} stripe.invoice.paid`);

    const broken = /"message_id":"(msg_\w+)","status":"accepted"/.exec(outputs.get("break") ?? "");
    const second = broken?.[1];
    expect(second).toBeDefined();
    expect(second).not.toBe(first);
    const deadLetters = outputs.get("dead-lettered") ?? "";
    expect(deadLetters.match(new RegExp(`^failed ${second} `, "gm"))).toHaveLength(3);
    const deadId = /^(dlv_\w+)\s+dead_lettered\s/m.exec(deadLetters)?.[1];
    expect(outputs.get("replay")).toContain(`replayed ${deadId} (pending)`);
    expect(outputs.get("replayed")).toContain(`delivered ${second} stripe.invoice.payment_failed`);

    // `stop` waited for both: the service shut down gracefully and the port is free.
    const log = readFileSync(join(dir, "herald.log"), "utf8");
    expect(log).toContain("Herald stopped");
    await expect(fetch(`${herald.url}/health`)).rejects.toThrow();
    // The database is the fresh ./herald.db of the directory the tour ran in.
    expect(readFileSync(join(dir, "herald.db")).length).toBeGreaterThan(0);
  });
});
