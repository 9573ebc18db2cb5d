// Number, money, time and duration formatting. Missing values always print as an em dash.

export const DASH = "—";

export function usd(value, digits = 2) {
  if (typeof value !== "number" || !Number.isFinite(value)) return DASH;
  const places = Math.abs(value) < 1 && value !== 0 ? Math.max(digits, 3) : digits;
  return `$${value.toFixed(places)}`;
}

export function perHour(value) {
  return value === null || value === undefined ? DASH : `${usd(value)}/h`;
}

/** Seconds as "45s", "12m 05s", "3h 07m" or "2d 4h". */
export function duration(seconds) {
  if (typeof seconds !== "number" || !Number.isFinite(seconds)) return DASH;
  const s = Math.max(0, Math.floor(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${pad(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor(s / 3600) % 24}h`;
}

function pad(n) {
  return String(n).padStart(2, "0");
}

export function parseTime(value) {
  if (typeof value !== "string") return null;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? null : ms;
}

/** "3m ago" / "in 4m" relative to now. */
export function relative(value, now = Date.now()) {
  const ms = typeof value === "number" ? value : parseTime(value);
  if (ms === null) return DASH;
  const delta = (ms - now) / 1000;
  return delta >= 0 ? `in ${duration(delta)}` : `${duration(-delta)} ago`;
}

/** Local date and time, to the second. */
export function dateTime(value) {
  const ms = typeof value === "number" ? value : parseTime(value);
  if (ms === null) return DASH;
  return new Date(ms).toLocaleString(undefined, { hour12: false });
}

export function minutes(value) {
  return typeof value === "number" ? `${value} min` : DASH;
}
