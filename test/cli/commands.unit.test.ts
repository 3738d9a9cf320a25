// The CLI commands run in-process through runCli with injected stdin, stdout, env and clock:
// exit statuses, output forms and error codes as a user sees them.

import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import { usageCode } from "../../packages/server/src/cli/command.js";
import { formatSignedHeaders } from "../../packages/server/src/cli/commands/sign.js";
import {
  formatHeaderLines,
  parseHeaderFile,
  parseHeaderLine,
  toHeaderRecord,
} from "../../packages/server/src/cli/headerLines.js";
import { createIo, readAll } from "../../packages/server/src/cli/io.js";
import { main } from "../../packages/server/src/cli/main.js";
import { redactSecrets } from "../../packages/server/src/cli/options.js";
import { ManualClock } from "../../packages/webhooks/src/core/clock.js";
import { schemeNames } from "../../packages/webhooks/src/signing/registry.js";
import { signWebhook } from "../../packages/webhooks/src/signing/sign.js";
import { type CliRun, runCliCaptured } from "../helpers/runCliCaptured.js";

const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
const otherSecret = "whsec_c2VjcmV0LXR3by1zZWNyZXQtdHdvLXNlY3JldA==";
const timestamp = 1_714_564_800;
const body = Buffer.from('{"type":"order.created.v1", "name":"Zoë"}\n');
const dir = mkdtempSync(join(tmpdir(), "herald-cli-unit-"));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

function cli(
  args: string[],
  options: { stdin?: Buffer | string | Readable; env?: Record<string, string> } = {},
): Promise<CliRun> {
  return runCliCaptured(args, {
    stdin: options.stdin ?? body,
    env: options.env ?? {},
    clock: new ManualClock(timestamp * 1000),
  });
}

function headerArgs(headers: Record<string, string>): string[] {
  return Object.entries(headers).flatMap(([name, value]) => ["--header", `${name}: ${value}`]);
}

const signed = signWebhook({ scheme: "standard", secret, id: "msg_1", timestamp, body });

describe("help", () => {
  it("prints the program help with every command, exit status and HERALD_SECRET", async () => {
    const run = await cli(["--help"]);
    expect(run.code).toBe(0);
    for (const word of ["sign", "verify", "secret", "HERALD_SECRET", "Exit status"]) {
      expect(run.stdout).toContain(word);
    }
  });

  it.each([["sign"], ["verify"], ["secret", "generate"]])("prints help for %s", async (...cmd) => {
    const run = await cli([...cmd, "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Usage: herald ${cmd.join(" ")}`);
    expect(run.stdout).toContain("Examples:");
  });

  it("lists the registry's scheme names in the --scheme help", async () => {
    const run = await cli(["sign", "--help"]);
    for (const name of schemeNames) expect(run.stdout).toContain(name);
  });

  it("prints the version", async () => {
    const run = await cli(["--version"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^\d+\.\d+\.\d+/);
  });

  it("leaves an argument after the command that begins with -v or -h to the command", async () => {
    // Generated secrets are base64url, so one may begin with "-v": it is the secret, not the
    // program's --version (nor -h its --help).
    for (const dashed of ["-vK3pQ9zX", "-hK3pQ9zX"]) {
      const run = await cli(["sign", "--scheme", "eventing", "--secret", dashed]);
      expect(run.code, run.stderr).toBe(0);
      expect(run.stdout).toBe(
        formatHeaderLines(signWebhook({ scheme: "eventing", secret: dashed, timestamp, body })),
      );
    }
  });

  it("shows help for a command group without a subcommand as a usage error", async () => {
    const run = await cli(["secret"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("generate");
  });
});

describe("usage errors", () => {
  it.each([
    [["frobnicate"], "cli.unknown_command"],
    [["sign", "--scheme", "standard", "--nope"], "cli.unknown_option"],
    [["sign", "--secret", secret], "cli.missing_argument"],
    [["sign", "--scheme", "nope", "--secret", secret], "cli.invalid_argument"],
    [["sign", "--scheme", "standard"], "cli.missing_argument"],
    [["sign", "--scheme", "standard", "--secret", " "], "cli.invalid_argument"],
    [
      ["sign", "--scheme", "standard", "--secret", secret, "--timestamp", "soon"],
      "cli.invalid_argument",
    ],
    [
      ["sign", "--scheme", "standard", "--secret", secret, "--format", "xml"],
      "cli.invalid_argument",
    ],
    [
      ["sign", "--scheme", "standard", "--secret", secret, "--id", "a\nb: c"],
      "cli.invalid_argument",
    ],
    [
      ["sign", "--scheme", "standard", "--secret", secret, "--url", "not a url"],
      "cli.invalid_argument",
    ],
    [["sign", "--scheme", "standard", "--secret", "whsec_!!!"], "secret.invalid"],
    [
      ["verify", "--scheme", "standard", "--secret", secret, "--tolerance", "-1"],
      "cli.invalid_argument",
    ],
    [
      ["verify", "--scheme", "standard", "--secret", secret, "--tolerance", "x"],
      "cli.invalid_argument",
    ],
    [
      ["verify", "--scheme", "standard", "--secret", secret, "--now", "yesterday"],
      "cli.invalid_argument",
    ],
    [
      ["verify", "--scheme", "standard", "--secret", secret, "--header", "no colon"],
      "cli.invalid_argument",
    ],
    [["verify", "--scheme", "standard"], "cli.missing_argument"],
    [["secret", "generate", "--scheme", "nope"], "cli.invalid_argument"],
    [["sign", "--scheme", "standard", "--secret", secret, "extra"], "cli.invalid_argument"],
  ])("%j exits 2 with %s", async (args, code) => {
    const run = await cli(args);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`error: ${code}: `);
    expect(run.stderr).toContain("--help");
    expect(run.stdout).toBe("");
  });

  it("names the known schemes when the scheme is unknown", async () => {
    const run = await cli(["verify", "--scheme", "nope", "--secret", secret]);
    expect(run.stderr).toContain(schemeNames.join(", "));
  });

  it("never prints the secret in an error", async () => {
    const bad = "whsec_!!!not-base64!!!";
    for (const cmd of [["sign"], ["verify", ...headerArgs(signed)]]) {
      const run = await cli([...cmd, "--scheme", "standard", "--secret", bad]);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain("secret.invalid");
      expect(run.stderr + run.stdout).not.toContain(bad);
    }
  });

  it("maps commander codes to stable cli codes", () => {
    expect(usageCode("commander.unknownOption")).toBe("cli.unknown_option");
    expect(usageCode("commander.somethingNew")).toBe("cli.usage");
    expect(usageCode("secret.invalid")).toBe("secret.invalid");
  });
});

describe("sign", () => {
  const base = ["sign", "--scheme", "standard", "--secret", secret, "--id", "msg_1"];

  it("prints Name: value lines matching signWebhook over the same bytes", async () => {
    const run = await cli(base);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(formatHeaderLines(signed));
    expect(run.stderr).toBe("");
  });

  it("prints JSON and curl arguments", async () => {
    const json = await cli([...base, "--format", "json"]);
    expect(JSON.parse(json.stdout)).toEqual(signed);
    const curl = await cli([...base, "--format", "curl"]);
    expect(curl.stdout).toBe(
      `${Object.entries(signed)
        .map(([n, v]) => `-H '${n}: ${v}'`)
        .join(" ")}\n`,
    );
  });

  it("quotes single quotes in curl arguments", () => {
    expect(formatSignedHeaders({ "x-id": "it's" }, "curl")).toBe(`-H 'x-id: it'\\''s'\n`);
  });

  it("refuses to print a header value that spans lines", () => {
    expect(() => formatSignedHeaders({ "x-id": "a\r\nb: c" }, "headers")).toThrow(/several lines/);
  });

  it("uses --timestamp, else the clock", async () => {
    const at = await cli([...base, "--timestamp", "1700000000"]);
    expect(at.stdout).toContain("webhook-timestamp: 1700000000\n");
    const now = await cli(base);
    expect(now.stdout).toContain(`webhook-timestamp: ${timestamp}\n`);
  });

  it("generates a msg_ id only for schemes that need one", async () => {
    const run = await cli(["sign", "--scheme", "standard", "--secret", secret]);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^webhook-id: msg_[0-9A-HJKMNP-TV-Z]{26}$/m);
    if ((schemeNames as readonly string[]).includes("github")) {
      const github = await cli(["sign", "--scheme", "github", "--secret", "s3cret"]);
      expect(github.code).toBe(0);
      expect(github.stdout).not.toContain("msg_");
    }
  });

  it("signs with every secret during a rotation", async () => {
    const run = await cli([...base, "--secret", otherSecret, "--format", "json"]);
    const signature = (JSON.parse(run.stdout) as Record<string, string>)["webhook-signature"];
    expect(signature?.split(" ")).toHaveLength(2);
  });

  it("reads the secrets from HERALD_SECRET, one per line", async () => {
    const run = await cli(["sign", "--scheme", "standard", "--id", "msg_1", "--format", "json"], {
      env: { HERALD_SECRET: `${secret}\n${otherSecret}\n` },
    });
    expect(run.code).toBe(0);
    const signature = (JSON.parse(run.stdout) as Record<string, string>)["webhook-signature"];
    expect(signature?.split(" ")[0]).toBe(signed["webhook-signature"]);
    expect(signature?.split(" ")).toHaveLength(2);
  });

  it("reads stdin from a stream and from a string", async () => {
    const streamed = await cli(base, {
      stdin: Readable.from([body.subarray(0, 5), body.subarray(5)]),
    });
    expect(streamed.stdout).toBe(formatHeaderLines(signed));
    const text = await cli(base, { stdin: body.toString("utf8") });
    expect(text.stdout).toBe(formatHeaderLines(signed));
  });

  it.runIf((schemeNames as readonly string[]).includes("twilio"))(
    "asks for --url when the scheme signs it",
    async () => {
      const run = await cli(["sign", "--scheme", "twilio", "--secret", "token123"]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/error: url\.missing: .*--url/);
    },
  );
});

describe("verify", () => {
  const base = ["verify", "--scheme", "standard", "--secret", secret];

  it("prints valid with the id and timestamp", async () => {
    const run = await cli([...base, ...headerArgs(signed)]);
    expect(run).toEqual({
      code: 0,
      stdout: `valid\nid: msg_1\ntimestamp: ${timestamp} (2024-05-01T12:00:00.000Z)\n`,
      stderr: "",
    });
  });

  it("prints JSON with --json", async () => {
    const ok = await cli([...base, "--json", ...headerArgs(signed)]);
    expect(JSON.parse(ok.stdout)).toEqual({
      valid: true,
      scheme: "standard",
      id: "msg_1",
      timestamp,
    });
    const bad = await cli([...base, "--json", ...headerArgs(signed)], { stdin: "{}" });
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ valid: false, code: "signature.invalid" });
  });

  it("exits 1 with the code for a tampered body or a wrong secret", async () => {
    const tampered = await cli([...base, ...headerArgs(signed)], {
      stdin: Buffer.concat([body, Buffer.from(" ")]),
    });
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toMatch(/^signature\.invalid: /);
    const wrong = await cli([
      "verify",
      "--scheme",
      "standard",
      "--secret",
      otherSecret,
      ...headerArgs(signed),
    ]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^signature\.invalid: /);
    expect(wrong.stdout).toBe("");
  });

  it("accepts any of several secrets", async () => {
    const run = await cli([
      "verify",
      "--scheme",
      "standard",
      "--secret",
      otherSecret,
      "--secret",
      secret,
      ...headerArgs(signed),
    ]);
    expect(run.code).toBe(0);
  });

  it("applies --now (Unix seconds or ISO) and --tolerance", async () => {
    const later = String(timestamp + 301);
    const stale = await cli([...base, "--now", later, ...headerArgs(signed)]);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/^timestamp\.stale: /);
    const early = await cli([...base, "--now", "2024-05-01T11:50:00Z", ...headerArgs(signed)]);
    expect(early.stderr).toMatch(/^timestamp\.future: /);
    const wide = await cli([...base, "--now", later, "--tolerance", "600", ...headerArgs(signed)]);
    expect(wide.code).toBe(0);
  });

  it("reads headers from curl -D output, using the last response", async () => {
    const file = join(dir, "curl-headers.txt");
    const lines = Object.entries(signed).map(([n, v]) => `${n}: ${v}`);
    writeFileSync(
      file,
      `HTTP/1.1 301 Moved\r\nLocation: /x\r\nwebhook-id: msg_wrong\r\n\r\nHTTP/2 200\r\n${lines.join("\r\n")}\r\n\r\n`,
    );
    const run = await cli([...base, "--headers-file", file]);
    expect(run.stdout).toMatch(/^valid\nid: msg_1\n/);
  });

  it("refuses an unreadable or malformed headers file", async () => {
    const missing = await cli([...base, "--headers-file", join(dir, "none.txt")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("cli.invalid_argument: Cannot read --headers-file");
    const file = join(dir, "bad.txt");
    writeFileSync(file, "webhook-id: msg_1\nnot a header\n");
    const bad = await cli([...base, "--headers-file", file]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("bad.txt:2 is not a 'Name: value' header line");
  });

  it("exits 1 with signature.missing when no headers are given", async () => {
    const run = await cli(base);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^signature\.missing: /);
  });

  it("uses HERALD_SECRET", async () => {
    const run = await cli(["verify", "--scheme", "standard", ...headerArgs(signed)], {
      env: { HERALD_SECRET: secret },
    });
    expect(run.code).toBe(0);
  });

  it.runIf((schemeNames as readonly string[]).includes("twilio"))(
    "asks for --url when the scheme needs it",
    async () => {
      const run = await cli([
        "verify",
        "--scheme",
        "twilio",
        "--secret",
        "token123",
        "--header",
        "X-Twilio-Signature: abc=",
      ]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/error: url\.missing: .*--url/);
    },
  );
});

describe("secret generate", () => {
  it("prints a whsec_ secret of 32 random bytes by default", async () => {
    const run = await cli(["secret", "generate"]);
    expect(run.code).toBe(0);
    const match = /^whsec_([A-Za-z0-9+/=]+)\n$/.exec(run.stdout);
    expect(Buffer.from(match?.[1] ?? "", "base64")).toHaveLength(32);
  });

  it("prints JSON", async () => {
    const run = await cli(["secret", "generate", "--json"]);
    expect(JSON.parse(run.stdout)).toMatchObject({
      scheme: "standard",
      secret: expect.stringMatching(/^whsec_/),
    });
  });

  it("prints an Ed25519 pair on labelled lines or as JSON", async () => {
    const text = await cli(["secret", "generate", "--ed25519"]);
    expect(text.stdout).toMatch(/^secret: whsk_\S+\npublic key: whpk_\S+\n$/);
    const json = await cli(["secret", "generate", "--ed25519", "--json"]);
    expect(JSON.parse(json.stdout)).toMatchObject({
      secret: expect.stringMatching(/^whsk_/),
      public_key: expect.stringMatching(/^whpk_/),
    });
  });

  it("refuses --ed25519 for other schemes", async () => {
    const other = schemeNames.find((name) => name !== "standard");
    if (other === undefined) return;
    const run = await cli(["secret", "generate", "--scheme", other, "--ed25519"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("error: cli.invalid_argument: --ed25519");
  });

  it.each(schemeNames)("generates a secret that signs and verifies for %s", async (scheme) => {
    const generated = (await cli(["secret", "generate", "--scheme", scheme])).stdout.trim();
    const url = ["--url", "https://example.com/hook?a=1"];
    const sign = await cli([
      "sign",
      "--scheme",
      scheme,
      "--secret",
      generated,
      ...url,
      "--format",
      "json",
    ]);
    expect(sign.code, sign.stderr).toBe(0);
    const headers = JSON.parse(sign.stdout) as Record<string, string>;
    const verify = await cli([
      "verify",
      "--scheme",
      scheme,
      "--secret",
      generated,
      ...url,
      ...headerArgs(headers),
    ]);
    expect(verify.code, verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/^valid\n/);
  });
});

describe("helpers", () => {
  it("parses header lines and keeps repeated headers", () => {
    expect(parseHeaderLine("X-A:  b c ")).toEqual(["X-A", "b c"]);
    expect(parseHeaderLine(": b")).toBeUndefined();
    expect(parseHeaderLine("bad name: b")).toBeUndefined();
    expect(
      toHeaderRecord([
        ["A", "1"],
        ["a", "2"],
        ["a", "3"],
        ["B", "x"],
      ]),
    ).toEqual({
      a: ["1", "2", "3"],
      b: "x",
    });
    expect(parseHeaderFile("\nA: 1\n\n", "f")).toEqual([["A", "1"]]);
  });

  it("redacts secrets from messages", () => {
    expect(redactSecrets(`bad ${secret}!`, [secret])).toBe("bad [secret]!");
  });

  it("reads a whole stream as bytes and builds a process io by default", async () => {
    expect(await readAll(Readable.from(["a", Buffer.from([0xff])]))).toEqual(
      Buffer.from([0x61, 0xff]),
    );
    const io = createIo();
    expect(io.stdout).toBe(process.stdout);
    expect(io.env).toBe(process.env);
    expect(io.exitCode).toBe(0);
  });

  it("main() runs the arguments after the program name", async () => {
    const writes: string[] = [];
    const original = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => {
      writes.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      expect(await main(["node", "herald", "--version"])).toBe(0);
    } finally {
      process.stdout.write = original;
    }
    expect(writes.join("")).toMatch(/^\d+\.\d+\.\d+/);
  });
});

describe("documented examples", () => {
  // The Standard Webhooks test vector, used by docs/cli.md and the --help examples.
  const env = { HERALD_SECRET: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" };
  const stdin = '{"test": 2432232314}';
  const id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
  const docs = readFileSync(new URL("../../docs/cli.md", import.meta.url), "utf8");

  function expectShown(output: string, help: string): void {
    for (const line of output.trimEnd().split("\n")) {
      expect(help).toContain(`  ${line}\n`);
      expect(docs).toContain(`\n${line}\n`);
    }
  }

  it("shows what sign prints", async () => {
    // #region docs-sign-example
    const run = await cli(
      ["sign", "--scheme", "standard", "--id", id, "--timestamp", "1614265330"],
      {
        stdin,
        env,
      },
    );
    // #endregion docs-sign-example
    expect(run.code).toBe(0);
    expectShown(run.stdout, (await cli(["sign", "--help"])).stdout);
  });

  it("shows what verify prints", async () => {
    const signature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
    // #region docs-verify-example
    const run = await cli(
      [
        "verify",
        "--scheme",
        "standard",
        "--header",
        `webhook-id: ${id}`,
        "--header",
        "webhook-timestamp: 1614265330",
        "--header",
        `webhook-signature: ${signature}`,
        "--now",
        "1614265330",
      ],
      { stdin, env },
    );
    // #endregion docs-verify-example
    expect(run.code).toBe(0);
    expectShown(run.stdout, (await cli(["verify", "--help"])).stdout);
  });
});
