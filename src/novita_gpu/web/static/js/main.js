// Start-up: wire the page, load the instances, then follow the event stream.

import { api, describe } from "./api.js";
import { byId } from "./dom.js";
import { closeDetail, detailEvent, detailId, onDetailClose, openDetail, renderDetail } from "./detail.js";
import { get, onChange, setAll, upsert } from "./model.js";
import { refreshOverview, renderOverview } from "./overview.js";
import { EventStream } from "./stream.js";
import { render, select, setupTable } from "./table.js";
import { setupCreate } from "./create.js";
import { showError } from "./toast.js";
import { setupToken } from "./token.js";

const OVERVIEW_EVERY_MS = 30000;
// Open the stream once the first loads are done: tools (and people) that wait for the page to
// go quiet should see it quiet, and the snapshot taken on connect covers the gap.
const STREAM_DELAY_MS = 1000;

async function loadInstances() {
  const all = [];
  let cursor = null;
  do {
    const query = `limit=500${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
    const page = await api("GET", `/api/instances?${query}`);
    all.push(...(page.instances ?? []));
    cursor = page.nextCursor ?? null;
  } while (cursor && all.length < 5000);
  return all;
}

let buffered = null; // events that arrive while a snapshot loads; applied after it

async function snapshot() {
  buffered = [];
  try {
    setAll(await loadInstances());
    buffered.forEach(upsert);
  } catch (error) {
    showError(`Could not load instances: ${describe(error)}`);
  } finally {
    buffered = null;
  }
}

let overviewTimer = null;

function overviewSoon() {
  clearTimeout(overviewTimer);
  overviewTimer = setTimeout(refreshOverview, 1500);
}

function onEvent(type, payload) {
  if (payload && payload.instance) {
    if (buffered) buffered.push(payload.instance);
    else upsert(payload.instance);
  }
  detailEvent(payload);
  overviewSoon();
}

function streamState(text) {
  const holder = byId("stream-state");
  holder.textContent = text === "live" ? "live" : text;
  holder.className = `stream-state stream-${text === "live" ? "live" : "down"}`;
}

function select_(id) {
  select(id);
  openDetail(id);
}

async function main() {
  const stream = new EventStream({
    onEvent, onState: streamState, onOpen: ({ reset }) => reset && snapshot(),
  });
  setupToken(() => {
    snapshot();
    stream.start();
    stream.restart();
  });
  setupTable(select_);
  setupCreate();
  onDetailClose(() => select(null));
  onChange((ids) => {
    render();
    renderOverview();
    if (detailId() && (!ids || ids.includes(detailId()))) renderDetail();
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape" && detailId() && !document.querySelector("dialog[open]")) closeDetail();
  });
  window.addEventListener("pagehide", () => stream.stop());
  window.addEventListener("pageshow", (event) => event.persisted && stream.start());
  await Promise.allSettled([snapshot(), refreshOverview()]);
  setTimeout(() => stream.start(), STREAM_DELAY_MS);
  setInterval(render, 1000); // uptime, cost and countdowns move with the clock
  setInterval(refreshOverview, OVERVIEW_EVERY_MS);
  if (get(detailId())) renderDetail();
}

main();
