// Strict RFC 3339 date-times (the ISO 8601 profile used on the wire): no local times, no
// calendar roll-over (JavaScript's Date reads 2024-02-30 as 1 March; this does not).

const DATE_TIME =
  /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.\d{1,9})?(?:Z|[+-](\d{2}):(\d{2}))$/;

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/**
 * True for `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`: uppercase `T` and `Z`, an explicit
 * offset, 1–9 fraction digits, a real calendar date, no leap second (Date cannot hold one).
 */
export function isIsoDateTime(value: unknown): value is string {
  if (typeof value !== "string") return false;
  const m = DATE_TIME.exec(value);
  if (m === null) return false;
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return false;
  if (hour > 23 || minute > 59 || second > 59) return false;
  if (m[7] !== undefined && (Number(m[7]) > 23 || Number(m[8]) > 59)) return false;
  return Number.isFinite(Date.parse(value));
}
