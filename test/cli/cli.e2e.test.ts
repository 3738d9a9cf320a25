// The built `herald` CLI as a user runs it: a child process with the body piped to stdin, for
// every scheme in the registry, plus the documented `herald sign | curl -H @-` pipeline.
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseHeaderLine } from "../../packages/server/src/cli/headerLines.js";
import { resolveScheme, schemeNames } from "../../packages/webhooks/src/signing/registry.js";
import { signWebhook, verifyWebhook } from "../../packages/webhooks/src/signing/sign.js";
import { type ChildRun, repoRoot, runNode } from "../helpers/spawnNode.js";

const pkg = JSON.parse(readFileSync(join(repoRoot, "packages/server/package.json"), "utf8")) as {
  bin: Record<string, string>;
};
const bin = join(repoRoot, "packages/server", pkg.bin.herald ?? "dist/cli/bin.js");
const dir = mkdtempSync(join(tmpdir(), "herald-cli-e2e-"));
const url = "https://example.com/hooks/in?tenant=acme";

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `herald <args…>` with `stdin`; HERALD_SECRET only when `env` sets it, never inherited. */
function herald(
  args: readonly string[],
  stdin: Buffer | string = "",
  env: Record<string, string> = {},
): Promise<ChildRun> {
  return runNode([bin, ...args], { stdin, env: { HERALD_SECRET: undefined, ...env } });
}

/** Header lines read back the way `curl -H @file` reads them: one `Name: value` per line. */
function parseCurlHeaderFile(text: string): Record<string, string> {
  const headers: Record<string, string> = {};
  expect(text.endsWith("\n")).toBe(true);
  for (const line of text.slice(0, -1).split("\n")) {
    expect(line).toMatch(/^[A-Za-z0-9-]+: \S/);
    const header = parseHeaderLine(line);
    if (header === undefined) throw new Error(`not a header line: ${line}`);
    headers[header[0]] = header[1];
  }
  return headers;
}

function headerArgs(headers: Record<string, string>): string[] {
  return Object.entries(headers).flatMap(([name, value]) => ["--header", `${name}: ${value}`]);
}

async function generate(scheme: string): Promise<string> {
  const run = await herald(["secret", "generate", "--scheme", scheme]);
  expect(run.code, run.stderr).toBe(0);
  return run.stdout.trim();
}

const body = Buffer.from('{"id":"evt_1","type":"order.created.v1","total":42}');

describe("help", () => {
  it("prints the program help", async () => {
    const run = await herald(["--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("Usage: herald");
    expect(run.stdout).toMatch(/sign.*\n.*verify.*\n.*secret/);
  });

  it.each([["sign"], ["verify"], ["secret", "generate"]])("prints help for %s", async (...cmd) => {
    const run = await herald([...cmd, "--help"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`Usage: herald ${cmd.join(" ")}`);
    expect(run.stdout).toContain("Examples:");
    if (cmd[0] !== "secret") expect(run.stdout).toContain("HERALD_SECRET");
  });
});

describe.concurrent.each(schemeNames)("sign | verify round trip: %s", (scheme) => {
  it("verifies what it signed, and refuses a tampered body and a wrong secret", async () => {
    const secret = await generate(scheme);
    const signed = await herald(
      ["sign", "--scheme", scheme, "--secret", secret, "--url", url],
      body,
    );
    expect(signed.code, signed.stderr).toBe(0);
    const headers = parseCurlHeaderFile(signed.stdout);
    const args = ["verify", "--scheme", scheme, "--url", url, ...headerArgs(headers)];

    const valid = await herald([...args, "--secret", secret], body);
    expect(valid.code, valid.stderr).toBe(0);
    expect(valid.stdout).toMatch(/^valid\n/);

    const tampered = await herald(
      [...args, "--secret", secret],
      body.toString().replace("42", "43"),
    );
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toMatch(/^signature\.invalid: /);

    const wrong = await herald([...args, "--secret", await generate(scheme)], body);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/^signature\.invalid: /);
    expect(wrong.stderr + wrong.stdout).not.toContain(secret);
  });
});

// Only schemes that sign a timestamp can refuse a stale one.
const timestampedSchemes = schemeNames.filter((name) => resolveScheme(name).timestamped);

describe.concurrent.each(timestampedSchemes)("tolerance window: %s", (scheme) => {
  it("refuses a stale timestamp (--now)", async () => {
    const secret = await generate(scheme);
    const signed = await herald(
      ["sign", "--scheme", scheme, "--secret", secret, "--url", url, "--timestamp", "1714564800"],
      body,
    );
    const headers = parseCurlHeaderFile(signed.stdout);
    const args = ["verify", "--scheme", scheme, "--secret", secret, "--url", url];
    const stale = await herald(
      [...args, ...headerArgs(headers), "--now", "2024-05-01T12:10:00Z"],
      body,
    );
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/^timestamp\.stale: /);
    const inTime = await herald([...args, ...headerArgs(headers), "--now", "1714564900"], body);
    expect(inTime.code, inTime.stderr).toBe(0);
  });
});

describe("usage errors exit 2 with a code", () => {
  const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  it.each([
    [["sign", "--scheme", "nope", "--secret", secret], "cli.invalid_argument"],
    [["sign", "--scheme", "standard"], "cli.missing_argument"],
    [
      ["verify", "--scheme", "standard", "--secret", secret, "--tolerance", "abc"],
      "cli.invalid_argument",
    ],
    [
      ["verify", "--scheme", "standard", "--secret", secret, "--now", "someday"],
      "cli.invalid_argument",
    ],
    [
      ["verify", "--scheme", "standard", "--secret", secret, "--header", "nonsense"],
      "cli.invalid_argument",
    ],
    [["verify", "--scheme", "standard", "--secret", secret, "--bogus"], "cli.unknown_option"],
    [["sign"], "cli.missing_argument"],
  ])("%j", async (args, code) => {
    const run = await herald(args, body);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(`error: ${code}: `);
  });
});

describe("raw bytes", () => {
  // Invalid UTF-8, a BOM, CRLF, tabs, trailing spaces, NBSP and astral characters: any
  // decoding or re-encoding on the way would change the signature.
  const odd = Buffer.concat([
    Buffer.from([0xef, 0xbb, 0xbf]),
    Buffer.from('{ "name" :\t"Zoë 🚀\u00a0",\r\n  "note": "  trailing  "  }  \r\n\n'),
    Buffer.from([0xff, 0xfe, 0x00, 0x80]),
  ]);
  const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const fixed = ["--id", "msg_odd", "--timestamp", "1714564800"];

  it("signs exactly the bytes on stdin and verifies them", async () => {
    const run = await herald(["sign", "--scheme", "standard", "--secret", secret, ...fixed], odd);
    expect(run.code, run.stderr).toBe(0);
    const expected = signWebhook({
      scheme: "standard",
      secret,
      id: "msg_odd",
      timestamp: 1714564800,
      body: odd,
    });
    expect(parseCurlHeaderFile(run.stdout)).toEqual(expected);
    const verify = await herald(
      [
        "verify",
        "--scheme",
        "standard",
        "--secret",
        secret,
        "--now",
        "1714564800",
        ...headerArgs(expected),
      ],
      odd,
    );
    expect(verify.code, verify.stderr).toBe(0);
  });
});

describe("headers output as curl input", () => {
  it("round-trips through a headers file", async () => {
    const secret = await generate("standard");
    const signed = await herald(["sign", "--scheme", "standard", "--secret", secret], body);
    const file = join(dir, "headers.txt");
    writeFileSync(file, signed.stdout);
    expect(Object.keys(parseCurlHeaderFile(signed.stdout))).toEqual([
      "webhook-id",
      "webhook-timestamp",
      "webhook-signature",
    ]);
    const run = await herald(
      ["verify", "--scheme", "standard", "--secret", secret, "--headers-file", file],
      body,
    );
    expect(run.code, run.stderr).toBe(0);
  });

  let curl = true;
  try {
    execFileSync("curl", ["--version"], { stdio: "ignore" });
  } catch {
    curl = false;
  }

  it.runIf(curl)("works in `herald sign | curl -H @- --data-binary @body.json`", async () => {
    const received: { headers: IncomingHttpHeaders; body: Buffer }[] = [];
    const server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on("data", (chunk: Buffer) => chunks.push(chunk));
      request.on("end", () => {
        received.push({ headers: request.headers, body: Buffer.concat(chunks) });
        response.end("ok");
      });
    });
    await new Promise<void>((ready) => server.listen(0, "127.0.0.1", ready));
    const { port } = server.address() as AddressInfo;
    const bodyFile = join(dir, "body.json");
    writeFileSync(bodyFile, body);
    const secret = await generate("standard");
    try {
      // #region curl-pipeline
      const script = `node "${bin}" sign --scheme standard < "${bodyFile}" | curl -sS -H @- -H 'Content-Type: application/json' --data-binary @"${bodyFile}" http://127.0.0.1:${port}/hook`;
      // #endregion curl-pipeline
      await new Promise<void>((done, fail) => {
        const child = spawn("sh", ["-c", script], {
          env: { ...process.env, HERALD_SECRET: secret },
        });
        child.on("error", fail);
        child.on("close", (code) => (code === 0 ? done() : fail(new Error(`exit ${code}`))));
      });
    } finally {
      server.close();
    }
    expect(received).toHaveLength(1);
    const request = received[0];
    if (request === undefined) return;
    expect(request.body.equals(body)).toBe(true);
    expect(
      verifyWebhook({
        scheme: "standard",
        secrets: [secret],
        headers: request.headers,
        body: request.body,
      }),
    ).toMatchObject({ ok: true, id: expect.stringMatching(/^msg_/) });
  });
});

describe("secret generate", () => {
  it("prints a whsec_ secret of 32 base64 bytes", async () => {
    const run = await herald(["secret", "generate"]);
    expect(run.code).toBe(0);
    const match = /^whsec_([A-Za-z0-9+/]+={0,2})\n$/.exec(run.stdout);
    expect(match).not.toBeNull();
    expect(Buffer.from(match?.[1] ?? "", "base64")).toHaveLength(32);
  });

  it("prints a whsk_/whpk_ pair that signs and verifies v1a", async () => {
    const pair = await herald(["secret", "generate", "--ed25519"]);
    const secret = /^secret: (whsk_\S+)$/m.exec(pair.stdout)?.[1] ?? "";
    const publicKey = /^public key: (whpk_\S+)$/m.exec(pair.stdout)?.[1] ?? "";
    expect(secret).not.toBe("");
    const json = JSON.parse((await herald(["secret", "generate", "--ed25519", "--json"])).stdout);
    expect(json).toMatchObject({
      secret: expect.stringMatching(/^whsk_/),
      public_key: expect.stringMatching(/^whpk_/),
    });

    const signed = await herald(["sign", "--scheme", "standard", "--secret", secret], body);
    const headers = parseCurlHeaderFile(signed.stdout);
    expect(headers["webhook-signature"]).toMatch(/^v1a,/);
    const verify = await herald(
      ["verify", "--scheme", "standard", "--secret", publicKey, ...headerArgs(headers)],
      body,
    );
    expect(verify.code, verify.stderr).toBe(0);
    const other = JSON.parse(
      (await herald(["secret", "generate", "--ed25519", "--json"])).stdout,
    ) as { public_key: string };
    const wrong = await herald(
      ["verify", "--scheme", "standard", "--secret", other.public_key, ...headerArgs(headers)],
      body,
    );
    expect(wrong.code).toBe(1);
  });
});

describe("HERALD_SECRET", () => {
  it("supplies the secret to sign and verify", async () => {
    const secret = await generate("standard");
    const env = { HERALD_SECRET: secret };
    const signed = await herald(["sign", "--scheme", "standard", "--format", "json"], body, env);
    expect(signed.code, signed.stderr).toBe(0);
    const headers = JSON.parse(signed.stdout) as Record<string, string>;
    const verify = await herald(
      ["verify", "--scheme", "standard", "--json", ...headerArgs(headers)],
      body,
      env,
    );
    expect(verify.code, verify.stderr).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ valid: true, id: headers["webhook-id"] });
    const missing = await herald(["verify", "--scheme", "standard", ...headerArgs(headers)], body);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("HERALD_SECRET");
  });
});
