// The token prompt, shown when the API answers 401. The token is kept in sessionStorage (this
// browser session only) by api.js.

import { setToken, setTokenPrompt, token } from "./api.js";
import { byId } from "./dom.js";

let pending = null;

/** Open the dialog; resolves with the entered token, or null when cancelled. */
function ask(rejected) {
  if (pending) return pending;
  const dialog = byId("token-dialog");
  byId("token-message").textContent = rejected
    ? "The server refused this token. Enter another one (kept for this browser session only)."
    : "This server needs an API token. It is kept for this browser session only.";
  const input = byId("token-input");
  input.value = "";
  dialog.returnValue = "";
  pending = new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      pending = null;
      const value = input.value.trim();
      input.value = "";
      resolve(dialog.returnValue === "save" && value ? value : null);
    }, { once: true });
  });
  dialog.showModal();
  return pending;
}

function labelButton() {
  byId("token-button").textContent = token() ? "Forget token" : "Set token";
}

/** Wire the prompt; ``onNewToken`` runs after the person sets a token from the header button. */
export function setupToken(onNewToken) {
  setTokenPrompt(async (rejected) => {
    const value = await ask(rejected);
    setTimeout(labelButton);
    return value;
  });
  labelButton();
  byId("token-button").addEventListener("click", async () => {
    if (token()) {
      setToken(null);
      window.location.reload(); // nothing loaded with the old token stays on screen
      return;
    }
    const value = await ask(false);
    if (value) {
      setToken(value);
      labelButton();
      onNewToken();
    }
  });
}
