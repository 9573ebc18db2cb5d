// Element building without HTML parsing: every piece of data goes in as text, so instance
// names, error messages and upstream strings can never become markup.

/** Build an element: props set attributes (class, text, on<event>, dataset), children append. */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === null || value === undefined || value === false) continue;
    if (key === "class") el.className = value;
    else if (key === "text") el.textContent = String(value);
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  append(el, children);
  return el;
}

/** Append nodes or text (null and false are skipped; arrays are flattened). */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : String(child));
  }
  return el;
}

/** Replace every child of ``el``. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

export function byId(id) {
  return document.getElementById(id);
}

/** An http(s) URL as given, or null: never a javascript: or data: link. */
export function safeUrl(value) {
  if (typeof value !== "string") return null;
  try {
    const url = new URL(value, window.location.href);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch {
    return null;
  }
}

/** A link that opens in a new tab, or the plain text when the URL is not http(s). */
export function link(value, label) {
  const href = safeUrl(value);
  if (!href) return h("span", { text: label ?? value ?? "—" });
  return h("a", { href, target: "_blank", rel: "noopener noreferrer", text: label ?? value });
}

/** A status badge; the class is derived from a known list only. */
const BADGES = new Set([
  "creating", "starting", "running", "health_checking", "ready", "stopping", "stopped",
  "deleting", "deleted", "migrating", "failed", "terminated", "up", "down", "degraded",
  "healthy", "unhealthy", "delivered", "pending", "skipped", "healthy", "partial",
]);

export function badge(status) {
  const text = status ?? "unknown";
  const kind = BADGES.has(text) ? text : "unknown";
  return h("span", { class: `badge badge-${kind}`, text: text.replace("_", " ") });
}

/** A definition list from [label, value] pairs (value: text or a node). */
export function facts(pairs) {
  return h("dl", { class: "facts" }, pairs.map(([label, value]) => [
    h("dt", { text: label }),
    h("dd", {}, value === null || value === undefined || value === "" ? "—" : value),
  ]));
}
