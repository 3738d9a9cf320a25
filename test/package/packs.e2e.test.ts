// Every package as a user gets it: `npm pack` of the workspace, each tarball installed into an
// empty project (with the Herald packages it depends on, which the registry would supply once
// published), and the example of its README run there. PostgreSQL, Redis and NATS are the
// real services; a suite may skip only when its service is unreachable, with a loud notice, and
// under CI=true the missing service fails the run instead (serviceAvailable).
import { type ChildProcess, execFile, spawn } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { promisify } from "node:util";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort } from "../helpers/freePort.js";
import { type MotoServer, motoAvailable, startMoto } from "../helpers/motoServer.js";
import { serviceAvailable, serviceUrl } from "../helpers/services.js";
import { repoRoot } from "../helpers/spawnNode.js";

const run = promisify(execFile);
const work = mkdtempSync(join(tmpdir(), "herald-packs-"));
const tarballs = new Map<string, string>();
const installTimeout = 300_000;

interface Manifest {
  name: string;
  dependencies?: Record<string, string>;
}
const manifest = (name: string) =>
  JSON.parse(readFileSync(join(repoRoot, "packages", name, "package.json"), "utf8")) as Manifest;

/** `name` and every Herald package below it, as folder names. */
function withHeraldDependencies(name: string): string[] {
  const below = Object.keys(manifest(name).dependencies ?? {})
    .filter((dep) => dep.startsWith("@heraldjs/"))
    .map((dep) => dep.slice("@heraldjs/".length));
  return [...new Set([name, ...below.flatMap(withHeraldDependencies)])];
}

/** The first code block of the README's "## Example" section. */
function readmeExample(name: string): { lang: string; code: string } {
  const readme = readFileSync(join(repoRoot, "packages", name, "README.md"), "utf8");
  const section = readme.split(/^## Example$/m)[1] ?? "";
  const match = /^```(\w+)\n([\s\S]*?)^```$/m.exec(section);
  if (match === null) throw new Error(`packages/${name}/README.md has no example block`);
  return { lang: match[1] as string, code: match[2] as string };
}

/** A project whose `npm install` built better-sqlite3 (the @heraldjs/sqlite test's). */
let builtSqlite: string | undefined;
const SQLITE_ADDON = "node_modules/better-sqlite3/build/Release/better_sqlite3.node";

/**
 * An empty project with the packed `name` installed the way `npm install` does it. Building
 * better-sqlite3 takes about a minute, so once one install has built it (`@heraldjs/sqlite`'s,
 * which checks exactly that), `reuseSqliteBuild` installs without running install scripts —
 * better-sqlite3's is the only one in Herald's dependencies — and copies that build's addon in.
 */
async function install(
  name: string,
  options: { reuseSqliteBuild?: boolean } = {},
): Promise<string> {
  const dir = mkdtempSync(join(work, `${name}-`));
  writeFileSync(
    join(dir, "package.json"),
    JSON.stringify({ name: `try-${name}`, private: true, type: "module" }),
  );
  const files = withHeraldDependencies(name).map((pkg) => tarballs.get(pkg) as string);
  const reuse = options.reuseSqliteBuild === true ? builtSqlite : undefined;
  await run(
    "npm",
    [
      "install",
      "--no-audit",
      "--no-fund",
      "--prefer-offline",
      ...(reuse === undefined ? [] : ["--ignore-scripts"]),
      ...files,
    ],
    { cwd: dir, timeout: installTimeout },
  );
  if (reuse !== undefined) {
    mkdirSync(dirname(join(dir, SQLITE_ADDON)), { recursive: true });
    copyFileSync(join(reuse, SQLITE_ADDON), join(dir, SQLITE_ADDON));
  }
  return dir;
}

/** Folder names of the packages installed in `dir`'s node_modules (`@scope/name` for scoped). */
function installed(dir: string): string[] {
  const top = join(dir, "node_modules");
  return readdirSync(top)
    .filter((entry) => !entry.startsWith("."))
    .flatMap((entry) =>
      entry.startsWith("@")
        ? readdirSync(join(top, entry)).map((inner) => `${entry}/${inner}`)
        : [entry],
    )
    .sort();
}

async function runExample(dir: string, name: string, env: NodeJS.ProcessEnv = {}) {
  const { code } = readmeExample(name);
  writeFileSync(join(dir, "example.mjs"), code);
  const { stdout } = await run(process.execPath, ["example.mjs"], {
    cwd: dir,
    env: { ...process.env, ...env },
    timeout: 30_000,
  });
  return stdout;
}

beforeAll(async () => {
  const { stdout } = await run(
    "npm",
    ["pack", "--workspaces", "--pack-destination", work, "--json"],
    { cwd: repoRoot, timeout: 120_000 },
  );
  for (const packed of JSON.parse(stdout) as Array<{ name: string; filename: string }>) {
    tarballs.set(packed.name.replace("@heraldjs/", ""), join(work, packed.filename));
  }
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("packed packages", () => {
  it("packs every package of the workspace, each with its dist/, README and package.json only", async () => {
    expect([...tarballs.keys()].sort()).toEqual(readdirSync(join(repoRoot, "packages")).sort());
    const { stdout } = await run("tar", ["-tzf", tarballs.get("webhooks") as string]);
    const top = new Set(
      stdout
        .trim()
        .split("\n")
        .map((path) => path.split("/")[1]),
    );
    expect([...top].sort()).toEqual(["README.md", "dist", "package.json"]);
  });

  it(
    "@heraldjs/webhooks installs alone, with no native build, and its verify example runs",
    async () => {
      const dir = await install("webhooks");
      const { stdout: tree } = await run("npm", ["ls", "--all", "--parseable"], { cwd: dir });
      expect(tree.trim().split("\n")).toEqual([dir, join(dir, "node_modules/@heraldjs/webhooks")]);
      expect(installed(dir)).toEqual(["@heraldjs/webhooks"]);
      // No native build: nothing installed has an install script or a compiled addon.
      const installedManifest = JSON.parse(
        readFileSync(join(dir, "node_modules/@heraldjs/webhooks/package.json"), "utf8"),
      ) as { scripts?: unknown; dependencies?: unknown; gypfile?: unknown };
      expect(installedManifest.scripts).toBeUndefined();
      expect(installedManifest.dependencies).toBeUndefined();
      expect(installedManifest.gypfile).toBeUndefined();
      expect(existsSync(join(dir, "node_modules/@heraldjs/webhooks/build"))).toBe(false);
      expect(await runExample(dir, "webhooks")).toBe("true true true evt_1\n");

      // Its types stand alone: a strict NodeNext consumer type-checks, declaration files too.
      writeFileSync(
        join(dir, "consumer.ts"),
        `import { createReceiver, type VerifyResult, verifyWebhook } from "@heraldjs/webhooks";
const result: VerifyResult = verifyWebhook({ scheme: "github", secrets: ["s"], headers: {}, body: "{}" });
if (!result.ok) console.log(result.code);
createReceiver({ scheme: "stripe", secrets: ["whsec_x"], handler: async () => {} });
`,
      );
      writeFileSync(
        join(dir, "tsconfig.json"),
        JSON.stringify({
          compilerOptions: {
            module: "NodeNext",
            moduleResolution: "NodeNext",
            target: "ES2022",
            strict: true,
            noEmit: true,
            skipLibCheck: false,
            types: ["node"],
            typeRoots: [join(repoRoot, "node_modules/@types")],
          },
          files: ["consumer.ts"],
        }),
      );
      const tsc = join(repoRoot, "node_modules/typescript/bin/tsc");
      await run(process.execPath, [tsc, "-p", "tsconfig.json"], { cwd: dir });
    },
    installTimeout,
  );

  it(
    "@heraldjs/core installs no database driver or server, and its example runs",
    async () => {
      const dir = await install("core");
      expect(installed(dir)).not.toEqual(
        expect.arrayContaining([expect.stringMatching(/^(better-sqlite3|pg|ioredis|fastify)$/)]),
      );
      expect(installed(dir).filter((pkg) => pkg.startsWith("@heraldjs/"))).toEqual([
        "@heraldjs/core",
        "@heraldjs/webhooks",
      ]);
      expect(await runExample(dir, "core")).toBe("[ 'order.placed.v1' ]\n");
    },
    installTimeout,
  );

  it(
    "@heraldjs/sqlite installs better-sqlite3 and not pg, and its example runs",
    async () => {
      const dir = await install("sqlite");
      expect(installed(dir)).toContain("better-sqlite3");
      expect(existsSync(join(dir, SQLITE_ADDON))).toBe(true);
      builtSqlite = dir;
      expect(installed(dir)).not.toContain("pg");
      expect(await runExample(dir, "sqlite")).toBe("[ '1 order.placed.v1', '2 order.paid.v1' ]\n");
      expect(existsSync(join(dir, "herald.db"))).toBe(true);
    },
    installTimeout,
  );
});

describe("packed @heraldjs/spec", () => {
  it(
    "installs zod and yaml and no driver or server, and its example runs",
    async () => {
      const dir = await install("spec");
      expect(installed(dir)).toEqual(expect.arrayContaining(["yaml", "zod"]));
      expect(installed(dir)).not.toEqual(
        expect.arrayContaining([expect.stringMatching(/^(better-sqlite3|pg|ioredis|fastify)$/)]),
      );
      expect(await runExample(dir, "spec")).toBe("[ 'order.placed' ]\n8\n");
    },
    installTimeout,
  );
});

describe("packed listener transports", () => {
  it(
    "@heraldjs/websocket installs ws and no database driver, and its example delivers over a socket",
    async () => {
      const dir = await install("websocket");
      expect(installed(dir)).toContain("ws");
      expect(installed(dir)).not.toEqual(
        expect.arrayContaining([expect.stringMatching(/^(better-sqlite3|pg|ioredis|fastify)$/)]),
      );
      const out = await runExample(dir, "websocket");
      expect(out).toBe("received order.created.v1 { id: 'o_1' }\n[ 'delivered' ]\n");
    },
    installTimeout,
  );

  it(
    "@heraldjs/grpc installs grpc-js with the published listener.proto, and its example delivers",
    async () => {
      const dir = await install("grpc");
      expect(installed(dir)).toContain("@grpc/grpc-js");
      expect(
        existsSync(join(dir, "node_modules/@heraldjs/grpc/proto/herald/v1/listener.proto")),
      ).toBe(true);
      const out = await runExample(dir, "grpc");
      expect(out).toContain("order.placed.v1 { total: 42 }\n");
    },
    installTimeout,
  );
});

// The examples below talk to the real services. Each describe skips only when its service is
// unreachable (a loud notice); under CI=true serviceAvailable throws, failing the run.
const [postgres, redis, nats, rabbitmq] = await Promise.all([
  serviceAvailable("postgres"),
  serviceAvailable("redis"),
  serviceAvailable("nats"),
  serviceAvailable("rabbitmq"),
]);

// Skipped only when RabbitMQ is unreachable, with a loud notice; under CI=true it fails instead.
describe.skipIf(!rabbitmq)("packed @heraldjs/rabbitmq", () => {
  it(
    "installs amqplib and no database driver, and its example publishes a signed message",
    async () => {
      const dir = await install("rabbitmq");
      expect(installed(dir)).toContain("amqplib");
      expect(installed(dir)).not.toEqual(
        expect.arrayContaining([expect.stringMatching(/^(better-sqlite3|pg|ioredis)$/)]),
      );
      const out = await runExample(dir, "rabbitmq", { RABBITMQ_URL: serviceUrl("rabbitmq") });
      expect(out).toBe(`[ 'delivered' ]\ntrue {"id":"o_1"}\n`);
    },
    installTimeout,
  );
});

// Skips only when moto_server is not installed; under CI=true motoAvailable throws instead.
describe.skipIf(!motoAvailable("the packed @heraldjs/aws example"))("packed @heraldjs/aws", () => {
  let moto: MotoServer | undefined;
  afterAll(async () => {
    await moto?.stop();
  });

  it(
    "installs the three AWS SDK clients and no database driver, and its example runs on moto",
    async () => {
      const [dir, started] = await Promise.all([install("aws"), startMoto()]);
      moto = started;
      for (const client of ["client-dynamodb", "client-eventbridge", "client-sqs"]) {
        expect(installed(dir)).toContain(`@aws-sdk/${client}`);
      }
      expect(installed(dir)).not.toEqual(
        expect.arrayContaining([expect.stringMatching(/^(better-sqlite3|pg|ioredis|amqplib)$/)]),
      );
      const out = await runExample(dir, "aws", {
        AWS_ENDPOINT_URL: moto.endpoint,
        AWS_REGION: moto.aws.region,
        AWS_ACCESS_KEY_ID: moto.aws.credentials.accessKeyId,
        AWS_SECRET_ACCESS_KEY: moto.aws.credentials.secretAccessKey,
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
      });
      expect(out).toBe(
        "[ '1 order.placed.v1', '2 order.paid.v1' ] 2\n1 handled\n2 skipped: done\n",
      );
    },
    installTimeout,
  );
});

// Skipped only when PostgreSQL is unreachable, with a loud notice; under CI=true it fails instead.
describe.skipIf(!postgres)("packed @heraldjs/postgres", () => {
  const schema = `packs_${process.pid}`;
  afterAll(async () => {
    const client = new pg.Client({ connectionString: serviceUrl("postgres") });
    await client.connect();
    await client.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
    await client.end();
  });

  it(
    "installs pg and not better-sqlite3, and its example runs",
    async () => {
      const dir = await install("postgres");
      expect(installed(dir)).toContain("pg");
      expect(installed(dir)).not.toContain("better-sqlite3");
      const out = await runExample(dir, "postgres", {
        DATABASE_URL: serviceUrl("postgres"),
        HERALD_SCHEMA: schema,
      });
      expect(out).toBe("[ '1 order.placed.v1' ]\n");
    },
    installTimeout,
  );
});

// Skipped only when Redis is unreachable, with a loud notice; under CI=true it fails instead.
describe.skipIf(!redis)("packed @heraldjs/redis", () => {
  it(
    "installs ioredis and no database driver, and its example runs",
    async () => {
      const dir = await install("redis");
      expect(installed(dir)).toContain("ioredis");
      expect(installed(dir)).not.toEqual(
        expect.arrayContaining([expect.stringMatching(/^(better-sqlite3|pg)$/)]),
      );
      const out = await runExample(dir, "redis", { REDIS_URL: serviceUrl("redis") });
      expect(out).toBe("true false processing\ndone\n");
    },
    installTimeout,
  );
});

// Skipped only when NATS is unreachable, with a loud notice; under CI=true it fails instead.
describe.skipIf(!nats)("packed @heraldjs/nats", () => {
  const stream = `PACKS_${process.pid}`;
  afterAll(async () => {
    const connection = await connect({ servers: serviceUrl("nats") });
    await (await jetstreamManager(connection)).streams.delete(stream).catch(() => false);
    await connection.close();
  });

  it(
    "installs the NATS client and no database driver, and its example publishes to JetStream",
    async () => {
      const dir = await install("nats");
      expect(installed(dir)).toContain("@nats-io/jetstream");
      expect(installed(dir)).not.toEqual(
        expect.arrayContaining([expect.stringMatching(/^(better-sqlite3|pg|ioredis)$/)]),
      );
      const out = await runExample(dir, "nats", {
        NATS_URL: serviceUrl("nats"),
        NATS_STREAM: stream,
        NATS_PREFIX: `packs${process.pid}`,
      });
      expect(out).toMatch(/^\{ published: 1, duplicates: 0, checkpoint: '.+' \}\n$/);
    },
    installTimeout,
  );
});

describe("packed @heraldjs/server", () => {
  let serve: ChildProcess | undefined;
  afterAll(() => {
    serve?.kill("SIGKILL");
  });

  it(
    "installs the `herald` command, which serves on SQLite as its README shows",
    async () => {
      const dir = await install("server", { reuseSqliteBuild: true });
      expect(readmeExample("server").code).toContain("npx herald serve");
      const bin = join(dir, "node_modules/.bin/herald");
      const { stdout: version } = await run(bin, ["--version"], { cwd: dir });
      const { version: rootVersion } = JSON.parse(
        readFileSync(join(repoRoot, "package.json"), "utf8"),
      ) as { version: string };
      expect(version.trim()).toBe(rootVersion);
      const { stdout: secret } = await run(bin, ["secret", "generate"], { cwd: dir });
      expect(secret).toMatch(/^whsec_/);

      const port = await freePort();
      serve = spawn(bin, ["serve"], {
        cwd: dir,
        env: { ...process.env, HERALD_PORT: String(port) },
        stdio: "ignore",
      });
      let ready: Response | undefined;
      for (let i = 0; i < 100 && ready?.status !== 200; i++) {
        ready = await fetch(`http://127.0.0.1:${port}/ready`).catch(() => undefined);
        if (ready?.status !== 200) await new Promise((r) => setTimeout(r, 100));
      }
      expect(ready?.status).toBe(200);
      expect(await ready?.json()).toMatchObject({
        status: "ready",
        checks: { database: { status: "ok" } },
      });
      expect(existsSync(join(dir, "herald.db"))).toBe(true);
      const exited = new Promise((resolve) => serve?.once("exit", resolve));
      serve.kill("SIGTERM");
      expect(await exited).toBe(0);
    },
    installTimeout,
  );
});
