// `herald endpoints list|add|disable|enable`: the endpoints messages are delivered to. `add`
// prints the signing secret once — the only command that ever prints an endpoint's secret.

import {
  DEFAULT_ENDPOINT_SCHEME,
  DEFAULT_ENDPOINT_TRANSPORT,
  ENDPOINT_TRANSPORTS,
  MAX_PAGE_LIMIT,
} from "@heraldjs/core/internal/model/constants.js";
import type {
  EndpointRecord,
  EndpointTransport,
} from "@heraldjs/core/internal/model/deliveryRecords.js";
import {
  type FilterJson,
  parseEndpointFilter,
} from "@heraldjs/core/internal/model/endpointFilter.js";
import { HeraldError, isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { SchemeName } from "@heraldjs/webhooks/internal/signing/registry.js";
import { generateSecret } from "@heraldjs/webhooks/internal/signing/sign.js";
import { type Command, InvalidArgumentError } from "commander";
import { checkEndpointTarget, checkSecret } from "../../wire/endpoint.js";
import { displayedTarget, endpointToWire } from "../../wire/records.js";
import { formatTable, truncate } from "../format.js";
import type { CliIo } from "../io.js";
import { DB_ENV_HELP, printJson, type StoreFlags, withStore } from "../openStore.js";
import { collect, parseSingleLine, schemeOption } from "../options.js";
import { type StoreCommandText, storeCommand } from "../storeCommand.js";

/** `--transport <name>`: one of the endpoint transports (default http). */
function parseTransportFlag(value: string): EndpointTransport {
  const found = ENDPOINT_TRANSPORTS.find((name) => name === value);
  if (found === undefined) {
    throw new InvalidArgumentError(`Expected one of ${ENDPOINT_TRANSPORTS.join(", ")}.`);
  }
  return found;
}

/**
 * `--url` for `--transport`, by the API's rule (wire/endpoint.ts): a usage error naming `--url`
 * (never echoing a password) for a target of the wrong form.
 */
function checkUrlFlag(transport: EndpointTransport, url: string): void {
  try {
    checkEndpointTarget(transport, url);
  } catch (error) {
    if (!isHeraldError(error, "request.invalid")) throw error;
    const problem = error.message.replace(/^url: /, "");
    throw new HeraldError("cli.invalid_argument", `--url: ${problem} (--transport ${transport})`, {
      details: { field: "--url" },
    });
  }
}

/** `--filter '<json>'`: a filter of docs/filters.md, checked now (the path of a bad part named). */
function parseFilterFlag(value: string): FilterJson {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError(
      'Expected a filter as JSON, e.g. \'{"payload":{"total":{"$gte":100}}}\'.',
    );
  }
  try {
    return parseEndpointFilter(parsed).json;
  } catch (error) {
    if (isHeraldError(error, "filter.invalid")) throw new InvalidArgumentError(error.message);
    throw error;
  }
}

interface EndpointsListFlags extends StoreFlags {
  tenant?: string;
}

interface EndpointsAddFlags extends StoreFlags {
  url: string;
  eventType: string[];
  id?: string;
  tenant?: string;
  scheme: SchemeName;
  secret?: string;
  description?: string;
  filter?: FilterJson;
  transport?: EndpointTransport;
}

interface EndpointsDisableFlags extends StoreFlags {
  reason?: string;
}

function endpointStatus(endpoint: EndpointRecord): string {
  if (endpoint.enabled) return "enabled";
  return endpoint.disabledReason === null
    ? "disabled"
    : `disabled: ${truncate(endpoint.disabledReason, 40)}`;
}

function endpointsTable(endpoints: readonly EndpointRecord[]): string {
  return formatTable(
    ["ID", "TENANT", "TARGET", "EVENT TYPES", "SECRETS", "FAILURES", "STATUS"],
    endpoints.map((e) => [
      e.id,
      e.tenant,
      truncate(displayedTarget(e), 60),
      truncate(e.eventTypes.join(","), 40),
      String(e.secrets.length),
      String(e.consecutiveFailures),
      endpointStatus(e),
    ]),
  );
}

async function runEndpointsList(flags: EndpointsListFlags, io: CliIo): Promise<number> {
  return withStore(flags, io, async (store) => {
    const endpoints: EndpointRecord[] = [];
    let cursor: string | null = null;
    do {
      const page = await store.listEndpoints({
        ...(flags.tenant === undefined ? {} : { tenant: flags.tenant }),
        limit: MAX_PAGE_LIMIT,
        cursor,
      });
      endpoints.push(...page.data);
      cursor = page.nextCursor;
    } while (cursor !== null);
    if (flags.json === true) printJson(io, { data: endpoints.map(endpointToWire) });
    else if (endpoints.length === 0) io.stdout.write("no endpoints\n");
    else io.stdout.write(endpointsTable(endpoints));
    return 0;
  });
}

async function runEndpointsAdd(flags: EndpointsAddFlags, io: CliIo): Promise<number> {
  const transport = flags.transport ?? DEFAULT_ENDPOINT_TRANSPORT;
  checkUrlFlag(transport, flags.url);
  // The API's rule: a secret the scheme cannot sign with is refused before anything is stored.
  if (flags.secret !== undefined) {
    checkSecret(
      flags.scheme,
      flags.scheme,
      flags.secret,
      "--secret",
      "sign",
      "cli.invalid_argument",
    );
  }
  const secret = flags.secret ?? generateSecret(flags.scheme);
  return withStore(flags, io, async (store) => {
    const endpoint = await store.createEndpoint({
      transport,
      target: flags.url,
      eventTypes: flags.eventType,
      scheme: flags.scheme,
      secrets: [{ secret }],
      ...(flags.id === undefined ? {} : { id: flags.id }),
      ...(flags.tenant === undefined ? {} : { tenant: flags.tenant }),
      ...(flags.description === undefined ? {} : { description: flags.description }),
      ...(flags.filter === undefined ? {} : { filter: flags.filter }),
    });
    if (flags.json === true) {
      printJson(io, { ...endpointToWire(endpoint), secret });
      return 0;
    }
    io.stdout.write(`id: ${endpoint.id}\nsecret: ${secret}\n`);
    io.stderr.write(
      `Created endpoint ${endpoint.id} (tenant ${endpoint.tenant}) for ${endpoint.eventTypes.join(", ")} → ${displayedTarget(endpoint)}.\n` +
        "Configure the receiver with this secret now: no herald command shows it again.\n",
    );
    return 0;
  });
}

async function setEnabled(
  id: string,
  enabled: boolean,
  flags: EndpointsDisableFlags,
  io: CliIo,
): Promise<number> {
  return withStore(flags, io, async (store) => {
    const endpoint = await store.setEndpointEnabled(id, enabled, enabled ? null : flags.reason);
    if (flags.json === true) printJson(io, endpointToWire(endpoint));
    else if (enabled) io.stdout.write(`enabled ${endpoint.id}\n`);
    else {
      const reason = endpoint.disabledReason === null ? "" : `: ${endpoint.disabledReason}`;
      io.stdout.write(`disabled ${endpoint.id}${reason}\n`);
    }
    return 0;
  });
}

function runEndpointsDisable(id: string, flags: EndpointsDisableFlags, io: CliIo): Promise<number> {
  return setEnabled(id, false, flags, io);
}

function runEndpointsEnable(id: string, flags: StoreFlags, io: CliIo): Promise<number> {
  return setEnabled(id, true, flags, io);
}

const LIST_HELP = `
Oldest first. SECRETS counts the signing secrets (several during a rotation); no command but
\`endpoints add\` ever prints one. --json prints {"data":[…]} with the API's endpoint shape
(secret_count instead of secrets).

Exit status: 0 listed, 1 the store could not be reached, 2 usage error.

${DB_ENV_HELP}
Examples:
  $ herald endpoints list --tenant acme
  ID         TENANT  TARGET                      EVENT TYPES  SECRETS  FAILURES  STATUS
  ep_orders  acme    https://acme.example/hooks  order.*      1        0         enabled
`;

const ADD_HELP = `
Prints the endpoint's id and its signing secret on stdout — the only time Herald shows it:
configure the receiver with it now. Without --secret a new one is generated for --scheme
(whsec_… for standard). --event-type takes type patterns (order.*, order.created.v1, *).
--transport says how to deliver and --url where (docs/transports.md): http (a URL, the default),
nats (a subject), function (a function name), websocket (ws:// or wss://), grpc (grpc:// or
grpcs://host:port), rabbitmq (amqp(s)://…?exchange=…&routing_key=…), redis-streams
(redis(s)://…?stream=…&maxlen=…), nats-core (a subject template for live subscribers, e.g.
'client.{tenant}.evt'; placeholders {tenant}, {type}, {message_id}), sqs (the queue URL
https://sqs.<region>.amazonaws.com/<account>/<queue>, ?group_id= for a FIFO queue; a queue on
herald.yaml's aws.endpoint override when one is set — herald serve refuses other origins),
eventbridge (eventbridge://<bus or default>?source=<source>&region=<region>). A password in the
URL is stored and never printed back.
--filter takes a filter on the payload and headers as JSON (docs/filters.md): a message of a
matching type that the filter refuses gets no delivery and is shown as filtered out by
\`herald messages show\`; an invalid filter is a usage error naming the offending part.

Exit status: 0 created, 1 the store refused it (endpoint.invalid, endpoint.already_exists,
type_pattern.invalid) or could not be reached (store.unavailable), 2 usage error (no --url
or --event-type, a URL that is not absolute).

${DB_ENV_HELP}
Examples:
  $ herald endpoints add --url https://acme.example/hooks --event-type 'order.*' --tenant acme
  id: ep_01J9ZK6T2Q4W8M3X5B7N1C0D2E
  secret: whsec_MfKQ9r8GKYqrTFQf1cQhiNG2Y6sRp6TZb3iHvK3nU/Y=
  $ herald endpoints add --id ep_orders --url https://acme.example/hooks --event-type 'order.*' --json
  {"id":"ep_orders","tenant":"default",…,"secret_count":1,…,"secret":"whsec_…"}
  $ herald endpoints add --url https://acme.example/big --event-type 'order.*' \\
      --filter '{"payload":{"total":{"$gte":100}}}'
  $ herald endpoints add --transport rabbitmq --event-type 'order.*' \\
      --url 'amqp://herald:pw@mq.internal:5672/?exchange=orders&routing_key=order.created'
  $ herald endpoints add --transport sqs --event-type 'order.*' \\
      --url https://sqs.eu-west-1.amazonaws.com/123456789012/orders
  $ herald endpoints add --transport eventbridge --event-type 'order.*' \\
      --url 'eventbridge://orders-bus?source=acme.herald&region=eu-west-1'
`;

/** What `endpoints disable` and `endpoints enable` print with --json, and their help text. */
const toggleText = (verb: "disable" | "enable"): StoreCommandText => ({
  json: "print the endpoint as JSON",
  help: `
${
  verb === "disable"
    ? "A disabled endpoint keeps its queued deliveries; workers claim none of them until it is\nenabled again. --reason is shown by `endpoints list`."
    : "Enabling clears the disabled reason and the endpoint's failure run (auto-disable counts\nfrom zero again); its queued deliveries are claimed again."
}

Exit status: 0 done, 1 no such endpoint (endpoint.not_found) or the store could not be
reached, 2 usage error.

${DB_ENV_HELP}
Examples:
${
  verb === "disable"
    ? '  $ herald endpoints disable ep_orders --reason "receiver migration"\n  disabled ep_orders: receiver migration'
    : "  $ herald endpoints enable ep_orders\n  enabled ep_orders"
}
`,
});

export function registerEndpoints(program: Command, io: CliIo): Command {
  const endpoints = program
    .command("endpoints")
    .summary("list, add, disable and enable endpoints")
    .description(
      "Manage the endpoints messages are delivered to. See `herald endpoints <command> --help`.",
    );

  const list = endpoints
    .command("list")
    .summary("list endpoints")
    .description("List endpoints with their targets, event types and health.")
    .option("--tenant <tenant>", "only this tenant's endpoints", parseSingleLine);
  storeCommand(list, io, { json: 'print {"data":[…]}', help: LIST_HELP }, runEndpointsList);

  const add = endpoints
    .command("add")
    .summary("add an endpoint and print its signing secret")
    .description(
      "Add an endpoint (--transport, default http) and print its id and signing secret (once).",
    )
    .requiredOption(
      "--url <url>",
      "where to deliver: an http(s) URL, a NATS subject, a function name, ws(s)://, grpc(s)://, amqp(s)://…?routing_key=…, redis(s)://…?stream=…",
      parseSingleLine,
    )
    .option(
      "--transport <name>",
      `how to deliver (${ENDPOINT_TRANSPORTS.join(", ")}; default http)`,
      parseTransportFlag,
    )
    .requiredOption(
      "--event-type <pattern>",
      "event-type pattern to deliver (order.*); repeat for several",
      collect,
    )
    .option("--id <id>", "a stable id instead of a generated ep_…", parseSingleLine)
    .option("--tenant <tenant>", "owner of the endpoint (default: default)", parseSingleLine)
    .addOption(schemeOption("signing scheme").default(DEFAULT_ENDPOINT_SCHEME))
    .option(
      "--secret <secret>",
      "signing secret (default: a new one for the scheme)",
      parseSingleLine,
    )
    .option("--description <text>", "free text shown to operators")
    .option(
      "--filter <json>",
      "deliver only messages this filter accepts (JSON, docs/filters.md)",
      parseFilterFlag,
    );
  storeCommand(
    add,
    io,
    { json: "print the endpoint as JSON, with its secret", help: ADD_HELP },
    runEndpointsAdd,
  );

  const disable = endpoints
    .command("disable")
    .summary("stop delivering to an endpoint")
    .description("Disable an endpoint: its deliveries stay queued until it is enabled.")
    .argument("<id>", "endpoint id", parseSingleLine)
    .option("--reason <text>", "why (shown by endpoints list)", parseSingleLine);
  storeCommand(disable, io, toggleText("disable"), runEndpointsDisable);

  const enable = endpoints
    .command("enable")
    .summary("deliver to a disabled endpoint again")
    .description("Enable an endpoint and clear its failure run.")
    .argument("<id>", "endpoint id", parseSingleLine);
  storeCommand(enable, io, toggleText("enable"), runEndpointsEnable);
  return endpoints;
}
