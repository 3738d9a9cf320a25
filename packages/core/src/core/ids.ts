// Identifiers: prefixed ULIDs (`msg_01J…`) for Herald's own records, UUIDs for event envelopes.

import { randomFillSync, randomUUID } from "node:crypto";
import type { Clock } from "@heraldjs/webhooks/internal/core/clock.js";
import { systemClock } from "@heraldjs/webhooks/internal/core/clock.js";
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";

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

const CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
const RANDOM_CHARS = 16;

// Random bytes come from a pool refilled 4 KiB at a time (one randomFillSync per 256 ids, not
// one crypto call per character). Each byte gives one base-32 digit (its low 5 bits: 256 is a
// multiple of 32, so the digits stay uniform): 80 random bits per ULID, as the spec asks.
const pool = Buffer.allocUnsafe(4096);
let poolOffset = pool.length;

function fillRandom(digits: Uint8Array): void {
  if (poolOffset + RANDOM_CHARS > pool.length) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  for (let i = 0; i < RANDOM_CHARS; i++) digits[i] = pool[poolOffset + i]! & 31;
  poolOffset += RANDOM_CHARS;
}

/** The random part plus one, in base 32; throws past the largest (never in practice: 2^80). */
function increment(digits: Uint8Array): void {
  for (let i = RANDOM_CHARS - 1; i >= 0; i--) {
    if (digits[i]! < 31) {
      digits[i]! += 1;
      return;
    }
    digits[i] = 0;
  }
  throw new HeraldError("id.invalid", "ULID random part overflowed within one millisecond");
}

function decodeTime(ulid: string): number {
  let time = 0;
  for (let i = 0; i < 10; i++) time = time * 32 + CROCKFORD.indexOf(ulid[i]!);
  return time;
}

function encodeTime(time: number): string {
  let out = "";
  for (let i = 0; i < 10; i++) {
    const digit = time % 32;
    out = CROCKFORD[digit]! + out;
    time = (time - digit) / 32;
  }
  return out;
}

type UlidFactory = (time: number) => string;

/**
 * Monotonic ULIDs (the spec's monotonicity): a time not after the last one keeps the last time
 * and increments the last random part, so ids stay strictly increasing.
 */
function monotonicFactory(): UlidFactory {
  let lastTime = -1;
  let timeText = "";
  const digits = new Uint8Array(RANDOM_CHARS);
  return (time) => {
    if (time <= lastTime) increment(digits);
    else {
      lastTime = time;
      timeText = encodeTime(time);
      fillRandom(digits);
    }
    let out = timeText;
    for (let i = 0; i < RANDOM_CHARS; i++) out += CROCKFORD[digits[i]!];
    return out;
  };
}

// One monotonic factory per clock: sharing one would let a test clock set in the future
// drag every later system-clock id forward in time (the factory never goes backwards).
const systemFactory = monotonicFactory();
const factories = new WeakMap<Clock, UlidFactory>();

function factoryFor(clock: Clock): UlidFactory {
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
  // The epoch itself is encoded as 1 ms, as ids made with the `ulid` package had it (it read a
  // time of 0 as "now"); only a ManualClock left at its default start ever hits this.
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
