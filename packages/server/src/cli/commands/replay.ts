// `herald replay`: puts one delivery (by id or unique prefix) back to pending, or — with
// --endpoint and --since — every retrying and dead-lettered delivery of an endpoint created
// since then, one by one with a progress bar on a terminal.

import {
  MAX_PAGE_LIMIT,
  RECOVERABLE_DELIVERY_STATUSES,
} from "@heraldjs/core/internal/model/constants.js";
import type { DeliveryListOptions } from "@heraldjs/core/internal/model/deliveryOperations.js";
import type { DeliveryStore } from "@heraldjs/core/internal/store/deliveryPorts.js";
import { HeraldError, isHeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { Command } from "commander";
import { deliveryToWire } from "../../wire/records.js";
import { createProgressBar, isTerminal, plural } from "../format.js";
import type { CliIo } from "../io.js";
import { DB_ENV_HELP, printJson, type StoreFlags, withStore } from "../openStore.js";
import { parseSinceFlag, parseSingleLine, resolveSince, type SinceFlag } from "../options.js";
import { storeCommand } from "../storeCommand.js";

interface ReplayFlags extends StoreFlags {
  endpoint?: string;
  since?: SinceFlag;
}

/** What a bulk replay picks up (the statuses `recoverEndpoint` replays). */
/** Deliveries listed, then replayed, per page. */
const BULK_PAGE = 100;

function usage(message: string): HeraldError {
  return new HeraldError("cli.invalid_argument", message);
}

async function runReplay(
  idOrPrefix: string | undefined,
  flags: ReplayFlags,
  io: CliIo,
): Promise<number> {
  if (idOrPrefix !== undefined && flags.endpoint !== undefined) {
    throw usage("Give a delivery id or --endpoint with --since, not both");
  }
  if (idOrPrefix === undefined && flags.endpoint === undefined) {
    throw usage("Give a delivery id (or a unique prefix), or --endpoint <id> --since <time>");
  }
  if (flags.endpoint !== undefined && flags.since === undefined) {
    throw usage("--endpoint needs --since <time>: which deliveries to replay");
  }
  if (flags.endpoint === undefined && flags.since !== undefined) {
    throw usage("--since applies to a bulk replay: add --endpoint <id>");
  }
  if (flags.endpoint !== undefined && flags.since !== undefined) {
    const { endpoint, since } = flags;
    return withStore(flags, io, (store) => replayEndpoint(store, endpoint, since, flags, io));
  }
  const given = parseSingleLine(idOrPrefix ?? "");
  return withStore(flags, io, async (store) => {
    const id = await store.resolveDeliveryId(given);
    const delivery = await store.replayDelivery(id);
    if (flags.json === true) printJson(io, deliveryToWire(delivery));
    else io.stdout.write(`replayed ${delivery.id} (${delivery.status})\n`);
    return 0;
  });
}

async function countMatches(store: DeliveryStore, filter: DeliveryListOptions): Promise<number> {
  let total = 0;
  let cursor: string | null = null;
  do {
    const page = await store.listDeliveries({ ...filter, limit: MAX_PAGE_LIMIT, cursor });
    total += page.data.length;
    cursor = page.nextCursor;
  } while (cursor !== null);
  return total;
}

export async function replayEndpoint(
  store: DeliveryStore,
  endpointId: string,
  sinceFlag: SinceFlag,
  flags: ReplayFlags,
  io: CliIo,
): Promise<number> {
  if ((await store.getEndpoint(endpointId)) === undefined) {
    throw new HeraldError("endpoint.not_found", `No endpoint ${endpointId}`, {
      details: { id: endpointId },
    });
  }
  const filter: DeliveryListOptions = {
    endpointId,
    status: RECOVERABLE_DELIVERY_STATUSES,
    createdSince: resolveSince(sinceFlag, io.clock.now()),
    order: "oldest",
  };
  // The total is counted only to draw the bar: a pipe or a log gets the summary alone.
  const tty = isTerminal(io.stderr);
  let total = tty ? await countMatches(store, filter) : 0;
  const bar = tty ? createProgressBar(io.stderr, io.clock) : undefined;
  let replayed = 0;
  let skipped = 0;
  bar?.update(0, total);
  try {
    // Keyset pages: a replayed delivery leaves the filter (it is pending now) without moving
    // the cursor, so nothing is skipped or replayed twice.
    let cursor: string | null = null;
    do {
      const page = await store.listDeliveries({ ...filter, limit: BULK_PAGE, cursor });
      for (const delivery of page.data) {
        try {
          await store.replayDelivery(delivery.id);
          replayed += 1;
        } catch (error) {
          // A worker holds it right now; a delivery deleted meanwhile is simply gone.
          if (isHeraldError(error, "delivery.in_progress")) skipped += 1;
          else if (!isHeraldError(error, "delivery.not_found")) throw error;
        }
        total = Math.max(total, replayed + skipped);
        bar?.update(replayed + skipped, total);
      }
      cursor = page.nextCursor;
    } while (cursor !== null);
  } catch (error) {
    bar?.finish();
    if (replayed > 0) {
      io.stderr.write(`replayed ${plural(replayed, "delivery", "deliveries")} before the error\n`);
    }
    throw error;
  }
  bar?.finish();
  if (flags.json === true) {
    printJson(io, { replayed, skipped });
    return 0;
  }
  io.stdout.write(`replayed ${plural(replayed, "delivery", "deliveries")} of ${endpointId}\n`);
  if (skipped > 0) io.stdout.write(`skipped ${skipped} in progress\n`);
  return 0;
}

const HELP = `
A replayed delivery goes back to pending, due now, with its attempts reset (the attempt log
stays); it is the same message, so the same payload and webhook-id. A running worker picks it
up at its next poll. A bulk replay (--endpoint with --since) replays the endpoint's retrying
and dead-lettered deliveries created since then, oldest first, one by one; those a worker is
sending at that moment are skipped and counted. A progress bar is drawn on stderr when it is
a terminal.

--since: a span ago (30s, 15m, 1h, 2d, 1w), Unix seconds, or an ISO 8601 date-time.

Exit status: 0 replayed (a bulk replay also when some were skipped), 1 the store refused or
could not be reached, 2 usage error (an id and --endpoint together, neither, --endpoint
without --since, a bad --since).

Error codes: delivery.not_found, delivery.ambiguous_prefix (the matching ids are listed
below the error), delivery.in_progress (a worker is sending it: try again shortly),
endpoint.not_found, store.unavailable, cli.invalid_argument.

${DB_ENV_HELP}
Examples:
  $ herald replay dlv_01J9ZK6T2Q
  replayed dlv_01J9ZK6T2Q4W8M3X5B7N1C0D2E (pending)
  $ herald replay --endpoint ep_orders --since 2h
  [##############################] 400/400
  replayed 400 deliveries of ep_orders
  $ herald replay --endpoint ep_orders --since 2024-05-01T00:00:00Z --json
  {"replayed":397,"skipped":3}
`;

export function registerReplay(program: Command, io: CliIo): Command {
  const command = program
    .command("replay")
    .summary("replay a delivery, or an endpoint's failures")
    .description(
      "Put a delivery (by id or unique prefix) back to pending, or with --endpoint and --since every retrying and dead-lettered delivery of that endpoint created since then.",
    )
    .argument("[id]", "delivery id (dlv_…) or a unique prefix of one")
    .option("--endpoint <id>", "bulk: replay this endpoint's failed deliveries", parseSingleLine)
    .option(
      "--since <time>",
      "bulk: deliveries created since then (30m, 1h, 2d ago, Unix seconds or ISO 8601)",
      parseSinceFlag,
    );
  return storeCommand(command, io, { json: "print the result as JSON", help: HELP }, runReplay);
}
