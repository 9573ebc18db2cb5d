// Start, stop and delete, each after a confirmation dialog; errors come from the API's envelope.

import { api, describe } from "./api.js";
import { byId, h } from "./dom.js";
import { allowed, get, upsert } from "./model.js";
import { showError, showInfo } from "./toast.js";

const LABELS = { start: "Start", stop: "Stop", delete: "Delete" };
const WARNINGS = {
  start: "It will be billed again while it runs.",
  stop: "Processes on it end; its disk is kept.",
  delete: "It is removed from Novita with its disk. This cannot be undone.",
};

/** Ask in the confirmation dialog; resolves true when confirmed. */
export function confirmAction(title, message, okLabel) {
  const dialog = byId("confirm-dialog");
  byId("confirm-title").textContent = title;
  byId("confirm-message").textContent = message;
  byId("confirm-ok").textContent = okLabel;
  dialog.returnValue = "";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "confirm"), {
      once: true,
    });
    dialog.showModal();
    byId("confirm-cancel").focus();
  });
}

function request(kind, id) {
  const path = `/api/instances/${encodeURIComponent(id)}`;
  return kind === "delete" ? api("DELETE", path) : api("POST", `${path}/${kind}`);
}

/** Confirm, then run ``kind`` on ``instance``; the answer's instance updates the table. */
export async function runAction(kind, instance) {
  const label = LABELS[kind];
  const ok = await confirmAction(
    `${label} ${instance.name}?`,
    `${label} instance "${instance.name}" (${instance.status}). ${WARNINGS[kind]}`,
    `${label} ${instance.name}`,
  );
  if (!ok) return;
  try {
    const answer = await request(kind, instance.id);
    if (answer && answer.instance) upsert(answer.instance);
    showInfo(`${label}: ${instance.name} is ${answer?.status ?? "requested"}`);
  } catch (error) {
    showError(`${label} ${instance.name} failed: ${describe(error)}`);
  }
}

/** The action buttons for ``instance``, disabled where its status does not allow them. */
export function actionButtons(instance) {
  const can = allowed(instance);
  return Object.keys(LABELS).map((kind) =>
    h("button", {
      type: "button",
      class: kind === "delete" ? "small danger" : "small",
      disabled: !can[kind],
      title: can[kind] ? `${LABELS[kind]} ${instance.name}` : `Not while ${instance.status}`,
      dataset: { action: kind },
      text: LABELS[kind],
      onclick: (event) => {
        event.stopPropagation();
        runAction(kind, get(instance.id) ?? instance);
      },
    }),
  );
}
