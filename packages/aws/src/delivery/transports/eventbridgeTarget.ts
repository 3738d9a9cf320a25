// The EventBridge endpoint target: `eventbridge://<bus name or default>?source=<source>&region=<region>`.
// It names the bus and the events' Source only; the transport sends to the region's EventBridge
// endpoint (or the configured override), never to a host taken from the target.
import { invalidTargetUrl as invalid } from "@heraldjs/core/internal/delivery/transports/targetUrl.js";

/** Where one EventBridge endpoint puts its events. */
export interface EventBridgeTarget {
  /** The event bus name; "default" is the account's default bus. */
  eventBusName: string;
  /** The events' Source: default "herald". */
  source: string;
  /** The bus's region; undefined: the transport's configured region. */
  region?: string;
}

const PREFIX = "eventbridge://";
const FORM = "must be eventbridge://<bus name or default>?source=<source>&region=<region>";
/** EventBridge bus names: 1–256 of A-Z a-z 0-9 . _ / - */
const BUS_NAME = /^[A-Za-z0-9._/-]{1,256}$/;
/** Sources as EventBridge's pattern allows them, without the `aws.` prefix AWS reserves. */
const SOURCE = /^[A-Za-z0-9._/-]{1,256}$/;
const REGION = /^[a-z]{2}(-[a-z]+)+-\d+$/;
const PARAMETERS: ReadonlySet<string> = new Set(["source", "region"]);
export const DEFAULT_EVENTBRIDGE_SOURCE = "herald";

/**
 * Parses an EventBridge target. Throws `request.invalid` ("url: …", details.field "url") for
 * anything else: another scheme, credentials, a port, a fragment, a bus name or source outside
 * EventBridge's rules, an `aws.` source, a malformed region, another query parameter or one
 * given twice. The message never quotes the target.
 */
export function parseEventBridgeTarget(target: string): EventBridgeTarget {
  if (typeof target !== "string" || !target.startsWith(PREFIX) || /\s/.test(target)) {
    throw invalid(FORM);
  }
  if (target.includes("#")) throw invalid(`${FORM} (without a fragment)`);
  const rest = target.slice(PREFIX.length);
  const queryAt = rest.indexOf("?");
  const bus = queryAt === -1 ? rest : rest.slice(0, queryAt);
  if (!BUS_NAME.test(bus)) {
    throw invalid(`${FORM} (a bus name is 1-256 characters of A-Z a-z 0-9 . _ / -)`);
  }
  const query = new URLSearchParams(queryAt === -1 ? "" : rest.slice(queryAt + 1));
  for (const name of query.keys()) {
    if (!PARAMETERS.has(name)) {
      throw invalid(`${FORM} (unknown parameter ${JSON.stringify(name.slice(0, 40))})`);
    }
    if (query.getAll(name).length > 1) throw invalid(`${FORM} (parameter ${name} given twice)`);
  }
  const source = query.get("source") ?? DEFAULT_EVENTBRIDGE_SOURCE;
  if (!SOURCE.test(source)) {
    throw invalid(`${FORM} (a source is 1-256 characters of A-Z a-z 0-9 . _ / -)`);
  }
  if (/^aws\./i.test(source)) throw invalid(`${FORM} (AWS reserves sources starting "aws.")`);
  const region = query.get("region");
  if (region !== null && !REGION.test(region)) {
    throw invalid(`${FORM} (region is a region name like us-east-1)`);
  }
  return { eventBusName: bus, source, ...(region === null ? {} : { region }) };
}
