// The create form: a product picker fed by /api/products (price per region, cheapest first),
// then POST /api/instances. Errors show the API's message, with the fields it names.

import { api, describe, ApiError } from "./api.js";
import { byId, h, replace } from "./dom.js";
import { DASH, perHour } from "./format.js";
import { upsert } from "./model.js";
import { showInfo } from "./toast.js";

let offers = [];

function priceOf(offer, billing) {
  return billing === "onDemand" ? offer.onDemandPrice ?? offer.pricePerHour : offer.spotPrice ?? offer.pricePerHour;
}

function renderOffers() {
  const product = byId("create-product").value;
  const billing = byId("create-billing").value;
  const mine = offers.filter((o) => o.productName === product);
  const region = byId("create-region");
  const chosen = region.value;
  replace(region, h("option", { value: "", text: "cheapest available" }),
    mine.map((o) => h("option", { value: o.region, text: `${o.region} ${perHour(priceOf(o, billing))}${o.available ? "" : " (unavailable)"}` })));
  region.value = mine.some((o) => o.region === chosen) ? chosen : "";
  const rows = mine.map((o) => h("tr", {},
    h("td", { text: o.region }), h("td", { class: "num", text: perHour(priceOf(o, billing)) }),
    h("td", { text: o.available ? "available" : o.reason ?? "unavailable" })));
  replace(byId("create-offers"), rows.length ? h("table", { class: "compact" },
    h("thead", {}, h("tr", {}, ["Region", `Price (${billing})`, "Availability"].map((text) => h("th", { text })))),
    h("tbody", {}, rows)) : h("p", { text: "No offers for this product." }));
}

async function loadProducts() {
  const select = byId("create-product");
  try {
    const body = await api("GET", "/api/products");
    offers = body.products ?? [];
  } catch (error) {
    showFormError(`Could not load products: ${describe(error)}`);
    offers = [];
  }
  const names = [...new Set(offers.map((o) => o.productName))];
  const current = select.value;
  replace(select, names.map((name) => h("option", { value: name, text: name })));
  if (names.includes(current)) select.value = current;
  renderOffers();
}

function showFormError(text) {
  const holder = byId("create-error");
  holder.textContent = text;
  holder.hidden = !text;
}

function errorText(error) {
  if (!(error instanceof ApiError) || !Array.isArray(error.details)) return describe(error);
  const fields = error.details.map((d) => `${d.field ?? ""}: ${d.message ?? ""}`).join("; ");
  return `${describe(error)}${fields ? ` (${fields})` : ""}`;
}

function numberOrNull(value) {
  return value === "" ? null : Number(value);
}

/** The request body from the form's fields. */
function body(form) {
  const f = form.elements;
  const request = {
    name: f.name.value.trim(),
    productName: f.productName.value,
    templateId: f.templateId.value.trim(),
    gpuNum: Number(f.gpuNum.value),
    billingMode: f.billingMode.value,
  };
  if (f.region.value) request.region = f.region.value;
  const idle = numberOrNull(f.idleMinutes.value);
  if (!f.autoStopEnabled.checked || idle !== null) {
    request.autoStop = { enabled: f.autoStopEnabled.checked };
    if (idle !== null) request.autoStop.idleMinutes = idle;
  }
  return request;
}

async function submit(event) {
  event.preventDefault();
  const form = byId("create-form");
  if (event.submitter && event.submitter.value === "cancel") {
    byId("create-dialog").close();
    return;
  }
  if (!form.reportValidity()) return;
  const button = byId("create-submit");
  button.disabled = true;
  showFormError("");
  try {
    const answer = await api("POST", "/api/instances", body(form));
    if (answer.instance) upsert(answer.instance);
    byId("create-dialog").close();
    form.reset();
    showInfo(`Creating ${answer.instance?.name ?? "instance"} in ${answer.region ?? DASH}`);
  } catch (error) {
    showFormError(errorText(error));
  } finally {
    button.disabled = false;
  }
}

export function setupCreate() {
  byId("create-button").addEventListener("click", () => {
    showFormError("");
    byId("create-dialog").showModal();
    loadProducts();
  });
  byId("create-product").addEventListener("change", renderOffers);
  byId("create-billing").addEventListener("change", renderOffers);
  byId("create-form").addEventListener("submit", submit);
}
