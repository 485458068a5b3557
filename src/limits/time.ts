/** Limits reset on UTC boundaries, so every server and member sees the same reset instant. */
const DAY_MS = 86_400_000;

export function utcDayStart(now: number): number {
  return Math.floor(now / DAY_MS) * DAY_MS;
}

export function nextUtcMidnight(now: number): number {
  return utcDayStart(now) + DAY_MS;
}

export function utcMonthStart(now: number): number {
  const date = new Date(now);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
}

export function nextUtcMonth(now: number): number {
  const date = new Date(now);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
}

/** A Discord timestamp that each reader sees in their own time zone, e.g. "in 3 hours". */
export function relativeTime(ms: number): string {
  return `<t:${Math.floor(ms / 1000)}:R>`;
}
