// `herald deliveries`: one page of deliveries, newest first, filtered by status, endpoint and
// message; a table with a ready-to-run "next page" command, or the API's JSON page.

import {
  DEFAULT_PAGE_LIMIT,
  DELIVERY_STATUSES,
  MAX_PAGE_LIMIT,
} from "@heraldjs/core/internal/model/constants.js";
import type {
  DeliveryRecord,
  DeliveryStatus,
} from "@heraldjs/core/internal/model/deliveryRecords.js";
import { type Command, InvalidArgumentError, Option } from "commander";
import { parseDatabaseUrl } from "../../store/openDatabase.js";
import { deliveryToWire } from "../../wire/records.js";
import { formatTable, shellArg, shortTime, truncate } from "../format.js";
import type { CliIo } from "../io.js";
import { DB_ENV_HELP, printJson, type StoreFlags, withStore } from "../openStore.js";
import { parseLimitFlag, parseSingleLine } from "../options.js";
import { storeCommand } from "../storeCommand.js";

interface DeliveriesFlags extends StoreFlags {
  status?: DeliveryStatus[];
  /** `--failed`: the dead letters, as `--status dead_lettered`. */
  failed?: boolean;
  endpoint?: string;
  message?: string;
  limit: number;
  cursor?: string;
}

/** `--status a,b --status c`: each value checked against the store's statuses. */
export function parseStatusFlag(
  value: string,
  previous: readonly DeliveryStatus[] = [],
): DeliveryStatus[] {
  const statuses = value
    .split(",")
    .map((part) => part.trim())
    .filter((part) => part !== "");
  if (statuses.length === 0) throw new InvalidArgumentError("Expected a status.");
  for (const status of statuses) {
    if (!DELIVERY_STATUSES.includes(status as DeliveryStatus)) {
      throw new InvalidArgumentError(
        `Unknown status ${JSON.stringify(status)}; expected one of ${DELIVERY_STATUSES.join(", ")}.`,
      );
    }
  }
  return [...new Set([...previous, ...(statuses as DeliveryStatus[])])];
}

/** Pending and retrying deliveries wait for a time; others show `-`. */
function nextAttempt(delivery: DeliveryRecord): string {
  return shortTime(deliveryToWire(delivery).next_retry_at);
}

/** The rows of a deliveries table (also used by `messages show`). */
export function deliveriesTable(deliveries: readonly DeliveryRecord[]): string {
  return formatTable(
    ["ID", "STATUS", "ENDPOINT", "ATTEMPTS", "NEXT ATTEMPT", "LAST ERROR"],
    deliveries.map((d) => [
      d.id,
      d.status,
      d.endpointId,
      `${d.attempts}/${d.maxAttempts}`,
      nextAttempt(d),
      truncate(d.lastError ?? (d.lastStatusCode === null ? null : `HTTP ${d.lastStatusCode}`), 48),
    ]),
  );
}

/**
 * The database flags as given, for the "next page" hint; left out when the URL carries a
 * password (the hint must not print it).
 */
function databaseArgs(flags: DeliveriesFlags): string[] {
  if (flags.db === undefined) return [];
  try {
    const target = parseDatabaseUrl(flags.db, { schema: flags.schema });
    if (target.dialect === "postgres" && new URL(target.url).password !== "") return [];
  } catch {
    return [];
  }
  return ["--db", flags.db, ...(flags.schema === undefined ? [] : ["--schema", flags.schema])];
}

export function nextPageCommand(flags: DeliveriesFlags, cursor: string): string {
  const args = [
    "herald",
    "deliveries",
    ...(flags.status === undefined || flags.status.length === 0
      ? []
      : ["--status", flags.status.join(",")]),
    ...(flags.endpoint === undefined ? [] : ["--endpoint", flags.endpoint]),
    ...(flags.message === undefined ? [] : ["--message", flags.message]),
    ...(flags.limit === DEFAULT_PAGE_LIMIT ? [] : ["--limit", String(flags.limit)]),
    ...databaseArgs(flags),
    "--cursor",
    cursor,
  ];
  return args.map(shellArg).join(" ");
}

async function runDeliveries(given: DeliveriesFlags, io: CliIo): Promise<number> {
  const { failed, ...rest } = given;
  const flags: DeliveriesFlags =
    failed === true ? { ...rest, status: ["dead_lettered"] as DeliveryStatus[] } : rest;
  return withStore(flags, io, async (store) => {
    const page = await store.listDeliveries({
      ...(flags.status === undefined ? {} : { status: flags.status }),
      ...(flags.endpoint === undefined ? {} : { endpointId: flags.endpoint }),
      ...(flags.message === undefined ? {} : { messageId: flags.message }),
      limit: flags.limit,
      cursor: flags.cursor ?? null,
    });
    if (flags.json === true) {
      printJson(io, { data: page.data.map(deliveryToWire), next_cursor: page.nextCursor });
      return 0;
    }
    if (page.data.length === 0) {
      io.stdout.write(flags.cursor === undefined ? "no deliveries\n" : "no more deliveries\n");
      return 0;
    }
    io.stdout.write(deliveriesTable(page.data));
    if (page.nextCursor !== null) {
      io.stdout.write(`next: ${nextPageCommand(flags, page.nextCursor)}\n`);
    }
    return 0;
  });
}

const HELP = `
Newest first. NEXT ATTEMPT is when a pending or retrying delivery is due; LAST ERROR is the
last failed attempt's error (or HTTP status). When more deliveries match, the last line is
the command that prints the next page (the database flags are repeated unless the URL holds
a password).

Statuses: ${DELIVERY_STATUSES.join(", ")}.

Exit status: 0 listed (also when nothing matches), 1 the store could not be reached,
2 usage error (an unknown status, a --limit outside 1–1000, a cursor of another query:
cursor.invalid).

${DB_ENV_HELP}
Examples:
  $ herald deliveries --failed          # the dead letters, newest first
  $ herald deliveries --status dead_lettered --endpoint ep_orders --limit 2
  ID                              STATUS         ENDPOINT   ATTEMPTS  NEXT ATTEMPT  LAST ERROR
  dlv_01J9ZK6T2Q4W8M3X5B7N1C0D2E  dead_lettered  ep_orders  8/8       -             HTTP 503
  dlv_01J9ZK5W3D9R1V0C6E2K8F4A7B  dead_lettered  ep_orders  8/8       -             connect ECONNREFUSED
  next: herald deliveries --status dead_lettered --endpoint ep_orders --limit 2 --cursor eyJrIjoi…
  $ herald deliveries --status retrying,pending --json
  {"data":[{"id":"dlv_…","message_id":"msg_…","endpoint_id":"ep_orders","status":"retrying",…}],"next_cursor":null}
`;

export function registerDeliveries(program: Command, io: CliIo): Command {
  const command = program
    .command("deliveries")
    .summary("list deliveries by status, endpoint or message")
    .description(
      "List deliveries, newest first: a table, or with --json the API's page {data, next_cursor}.",
    )
    .option(
      "--status <status>",
      "only these statuses; repeat or separate with commas",
      parseStatusFlag,
    )
    .addOption(
      new Option("--failed", "only dead-lettered deliveries (--status dead_lettered)").conflicts(
        "status",
      ),
    )
    .option("--endpoint <id>", "only this endpoint's deliveries", parseSingleLine)
    .option("--message <id>", "only this message's deliveries", parseSingleLine)
    .option(
      "--limit <n>",
      `deliveries per page, 1–${MAX_PAGE_LIMIT}`,
      parseLimitFlag,
      DEFAULT_PAGE_LIMIT,
    )
    .option(
      "--cursor <cursor>",
      "the page after the one that printed this cursor",
      parseSingleLine,
    );
  return storeCommand(
    command,
    io,
    { json: 'print {"data":[…],"next_cursor":…}', help: HELP },
    runDeliveries,
  );
}
