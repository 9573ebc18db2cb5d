// The overview cards: service health (mode, services, upstream breaker), spend per hour and the
// money auto-stop saved, and the auto-stop scheduler's last and next check. A figure the server
// does not report (an older version) shows as a dash.

import { optional } from "./api.js";
import { badge, byId, facts, h, replace } from "./dom.js";
import { DASH, dateTime, duration, minutes, perHour, relative, usd } from "./format.js";
import { ACCRUING, state } from "./model.js";

const BREAKER = { up: "closed", degraded: "half-open (testing)", down: "open (calls refused)" };

/** The first of ``paths`` ("a.b.c") that holds a number in ``obj``, else null. */
export function pick(obj, paths) {
  for (const path of paths) {
    const value = path.split(".").reduce((node, key) => (node == null ? node : node[key]), obj);
    if (typeof value === "number") return value;
  }
  return null;
}

// /health reports them under "cost", the auto-stop stats under "spend".
const SPEND_PATHS = ["cost.runningUsdPerHour", "spend.runningUsdPerHour"];
const SAVED_PATHS = ["cost.savedByAutoStopUsd", "spend.savedByAutoStopUsd"];

function healthCard(health) {
  const services = health.services ?? {};
  return [
    h("p", {}, badge(health.status), ` version ${health.version ?? DASH}, up ${duration(health.uptime)}`),
    facts([
      ...Object.entries(services).map(([name, value]) => [name, badge(value)]),
      ["Upstream breaker", BREAKER[services.upstream] ?? DASH],
      ["Webhook backlog", health.webhooks ? `${health.webhooks.pending} pending, ${health.webhooks.failed} failed` : null],
    ]),
  ];
}

function localSpend() {
  let total = 0;
  for (const { data } of state.instances.values()) {
    if (ACCRUING.has(data.status)) total += data.pricePerHour ?? 0;
  }
  return total;
}

function spendCard(health, stats) {
  const perHour_ = pick(health, SPEND_PATHS) ?? pick(stats, SPEND_PATHS);
  const saved = pick(health, SAVED_PATHS) ?? pick(stats, SAVED_PATHS);
  return facts([
    ["Running spend", perHour_ !== null ? perHour(perHour_) : `${perHour(localSpend())} (from the table)`],
    ["Saved by auto-stop", saved !== null ? usd(saved) : DASH],
  ]);
}

function resultText(result) {
  if (!result) return DASH;
  const parts = ["checked", "eligible", "stopped", "deleted", "errors"]
    .filter((key) => typeof result[key] === "number")
    .map((key) => `${result[key]} ${key}`);
  return `${parts.join(", ")}${result.dryRun ? " (dry run)" : ""}`;
}

function autoStopCard(stats) {
  if (!stats) return h("p", { text: "This server does not report auto-stop stats." });
  const acted = (stats.lastResult?.instances ?? []).map((item) =>
    h("li", { text: `${item.name ?? item.instanceId}: ${item.action} (${item.reason})` }));
  return [
    facts([
      ["Scheduler", stats.schedulerRunning === undefined ? DASH : stats.schedulerRunning ? "running" : "off"],
      ["Interval", minutes(stats.checkIntervalMinutes)],
      ["Idle threshold", minutes(stats.defaultInactivityThresholdMinutes)],
      ["Last check", stats.lastCheckAt ? `${relative(stats.lastCheckAt)} (${dateTime(stats.lastCheckAt)})` : DASH],
      ["Next check", stats.nextCheckAt ? relative(stats.nextCheckAt) : DASH],
      ["Last result", resultText(stats.lastResult)],
    ]),
    acted.length ? h("ul", { class: "plain" }, acted) : null,
  ];
}

function setMode(health) {
  const mode = byId("mode");
  mode.textContent = health.mode === "emulator" ? "emulator: nothing is billed" : health.mode ?? DASH;
  mode.className = `mode mode-${health.mode === "live" ? "live" : "emulator"}`;
}

let last = { health: null, stats: null };
let statsRoute = true; // false once the server answered 404: not asked again on this page

async function autoStopStats() {
  if (!statsRoute) return null;
  const stats = await optional("GET", "/api/instances/auto-stop/stats");
  statsRoute = stats !== null;
  return stats;
}

/** Fetch /health and the auto-stop stats, and redraw the cards. */
export async function refreshOverview() {
  const [health, stats] = await Promise.allSettled([
    fetch("/health", { cache: "no-store" }).then((r) => r.json()),
    autoStopStats(),
  ]);
  last = {
    health: health.status === "fulfilled" ? health.value : null,
    stats: stats.status === "fulfilled" ? stats.value : null,
  };
  state.autoStop = last.stats;
  renderOverview();
}

/** Redraw from the last fetched figures (the local spend follows the table). */
export function renderOverview() {
  const { health, stats } = last;
  if (health) setMode(health);
  replace(byId("health-body"), health ? healthCard(health) : h("p", { text: "Health unavailable" }));
  replace(byId("spend-body"), spendCard(health ?? {}, stats ?? {}));
  replace(byId("autostop-body"), autoStopCard(stats));
}
