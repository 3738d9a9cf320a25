// Identifiers: prefixed ULIDs (`msg_01J…`) for Herald's own records, UUIDs for event envelopes.

import { randomUUID } from "node:crypto";
import { decodeTime, monotonicFactory, type ULIDFactory } from "ulid";
import type { Clock } from "./clock.js";
import { systemClock } from "./clock.js";
import { HeraldError } from "./errors.js";

/** Prefixes used by the project; `newId` accepts any prefix matching `ID_PREFIX_PATTERN`. */
export const ID_PREFIXES = ["msg", "dlv", "ep", "evt", "src", "att", "et"] as const;
export type KnownIdPrefix = (typeof ID_PREFIXES)[number];
export type IdPrefix = KnownIdPrefix | (string & {});

export const ID_PREFIX_PATTERN = /^[a-z]{1,8}$/;
// Canonical ULID only: uppercase Crockford base32, first character 0–7 (48-bit time).
// Ids are compared as strings (sort order, database keys), so lowercase spellings are rejected
// rather than silently treated as equal.
const ULID_PATTERN = /^[0-7][0-9A-HJKMNP-TV-Z]{25}$/;
const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i;
const ULID_TIME_MAX = 2 ** 48 - 1;

export interface ParsedId {
  prefix: string;
  ulid: string;
  /** Creation time in milliseconds since the Unix epoch, as encoded in the ULID. */
  timestamp: number;
}

export interface NewIdOptions {
  /** Source of the time component; defaults to the system clock. */
  clock?: Clock;
}

// One monotonic factory per clock: sharing one would let a test clock set in the future
// drag every later system-clock id forward in time (the factory never goes backwards).
const systemFactory = monotonicFactory();
const factories = new WeakMap<Clock, ULIDFactory>();

function factoryFor(clock: Clock): ULIDFactory {
  if (clock === systemClock) return systemFactory;
  let factory = factories.get(clock);
  if (factory === undefined) {
    factory = monotonicFactory();
    factories.set(clock, factory);
  }
  return factory;
}

function assertPrefix(prefix: string): void {
  if (typeof prefix !== "string" || !ID_PREFIX_PATTERN.test(prefix)) {
    throw new HeraldError(
      "id.invalid",
      `Invalid id prefix ${JSON.stringify(prefix)}: expected 1–8 lowercase letters`,
      {
        details: { prefix },
      },
    );
  }
}

/**
 * A new id `<prefix>_<ULID>`. Ids from the same clock sort by creation time and stay strictly
 * increasing within one millisecond (and when the clock steps back, they keep the last time).
 */
export function newId(prefix: IdPrefix, options: NewIdOptions = {}): string {
  assertPrefix(prefix);
  const clock = options.clock ?? systemClock;
  const now = Math.floor(clock.now());
  if (!Number.isFinite(now) || now < 0 || now > ULID_TIME_MAX) {
    throw new HeraldError("id.invalid", `Clock time ${now} cannot be encoded in a ULID`, {
      details: { time: now },
    });
  }
  // The ulid factory reads a seed of 0 as "use Date.now()", so the epoch itself is encoded as
  // 1 ms: only a ManualClock left at its default start ever hits this.
  return `${prefix}_${factoryFor(clock)(Math.max(now, 1))}`;
}

function invalid(id: unknown, reason: string): HeraldError {
  const shown = typeof id === "string" ? JSON.stringify(id.slice(0, 64)) : typeof id;
  return new HeraldError("id.invalid", `Invalid id ${shown}: ${reason}`, {
    details: { id: typeof id === "string" ? id.slice(0, 64) : undefined },
  });
}

/** Splits `<prefix>_<ULID>`; throws HeraldError `id.invalid` when malformed or of another kind. */
export function parseId(id: string, expectedPrefix?: IdPrefix): ParsedId {
  if (typeof id !== "string") throw invalid(id, "expected a string");
  const separator = id.indexOf("_");
  if (separator === -1) throw invalid(id, "expected <prefix>_<ULID>");
  const prefix = id.slice(0, separator);
  const ulid = id.slice(separator + 1);
  if (!ID_PREFIX_PATTERN.test(prefix)) throw invalid(id, "prefix must be 1–8 lowercase letters");
  if (!ULID_PATTERN.test(ulid)) throw invalid(id, "the part after the prefix is not a ULID");
  if (expectedPrefix !== undefined && prefix !== expectedPrefix) {
    throw invalid(id, `expected a "${expectedPrefix}_" id`);
  }
  return { prefix, ulid, timestamp: decodeTime(ulid) };
}

/** True when `id` is a well-formed prefixed id (of `expectedPrefix`, when given). */
export function isId(id: unknown, expectedPrefix?: IdPrefix): id is string {
  if (typeof id !== "string") return false;
  const separator = id.indexOf("_");
  if (separator === -1) return false;
  const prefix = id.slice(0, separator);
  if (expectedPrefix !== undefined && prefix !== expectedPrefix) return false;
  return ID_PREFIX_PATTERN.test(prefix) && ULID_PATTERN.test(id.slice(separator + 1));
}

/** A random (version 4) UUID, lowercase. */
export function newUuid(): string {
  return randomUUID();
}

/** True for a UUID in canonical 8-4-4-4-12 form, any case, versions 1–8, RFC 9562 variant. */
export function isUuid(value: unknown): value is string {
  return typeof value === "string" && UUID_PATTERN.test(value);
}
