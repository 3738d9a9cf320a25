// `herald messages show <id>`: a message with its deliveries — header lines and a deliveries
// table, or the JSON of GET /v1/messages/:id.

import { messageProgress } from "@heraldjs/core/internal/model/messageStatus.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import type { Command } from "commander";
import { messageToWire } from "../../wire/records.js";
import { plural, shortTime, truncate } from "../format.js";
import type { CliIo } from "../io.js";
import { DB_ENV_HELP, printJson, type StoreFlags, withStore } from "../openStore.js";
import { parseSingleLine } from "../options.js";
import { storeCommand } from "../storeCommand.js";
import { deliveriesTable } from "./deliveries.js";

type MessagesShowFlags = StoreFlags;

/** Characters of the payload shown in the text view; --json prints all of it. */
const PAYLOAD_PREVIEW = 200;

async function runMessagesShow(id: string, flags: MessagesShowFlags, io: CliIo): Promise<number> {
  return withStore(flags, io, async (store) => {
    const found = await store.getMessage(id);
    if (found === undefined) {
      throw new HeraldError("message.not_found", `No message ${id}`, { details: { id } });
    }
    const { message, deliveries, filtered } = found;
    if (flags.json === true) {
      printJson(io, messageToWire(message, deliveries, filtered));
      return 0;
    }
    const progress = messageProgress(message, deliveries);
    const key = message.idempotencyKey ?? message.inboundIdempotencyKey;
    const lines = [
      `message  ${message.id}`,
      `type     ${message.type}`,
      `tenant   ${message.tenant}`,
      `source   ${message.source ?? "-"}`,
      `status   ${progress.status}`,
      `         ${progress.description}`,
      `created  ${shortTime(message.createdAt)}`,
      ...(key === null ? [] : [`key      ${key}`]),
      `payload  ${truncate(JSON.stringify(message.payload), PAYLOAD_PREVIEW)}`,
      "",
      `${plural(deliveries.length, "delivery", "deliveries")}${deliveries.length > 0 ? ":" : filtered.length > 0 ? "" : " (no endpoint matched)"}`,
    ];
    io.stdout.write(`${lines.join("\n")}\n`);
    if (deliveries.length > 0) io.stdout.write(deliveriesTable(deliveries));
    if (filtered.length > 0) {
      const ids = filtered.map((f) => f.endpointId).join(", ");
      io.stdout.write(`\nfiltered out (no delivery): ${ids}\n`);
    }
    return 0;
  });
}

const HELP = `
The message's status comes from its deliveries, the first rule that applies: no_endpoints
(no endpoint matched), processing (one is being attempted), retrying (one failed and waits),
queued (one waits for its first attempt), dead_lettered (one was dead-lettered), delivered,
cancelled (all were cancelled). The text view shortens the payload; --json prints it whole,
in the shape of GET /v1/messages/:id.

Exit status: 0 shown, 1 no such message (message.not_found) or the store could not be
reached (store.unavailable), 2 usage error.

${DB_ENV_HELP}
Examples:
  $ herald messages show msg_01J9ZK6T2Q4W8M3X5B7N1C0D2E
  message  msg_01J9ZK6T2Q4W8M3X5B7N1C0D2E
  type     order.created.v1
  tenant   acme
  source   -
  status   dead_lettered
           Dead-lettered after 8 attempts: it will not be retried unless its delivery is replayed.
  created  2024-05-01T12:00:00Z
  payload  {"id":"ord_1","total":42}

  1 delivery:
  ID                              STATUS         ENDPOINT   ATTEMPTS  NEXT ATTEMPT  LAST ERROR
  dlv_01J9ZK6T2Q4W8M3X5B7N1C0D2E  dead_lettered  ep_orders  8/8       -             HTTP 503
  $ herald messages show msg_01J9ZK6T2Q4W8M3X5B7N1C0D2E --json
  {"id":"msg_…","type":"order.created.v1","source":null,"status":"dead_lettered","status_description":"…","attempts":8,"max_attempts":8,"last_error":"max attempts (8) reached: HTTP 503","next_retry_at":null,"created_at":"…","updated_at":"…","payload":{…},"tenant":"acme","idempotency_key":null,"deliveries":[…]}
`;

export function registerMessages(program: Command, io: CliIo): Command {
  const messages = program
    .command("messages")
    .summary("inspect messages")
    .description("Inspect messages. See `herald messages show --help`.");
  const show = messages
    .command("show")
    .summary("show a message with its deliveries")
    .description("Show a message, its payload and its deliveries.")
    .argument("<id>", "message id (msg_…)", parseSingleLine);
  storeCommand(
    show,
    io,
    { json: "print the message as GET /v1/messages/:id does", help: HELP },
    runMessagesShow,
  );
  return messages;
}
