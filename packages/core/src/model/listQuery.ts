// List parameters (limit, filters, order) and keyset cursors: a cursor is the (createdAt, id) of
// the last row shown, so pages never repeat or skip a row that existed during the walk.
import { HeraldError } from "@heraldjs/webhooks/internal/core/errors.js";
import { bool, invalid, key, text } from "./check.js";
import { DEFAULT_PAGE_LIMIT, DELIVERY_STATUSES, MAX_PAGE_LIMIT } from "./constants.js";
import type { DeliveryListOptions, EndpointListOptions } from "./deliveryOperations.js";
import type { DeliveryStatus, PageOptions } from "./deliveryRecords.js";
import { toIso } from "./time.js";

type ListOrder = "newest" | "oldest";

/** Where the previous page stopped: rows after it (in the list's order) come next. */
interface Keyset {
  createdAt: string;
  id: string;
}

export interface ListWindow {
  limit: number;
  order: ListOrder;
  after: Keyset | null;
}

interface CursorBody {
  /** Which list the cursor belongs to: a delivery cursor must not page endpoints. */
  k: string;
  o: ListOrder;
  c: string;
  i: string;
}

function badCursor(): HeraldError {
  return new HeraldError("cursor.invalid", "The cursor is not one this list returned", {
    details: { field: "cursor" },
  });
}

function encodeCursor(kind: string, order: ListOrder, last: Keyset): string {
  const body: CursorBody = { k: kind, o: order, c: last.createdAt, i: last.id };
  return Buffer.from(JSON.stringify(body), "utf8").toString("base64url");
}

function decodeCursor(kind: string, order: ListOrder, cursor: unknown): Keyset | null {
  if (cursor === undefined || cursor === null) return null;
  if (typeof cursor !== "string" || cursor.length === 0 || cursor.length > 512) throw badCursor();
  let body: Partial<CursorBody>;
  try {
    body = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8")) as Partial<CursorBody>;
  } catch {
    throw badCursor();
  }
  if (body.k !== kind || body.o !== order || typeof body.c !== "string") throw badCursor();
  try {
    return {
      createdAt: toIso(body.c, "cursor", "cursor.invalid"),
      id: key(body.i, "cursor", "cursor.invalid"),
    };
  } catch {
    throw badCursor();
  }
}

function pageWindow(kind: string, options: PageOptions, order: ListOrder): ListWindow {
  const limit = options.limit ?? DEFAULT_PAGE_LIMIT;
  if (!Number.isSafeInteger(limit) || limit < 1 || limit > MAX_PAGE_LIMIT) {
    throw invalid("query.invalid", "limit", `must be an integer from 1 to ${MAX_PAGE_LIMIT}`);
  }
  return { limit, order, after: decodeCursor(kind, order, options.cursor) };
}

interface DeliveryQuery extends ListWindow {
  /** Null = every status. */
  statuses: DeliveryStatus[] | null;
  endpointId: string | null;
  messageId: string | null;
  createdSince: string | null;
}

export function deliveryQuery(options: DeliveryListOptions = {}): DeliveryQuery {
  const code = "query.invalid";
  const order = options.order ?? "newest";
  if (order !== "newest" && order !== "oldest") {
    throw invalid(code, "order", 'must be "newest" or "oldest"');
  }
  let statuses: DeliveryStatus[] | null = null;
  if (options.status !== undefined) {
    const list = (Array.isArray(options.status) ? options.status : [options.status]) as unknown[];
    if (list.length === 0) throw invalid(code, "status", "must name at least one status");
    for (const status of list) {
      if (!DELIVERY_STATUSES.includes(status as DeliveryStatus)) {
        throw invalid(code, "status", `must be one of ${DELIVERY_STATUSES.join(", ")}`);
      }
    }
    statuses = [...new Set(list as DeliveryStatus[])];
  }
  return {
    ...pageWindow("deliveries", options, order),
    statuses,
    endpointId:
      options.endpointId === undefined ? null : key(options.endpointId, "endpointId", code),
    messageId: options.messageId === undefined ? null : key(options.messageId, "messageId", code),
    createdSince:
      options.createdSince === undefined ? null : toIso(options.createdSince, "createdSince", code),
  };
}

interface EndpointQuery extends ListWindow {
  tenant: string | null;
  enabled: boolean | null;
}

export function endpointQuery(options: EndpointListOptions = {}): EndpointQuery {
  const code = "query.invalid";
  return {
    ...pageWindow("endpoints", options, "oldest"),
    tenant: options.tenant === undefined ? null : text(options.tenant, "tenant", code),
    enabled: options.enabled === undefined ? null : bool(options.enabled, "enabled", code),
  };
}

/** True when `row` comes after the cursor in the list's order. */
export function isAfter(row: Keyset, after: Keyset | null, order: ListOrder): boolean {
  if (after === null) return true;
  const cmp =
    row.createdAt === after.createdAt
      ? compareText(row.id, after.id)
      : compareText(row.createdAt, after.createdAt);
  return order === "newest" ? cmp < 0 : cmp > 0;
}

/** Code-unit order, which for ASCII ids is the byte order PostgreSQL's "C" collation uses. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Orders rows for a list: oldest first by (createdAt, id), or the reverse. */
export function compareKeyset(a: Keyset, b: Keyset, order: ListOrder): number {
  const cmp =
    a.createdAt === b.createdAt ? compareText(a.id, b.id) : compareText(a.createdAt, b.createdAt);
  return order === "newest" ? -cmp : cmp;
}

/** Cuts the `limit + 1` rows a backend fetched into a page. */
export function toPage<T extends Keyset>(
  kind: string,
  rows: T[],
  page: ListWindow,
): { data: T[]; nextCursor: string | null } {
  if (rows.length <= page.limit) return { data: rows, nextCursor: null };
  const data = rows.slice(0, page.limit);
  return { data, nextCursor: encodeCursor(kind, page.order, data[data.length - 1]!) };
}
