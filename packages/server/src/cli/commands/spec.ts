// `herald spec generate | openapi | import | check`: a webhooks spec as code and OpenAPI 3.1
// (byte-identical for the same spec), the spec back from a document, and the gate for CI.

import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { readPackageVersion } from "@heraldjs/core/internal/core/version.js";
import { parseYaml } from "@heraldjs/spec/internal/config/yamlSource.js";
import { renderAsyncApi } from "@heraldjs/spec/internal/spec/asyncapi.js";
import { canonicalJson } from "@heraldjs/spec/internal/spec/canonicalJson.js";
import {
  type CheckResult,
  checkAsyncApi,
  checkOpenApi,
} from "@heraldjs/spec/internal/spec/check.js";
import { generateFiles } from "@heraldjs/spec/internal/spec/generate.js";
import {
  fromAsyncApi,
  fromOpenApi,
  type ImportResult,
} from "@heraldjs/spec/internal/spec/importOpenApi.js";
import { fromThirdPartyOpenApi } from "@heraldjs/spec/internal/spec/importThirdParty.js";
import { loadSpec } from "@heraldjs/spec/internal/spec/load.js";
import { renderOpenApi, SPEC_EXTENSION } from "@heraldjs/spec/internal/spec/openapi.js";
import { signingSchema, webhookNameSchema } from "@heraldjs/spec/internal/spec/schema.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { Command } from "commander";
import { stringify } from "yaml";
import { specRecords } from "../../spec/specWire.js";
import { runAction } from "../command.js";
import type { CliIo } from "../io.js";

function readText(file: string, what: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new HeraldError("cli.invalid_argument", `${what} ${file} cannot be read`, {
      cause: error,
    });
  }
}

/** Writes `text` to `out`, or to stdout without one. */
function emit(io: CliIo, text: string, out: string | undefined): void {
  if (out === undefined) io.stdout.write(text);
  else writeFileSync(out, text);
}

const generator = () => ({ version: readPackageVersion() });

function runGenerate(flags: { spec: string; out: string }, io: CliIo): number {
  const files = generateFiles(loadSpec(flags.spec), generator());
  for (const file of files) {
    const target = join(flags.out, file.path);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, file.text);
    io.stdout.write(`${target}\n`);
  }
  return 0;
}

async function runPush(
  flags: { spec: string; url: string; apiKey?: string },
  io: CliIo,
): Promise<number> {
  const records = specRecords(loadSpec(flags.spec), io.env);
  const apiKey = flags.apiKey ?? io.env.HERALD_API_KEY;
  const base = flags.url.replace(/\/+$/, "");
  const post = async (path: string, body: unknown) => {
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (apiKey !== undefined && apiKey !== "") headers.authorization = `Bearer ${apiKey}`;
    let response: Response;
    try {
      response = await fetch(`${base}${path}`, {
        method: "POST",
        headers,
        body: JSON.stringify(body),
      });
    } catch (error) {
      throw new HeraldError("cli.invalid_argument", `--url ${base} cannot be reached`, {
        cause: error,
      });
    }
    if (response.status !== 200 && response.status !== 201) {
      const answer = await response.text();
      throw new HeraldError(
        "cli.invalid_argument",
        `POST ${path} answered ${response.status}: ${answer.slice(0, 500)}`,
      );
    }
  };
  for (const eventType of records.eventTypes) await post("/v1/event-types", eventType);
  for (const source of records.sources) await post("/v1/sources", source);
  io.stdout.write(
    `pushed ${records.sources.length} source(s) and ${records.eventTypes.length} event type(s) to ${base}\n`,
  );
  return 0;
}

function runOpenApi(flags: { spec: string; out?: string }, io: CliIo): number {
  emit(io, renderOpenApi(loadSpec(flags.spec), generator()), flags.out);
  return 0;
}

function runAsyncApi(flags: { spec: string; out?: string }, io: CliIo): number {
  emit(io, renderAsyncApi(loadSpec(flags.spec), generator()), flags.out);
  return 0;
}

interface ImportFlags {
  openapi?: string;
  asyncapi?: string;
  out?: string;
  json?: boolean;
  name?: string;
  signing?: string;
  path?: string;
}

/** A provider's document: `--name` and `--signing` say what the spec cannot read from it. */
function importThirdParty(doc: unknown, file: string, flags: ImportFlags): ImportResult {
  if (flags.name === undefined || flags.signing === undefined) {
    throw new HeraldError(
      "cli.missing_argument",
      `${file} was not written by Herald: give --name and --signing for the webhook it describes`,
    );
  }
  if (!webhookNameSchema.safeParse(flags.name).success) {
    throw new HeraldError(
      "cli.invalid_argument",
      "--name: lowercase letters, digits, - and _, starting with a letter",
    );
  }
  const signing = signingSchema.safeParse(flags.signing);
  if (!signing.success) {
    throw new HeraldError(
      "cli.invalid_argument",
      `--signing: not a scheme or short form (see docs/spec.md)`,
    );
  }
  return fromThirdPartyOpenApi(doc, {
    name: flags.name,
    signing: signing.data,
    ...(flags.path === undefined ? {} : { path: flags.path }),
  });
}

function runImport(flags: ImportFlags, io: CliIo): number {
  if ((flags.openapi === undefined) === (flags.asyncapi === undefined)) {
    throw new HeraldError(
      "cli.missing_argument",
      "give one of --openapi <file> or --asyncapi <file>",
    );
  }
  const file = (flags.openapi ?? flags.asyncapi) as string;
  const doc = parseYaml(readText(file, "the document"), file, "spec.invalid").doc.toJS();
  const herald = typeof doc === "object" && doc !== null && SPEC_EXTENSION in doc;
  let result: ImportResult;
  if (flags.asyncapi !== undefined) {
    if (!herald) {
      throw new HeraldError(
        "spec.invalid",
        `${file}: only AsyncAPI documents Herald wrote are imported`,
      );
    }
    result = fromAsyncApi(doc);
  } else {
    result = herald ? fromOpenApi(doc) : importThirdParty(doc, file, flags);
  }
  const { spec, problems } = result;
  for (const p of problems) io.stderr.write(`${file}: ${p.where}: ${p.problem}\n`);
  if (spec === null) {
    io.stderr.write(`error: spec.invalid: ${file} does not give a spec back\n`);
    return 1;
  }
  const canonical = canonicalJson(spec);
  const text =
    flags.json === true
      ? canonical
      : stringify(JSON.parse(canonical), { lineWidth: 0, aliasDuplicateObjects: false });
  emit(io, text, flags.out);
  // What could not be imported was named above; the spec holds the rest.
  return problems.length === 0 ? 0 : 1;
}

function runCheck(flags: { spec: string; openapi?: string; asyncapi?: string }, io: CliIo): number {
  if (flags.openapi === undefined && flags.asyncapi === undefined) {
    throw new HeraldError(
      "cli.missing_argument",
      "give --openapi <file>, --asyncapi <file> or both",
    );
  }
  const loaded = loadSpec(flags.spec);
  const results: Array<[string, CheckResult]> = [];
  if (flags.openapi !== undefined) {
    const text = readText(flags.openapi, "--openapi");
    results.push([flags.openapi, checkOpenApi(loaded, text, generator(), flags.openapi)]);
  }
  if (flags.asyncapi !== undefined) {
    const text = readText(flags.asyncapi, "--asyncapi");
    results.push([flags.asyncapi, checkAsyncApi(loaded, text, generator(), flags.asyncapi)]);
  }
  let status = 0;
  for (const [file, result] of results) {
    if (result.ok) {
      io.stdout.write(`${file}: matches ${flags.spec}\n`);
      continue;
    }
    status = 1;
    for (const problem of result.problems) io.stdout.write(`${problem}\n`);
    io.stdout.write(result.diff);
    const kind = file === flags.openapi ? "openapi" : "asyncapi";
    io.stdout.write(`Run: herald spec ${kind} --spec ${flags.spec} --out ${file}\n`);
  }
  return status;
}

const EXAMPLES = `
Examples:
  $ herald spec generate --spec webhooks.yaml --out src/webhooks
  $ herald spec openapi --spec webhooks.yaml --out openapi.json
  $ herald spec import --openapi openapi.json --out webhooks.yaml
  $ herald spec import --openapi acme-openapi.yaml --name acme --signing hmac-sha256
  $ herald spec asyncapi --spec webhooks.yaml --out asyncapi.json
  $ HERALD_STRIPE_SECRETS=whsec_… herald spec push --spec webhooks.yaml --url http://127.0.0.1:8080
  $ herald spec check --spec webhooks.yaml --openapi openapi.json --asyncapi asyncapi.json
`;

export function registerSpec(program: Command, io: CliIo): Command {
  const spec = program
    .command("spec")
    .summary("a webhooks spec as OpenAPI, and back")
    .description(
      "Turn a webhooks spec (its own file, or the webhooks: of herald.yaml) into OpenAPI 3.1, recover the spec from such a document, and check that a committed document matches. See docs/spec.md.",
    )
    .addHelpText("after", EXAMPLES);
  spec
    .command("generate")
    .summary("write the receivers, validators and OpenAPI document of a spec")
    .requiredOption("--spec <file>", "the spec (YAML or JSON)")
    .requiredOption("--out <dir>", "the folder to write into (created when missing)")
    .action((flags: { spec: string; out: string }, self: Command) =>
      runAction(self, io, async () => runGenerate(flags, io)),
    );
  spec
    .command("openapi")
    .summary("write the OpenAPI 3.1 document of a spec")
    .requiredOption("--spec <file>", "the spec (YAML or JSON)")
    .option("--out <file>", "write here instead of stdout")
    .action((flags: { spec: string; out?: string }, self: Command) =>
      runAction(self, io, async () => runOpenApi(flags, io)),
    );
  spec
    .command("push")
    .summary("apply a spec's sources and event types to a running Herald through /v1")
    .requiredOption("--spec <file>", "the spec (YAML or JSON)")
    .requiredOption("--url <url>", "the Herald to push to, e.g. http://127.0.0.1:8080")
    .option("--api-key <key>", "its API key (default $HERALD_API_KEY)")
    .action((flags: { spec: string; url: string; apiKey?: string }, self: Command) =>
      runAction(self, io, () => runPush(flags, io)),
    );
  spec
    .command("asyncapi")
    .summary("write the AsyncAPI 3.0 document of a spec")
    .requiredOption("--spec <file>", "the spec (YAML or JSON)")
    .option("--out <file>", "write here instead of stdout")
    .action((flags: { spec: string; out?: string }, self: Command) =>
      runAction(self, io, async () => runAsyncApi(flags, io)),
    );
  spec
    .command("import")
    .summary("the spec from an OpenAPI document: Herald's exactly, or a provider's webhooks")
    .option("--openapi <file>", "an OpenAPI document (JSON or YAML)")
    .option("--asyncapi <file>", "an AsyncAPI document Herald wrote")
    .option("--out <file>", "write here instead of stdout")
    .option("--json", "write JSON instead of YAML")
    .option("--name <name>", "a provider's document: the webhook's name in the spec")
    .option("--signing <scheme>", "a provider's document: how it signs (stripe, hmac-sha256, …)")
    .option("--path <path>", "a provider's document: where it is received")
    .action((flags: ImportFlags, self: Command) =>
      runAction(self, io, async () => runImport(flags, io)),
    );
  spec
    .command("check")
    .summary("exit 1 unless the committed documents are what the spec generates")
    .requiredOption("--spec <file>", "the spec (YAML or JSON)")
    .option("--openapi <file>", "the committed OpenAPI document")
    .option("--asyncapi <file>", "the committed AsyncAPI document")
    .action((flags: { spec: string; openapi?: string; asyncapi?: string }, self: Command) =>
      runAction(self, io, async () => runCheck(flags, io)),
    );
  return spec;
}
