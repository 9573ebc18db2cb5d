// The instance table: one keyed row per instance, updated in place (so a row being clicked is
// never replaced under the pointer), sorted, filtered by status and searched by name.

import { actionButtons } from "./actions.js";
import { badge, byId, h, replace } from "./dom.js";
import { DASH, duration, perHour, relative, usd } from "./format.js";
import { ACTIVE, STATUSES, costNow, nextAutomatic, runtimeNow, state } from "./model.js";

const view = { key: "createdAt", direction: -1, status: "", search: "", selected: null };
const rows = new Map(); // id -> <tr>
let onSelect = () => {};

const SORT_VALUES = {
  runtime: (entry) => runtimeNow(entry),
  cost: (entry) => costNow(entry) ?? -1,
  autoStopIn: (entry) => nextAutomatic(entry)?.at ?? Infinity,
};

function sortValue(entry, key) {
  if (SORT_VALUES[key]) return SORT_VALUES[key](entry);
  const value = entry.data[key];
  return value === null || value === undefined ? "" : value;
}

function compare(a, b) {
  const x = sortValue(a, view.key);
  const y = sortValue(b, view.key);
  const order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
  return order * view.direction || a.data.id.localeCompare(b.data.id);
}

function visible(entry) {
  const { status, name } = entry.data;
  if (view.search && !String(name).toLowerCase().includes(view.search)) return false;
  if (view.status === "*") return true;
  if (view.status === "") return status !== "deleted";
  if (view.status === "active") return ACTIVE.has(status);
  return status === view.status;
}

function automaticText(entry, now) {
  const next = nextAutomatic(entry, now);
  if (!next) return DASH;
  const verb = next.kind === "delete" ? "delete" : "stop";
  return next.at <= now ? `${verb} due` : `${verb} ${relative(next.at, now)}`;
}

function cells(entry, now) {
  const i = entry.data;
  return [
    ["Name", h("span", { class: "name", text: i.name })],
    ["Status", badge(i.status)],
    ["Region", i.region ?? DASH],
    ["Product", i.productName ?? DASH],
    ["GPUs", String(i.gpuNum ?? DASH)],
    ["Price", perHour(i.pricePerHour)],
    ["Uptime", duration(runtimeNow(entry, now))],
    ["Cost", usd(costNow(entry, now), 3)],
    ["Last used", i.lastUsedAt ? relative(i.lastUsedAt, now) : DASH],
    ["Auto-stop in", automaticText(entry, now)],
    ["Actions", h("span", { class: "actions" }, actionButtons(i))],
  ];
}

function newRow(id) {
  const tr = h("tr", { tabindex: "0", dataset: { id } });
  tr.addEventListener("click", () => onSelect(id));
  tr.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.target === tr) onSelect(id);
  });
  return tr;
}

/** Fill ``tr`` for ``entry``; the action cell is rebuilt only when the status changed. */
function fill(tr, entry, now) {
  const content = cells(entry, now);
  const statusChanged = tr.dataset.status !== entry.data.status;
  if (tr.children.length !== content.length) {
    replace(tr, content.map(([label]) => h("td", { dataset: { label } })));
  }
  content.forEach(([, value], index) => {
    const last = index === content.length - 1;
    if (!last || statusChanged) replace(tr.children[index], value);
  });
  tr.dataset.status = entry.data.status;
  tr.classList.toggle("selected", entry.data.id === view.selected);
}

/** Render the table from the model (all rows, or just ``ids`` when given and order holds). */
export function render() {
  const body = byId("instances").tBodies[0];
  const now = Date.now();
  const shown = [...state.instances.values()].filter(visible).sort(compare);
  const keep = new Set(shown.map((entry) => entry.data.id));
  for (const [id, tr] of rows) {
    if (!keep.has(id)) {
      tr.remove();
      rows.delete(id);
    }
  }
  shown.forEach((entry, index) => {
    let tr = rows.get(entry.data.id);
    if (!tr) rows.set(entry.data.id, (tr = newRow(entry.data.id)));
    fill(tr, entry, now);
    if (body.children[index] !== tr) body.insertBefore(tr, body.children[index] ?? null);
  });
  byId("empty").hidden = shown.length > 0;
}

function setSort(key) {
  view.direction = view.key === key ? -view.direction : 1;
  view.key = key;
  for (const th of byId("instances").tHead.rows[0].cells) {
    const sorted = th.dataset.key === key;
    th.setAttribute("aria-sort", sorted ? (view.direction > 0 ? "ascending" : "descending") : "none");
  }
  render();
}

export function select(id) {
  view.selected = id;
  render();
}

/** Wire the toolbar and headers; ``selectHandler(id)`` runs when a row is clicked. */
export function setupTable(selectHandler) {
  onSelect = selectHandler;
  const filter = byId("status-filter");
  STATUSES.forEach((status) => filter.append(h("option", { value: status, text: status })));
  filter.addEventListener("change", () => {
    view.status = filter.value;
    render();
  });
  const search = byId("search");
  search.addEventListener("input", () => {
    view.search = search.value.trim().toLowerCase();
    render();
  });
  for (const th of byId("instances").tHead.rows[0].cells) {
    const button = th.querySelector("button");
    if (button) button.addEventListener("click", () => setSort(th.dataset.key));
  }
}
