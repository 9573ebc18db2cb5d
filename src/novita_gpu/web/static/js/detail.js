// The detail panel of one instance: connection details, readiness probes, settings, event
// history (kept live from the stream) and webhook deliveries with their attempts.

import { actionButtons } from "./actions.js";
import { api, describe } from "./api.js";
import { badge, byId, facts, h, link, replace } from "./dom.js";
import { DASH, dateTime, duration, minutes, perHour, relative, usd } from "./format.js";
import { costNow, get, runtimeNow, state } from "./model.js";
import { showError, showInfo } from "./toast.js";

const panel = { id: null, events: [], deliveries: [], password: null };
let onClose = () => {};

function section(title, ...body) {
  return h("section", { class: "card" }, h("h3", { text: title }), ...body);
}

async function copy(text) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    const field = h("textarea", { readonly: true, class: "offscreen" });
    field.value = text;
    document.body.append(field);
    field.select();
    document.execCommand("copy");
    field.remove();
  }
  showInfo("Copied to the clipboard");
}

async function revealPassword() {
  try {
    const full = await api("GET", `/api/instances/${encodeURIComponent(panel.id)}?includeSecrets=true`);
    panel.password = full?.connectionDetails?.sshPassword ?? "(none)";
  } catch (error) {
    showError(`Could not read the password: ${describe(error)}`);
  }
  renderDetail();
}

function passwordLine() {
  if (panel.password === null) {
    return h("button", { type: "button", class: "small", text: "Show password", onclick: revealPassword });
  }
  const hide = () => {
    panel.password = null;
    renderDetail();
  };
  return h("span", {}, h("code", { text: panel.password }), " ",
    h("button", { type: "button", class: "small", text: "Hide", onclick: hide }));
}

function connection(instance) {
  const c = instance.connectionDetails ?? {};
  const ssh = typeof c.ssh === "string" && c.ssh ? c.ssh : null;
  const endpoints = Object.entries(c.endpoints ?? {});
  return section("Connection details", facts([
    ["Jupyter", c.jupyter ? link(c.jupyter, "Open Jupyter") : null],
    ["Web terminal", c.webTerminal ? link(c.webTerminal, "Open web terminal") : null],
    ["SSH", ssh && h("span", { class: "ssh" }, h("code", { text: ssh }), " ",
      h("button", { type: "button", class: "small", text: "Copy SSH command", onclick: () => copy(ssh) }))],
    ["SSH password", ssh && passwordLine()],
    ["Endpoints", endpoints.length ? h("ul", { class: "plain" },
      endpoints.map(([port, url]) => h("li", {}, `${port}: `, link(url)))) : null],
  ]));
}

function probes(instance) {
  const check = instance.healthCheck ?? {};
  const rows = (check.endpoints ?? []).map((e) => h("tr", {},
    h("td", { text: e.port ?? DASH }), h("td", {}, link(e.endpoint)), h("td", {}, badge(e.status)),
    h("td", { text: e.httpStatus ?? DASH }),
    h("td", { text: typeof e.responseTimeMs === "number" ? `${e.responseTimeMs} ms` : DASH }),
    h("td", { text: e.error ?? "" })));
  return section("Readiness probes",
    h("p", {}, badge(check.status), ` checked ${check.checkedAt ? relative(check.checkedAt) : DASH}`),
    rows.length ? table(["Port", "Endpoint", "Status", "HTTP", "Time", "Error"], rows) : null);
}

function table(headings, rows) {
  return h("div", { class: "table-wrap" }, h("table", { class: "compact" },
    h("thead", {}, h("tr", {}, headings.map((text) => h("th", { text })))), h("tbody", {}, rows)));
}

function settings(instance) {
  const auto = instance.autoStop ?? {};
  return section("Settings", facts([
    ["Auto-stop", auto.enabled === false ? "off" : `after ${minutes(auto.idleMinutes ?? state.autoStop?.defaultInactivityThresholdMinutes)} idle`],
    ["Auto-delete", instance.autoDelete?.afterStoppedMinutes != null ? `${minutes(instance.autoDelete.afterStoppedMinutes)} after stop` : "off"],
    ["Runtime cap", instance.maxRuntimeMinutes != null ? minutes(instance.maxRuntimeMinutes) : "off"],
    ["Spot recovery", instance.spotRecovery],
    ["Billing", instance.billingMode],
    ["Webhook URL", instance.webhookUrl],
    ["Template", instance.templateId],
    ["Disk", instance.rootfsSize ? `${instance.rootfsSize} GB` : null],
  ]));
}

function summary(instance) {
  const entry = state.instances.get(instance.id);
  return section("Instance", facts([
    ["Id", h("code", { text: instance.id })],
    ["Novita id", instance.novitaInstanceId],
    ["Status", h("span", {}, badge(instance.status), ` upstream: ${instance.upstreamStatus ?? DASH}`)],
    ["Product", `${instance.productName ?? DASH} x${instance.gpuNum ?? 1} in ${instance.region ?? DASH}`],
    ["Price", perHour(instance.pricePerHour)],
    ["Uptime / cost", entry ? `${duration(runtimeNow(entry))} / ${usd(costNow(entry), 3)}` : null],
    ["Created", dateTime(instance.createdAt)],
    ["Ready", instance.readyAt ? dateTime(instance.readyAt) : null],
    ["Last used", instance.lastUsedAt ? relative(instance.lastUsedAt) : null],
    ["Last error", instance.lastError ? h("span", { class: "error", text: instance.lastError }) : null],
  ]));
}

function eventNote(event) {
  const data = event.data ?? {};
  const parts = [data.reason, data.error, data.message].filter((v) => typeof v === "string");
  return parts.join(" · ");
}

function history() {
  const rows = panel.events.map((event) => h("tr", {},
    h("td", { text: dateTime(event.timestamp) }), h("td", {}, h("code", { text: event.type })),
    h("td", {}, badge(event.status)), h("td", { text: eventNote(event) })));
  return section("Event history", rows.length
    ? table(["Time", "Event", "Status", "Note"], rows) : h("p", { text: "No events yet." }));
}

async function showAttempts(delivery, holder) {
  try {
    const full = await api("GET", `/api/webhooks/deliveries/${encodeURIComponent(delivery.id)}`);
    const rows = (full.attempts ?? []).map((a) => h("tr", {},
      h("td", { text: a.attemptNumber }), h("td", { text: dateTime(a.startedAt) }),
      h("td", { text: a.outcome }), h("td", { text: a.statusCode ?? DASH }),
      h("td", { text: `${a.durationMs} ms` }), h("td", { text: a.error ?? a.responseExcerpt ?? "" })));
    replace(holder, rows.length ? table(["#", "Started", "Outcome", "HTTP", "Time", "Error / response"], rows)
      : h("p", { text: "No attempts yet." }));
  } catch (error) {
    replace(holder, h("p", { class: "error", text: describe(error) }));
  }
}

async function retry(delivery) {
  try {
    await api("POST", `/api/webhooks/deliveries/${encodeURIComponent(delivery.id)}/retry`);
    showInfo("Delivery queued again");
    await loadDeliveries();
  } catch (error) {
    showError(`Retry failed: ${describe(error)}`);
  }
}

function deliveryItem(delivery) {
  const holder = h("div", { class: "attempts" });
  return h("li", { class: "delivery" },
    h("div", {}, h("code", { text: delivery.eventType }), " ", badge(delivery.status),
      ` ${delivery.target ?? ""} ${delivery.url ?? ""}`),
    h("div", { class: "muted", text: `${delivery.attemptCount} attempt(s)` +
      (delivery.lastStatusCode ? `, last HTTP ${delivery.lastStatusCode}` : "") +
      (delivery.lastError ? `, ${delivery.lastError}` : "") }),
    h("div", { class: "buttons" },
      h("button", { type: "button", class: "small", text: "Attempts", onclick: () => showAttempts(delivery, holder) }),
      h("button", { type: "button", class: "small", text: "Retry", disabled: delivery.status !== "failed",
        title: delivery.status === "failed" ? "Queue it again" : "Only failed deliveries", onclick: () => retry(delivery) })),
    holder);
}

function deliveries() {
  return section("Webhook deliveries", panel.deliveries.length
    ? h("ul", { class: "plain" }, panel.deliveries.map(deliveryItem))
    : h("p", { text: "No webhook deliveries (no webhook URL, or none yet)." }));
}

/** Draw the panel for the selected instance from the model. */
export function renderDetail() {
  const root = byId("detail");
  const instance = panel.id && get(panel.id);
  if (!instance) {
    root.hidden = true;
    return;
  }
  const close = h("button", { type: "button", class: "small", text: "Close", onclick: () => closeDetail() });
  replace(root,
    h("div", { class: "detail-head" }, h("h2", { text: instance.name }), badge(instance.status),
      h("span", { class: "actions" }, actionButtons(instance)), close),
    h("div", { class: "detail-grid" }, summary(instance), connection(instance), probes(instance),
      settings(instance), history(), deliveries()));
  root.hidden = false;
}

async function loadEvents() {
  const id = panel.id;
  try {
    const body = await api("GET", `/api/instances/${encodeURIComponent(id)}/events`);
    if (panel.id === id) panel.events = (body.events ?? []).slice().reverse();
  } catch (error) {
    showError(`Could not load the event history: ${describe(error)}`);
  }
}

async function loadDeliveries() {
  const id = panel.id;
  try {
    const body = await api("GET", `/api/webhooks/deliveries?instanceId=${encodeURIComponent(id)}&limit=50`);
    if (panel.id === id) panel.deliveries = body.deliveries ?? [];
  } catch (error) {
    showError(`Could not load webhook deliveries: ${describe(error)}`);
  }
  renderDetail();
}

/** Open the panel for ``id`` and load its history and deliveries. */
export async function openDetail(id) {
  Object.assign(panel, { id, events: [], deliveries: [], password: null });
  renderDetail();
  byId("detail").scrollIntoView({ behavior: "smooth", block: "start" });
  await loadEvents();
  await loadDeliveries();
}

export function closeDetail() {
  panel.id = null;
  renderDetail();
  onClose();
}

export function onDetailClose(handler) {
  onClose = handler;
}

/** A streamed event: add it to the history of the open instance, refresh its deliveries soon. */
export function detailEvent(event) {
  if (!panel.id || event.instanceId !== panel.id) return;
  if (!panel.events.some((known) => known.id === event.id)) {
    panel.events.unshift({ id: event.id, type: event.event ?? event.type, status: event.status,
      timestamp: event.timestamp, data: event.data ?? {} });
  }
  renderDetail();
  setTimeout(loadDeliveries, 1500);
}

export function detailId() {
  return panel.id;
}
