// What the dashboard knows: the instances by id (from the list, then from each event's
// instance object), the auto-stop settings, and the figures derived from them as time passes.

import { parseTime } from "./format.js";

/** Statuses in which upstream runs the instance: runtime and cost accrue. */
export const ACCRUING = new Set(["running", "health_checking", "ready", "stopping"]);
/** Statuses that are billed now or soon. */
export const ACTIVE = new Set([...ACCRUING, "creating", "starting", "migrating"]);
export const STARTABLE = new Set(["stopped", "failed", "terminated"]);
export const STOPPABLE = new Set(["creating", "starting", "running", "health_checking", "ready"]);
export const DELETABLE_EXCEPT = new Set(["deleting", "deleted"]);

export const STATUSES = [
  "creating", "starting", "running", "health_checking", "ready", "stopping", "stopped",
  "deleting", "deleted", "migrating", "failed", "terminated",
];

/** Which actions the status allows (the server has the last word; this only greys buttons). */
export function allowed(instance) {
  return {
    start: STARTABLE.has(instance.status),
    stop: STOPPABLE.has(instance.status),
    delete: !DELETABLE_EXCEPT.has(instance.status),
  };
}

export const state = {
  instances: new Map(), // id -> {data, at}: the instance object and when we received it
  autoStop: null, // GET /api/instances/auto-stop/stats, when the server has it
  listeners: new Set(),
};

export function onChange(listener) {
  state.listeners.add(listener);
}

function changed(ids) {
  state.listeners.forEach((listener) => listener(ids));
}

/** Replace everything with a fresh list. */
export function setAll(instances) {
  state.instances.clear();
  instances.forEach((data) => state.instances.set(data.id, { data, at: Date.now() }));
  changed(null);
}

/** Insert or update one instance object. */
export function upsert(data) {
  if (!data || typeof data.id !== "string") return;
  state.instances.set(data.id, { data, at: Date.now() });
  changed([data.id]);
}

export function get(id) {
  const entry = state.instances.get(id);
  return entry ? entry.data : null;
}

/** Running seconds now: the server's figure plus the time since, while it accrues. */
export function runtimeNow(entry, now = Date.now()) {
  const base = entry.data.runtimeSeconds ?? 0;
  return ACCRUING.has(entry.data.status) ? base + (now - entry.at) / 1000 : base;
}

export function costNow(entry, now = Date.now()) {
  const { estimatedCostUsd: cost, pricePerHour: price } = entry.data;
  if (typeof cost !== "number") return null;
  const extra = runtimeNow(entry, now) - (entry.data.runtimeSeconds ?? 0);
  return cost + (extra / 3600) * (price ?? 0);
}

function minutesMs(value) {
  return typeof value === "number" ? value * 60000 : null;
}

/** When the idle rule would stop it: last heartbeat (or ready time, within the grace period
 * after a create or start) plus the idle minutes. */
function idleDeadline(instance, stats) {
  if (!instance.autoStop || instance.autoStop.enabled === false) return null;
  if (instance.status !== "ready" && instance.status !== "running") return null;
  const idle = minutesMs(instance.autoStop.idleMinutes ?? stats?.defaultInactivityThresholdMinutes);
  const lastUsed = parseTime(instance.lastUsedAt);
  if (idle === null) return null;
  if (lastUsed !== null) return lastUsed + idle;
  const readyAt = parseTime(instance.readyAt);
  if (readyAt === null) return null;
  const started = parseTime(instance.startedAt);
  const created = parseTime(instance.createdAt);
  const restarted = started !== null && created !== null && started - created > 1000;
  const grace = minutesMs(
    restarted ? stats?.startupGracePeriodMinutes : stats?.creationGracePeriodMinutes,
  );
  const graceEnd = grace === null ? null : (restarted ? started : created) + grace;
  return Math.max(readyAt + idle, graceEnd ?? 0);
}

/** When the runtime cap would stop it. */
function capDeadline(entry, now) {
  const cap = minutesMs(entry.data.maxRuntimeMinutes);
  if (cap === null || !ACCRUING.has(entry.data.status)) return null;
  return now + cap - runtimeNow(entry, now) * 1000;
}

/** {kind: "stop" | "delete", at: ms} for the next automatic action, or null. */
export function nextAutomatic(entry, now = Date.now()) {
  const instance = entry.data;
  if (instance.status === "stopped") {
    const after = minutesMs(instance.autoDelete?.afterStoppedMinutes);
    const stoppedAt = parseTime(instance.stoppedAt);
    return after !== null && stoppedAt !== null ? { kind: "delete", at: stoppedAt + after } : null;
  }
  const times = [idleDeadline(instance, state.autoStop), capDeadline(entry, now)];
  const due = times.filter((t) => t !== null);
  return due.length ? { kind: "stop", at: Math.min(...due) } : null;
}
