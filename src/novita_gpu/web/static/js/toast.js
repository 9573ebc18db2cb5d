// One line of feedback at the top of the page: errors stay until closed, notes fade.

import { byId, h, replace } from "./dom.js";

let timer = null;

function show(text, kind, sticky) {
  const toast = byId("toast");
  clearTimeout(timer);
  toast.className = `toast toast-${kind}`;
  const close = h("button", { type: "button", class: "link-button", text: "Dismiss" });
  close.addEventListener("click", () => {
    toast.hidden = true;
  });
  replace(toast, h("span", { text }), close);
  toast.hidden = false;
  if (!sticky) timer = setTimeout(() => (toast.hidden = true), 5000);
}

export function showError(text) {
  show(text, "error", true);
}

export function showInfo(text) {
  show(text, "info", false);
}
