// The live event stream (GET /api/events) read with fetch(), not EventSource: EventSource cannot
// send headers, and the token must not go in a URL. After a drop it reconnects with
// Last-Event-ID, so no event is missed; when the server no longer knows that id it says so
// (X-Stream-Reset) and the caller reloads its snapshot.

import { authHeaders, renewToken } from "./api.js";

const MIN_RETRY_MS = 1000;
const MAX_RETRY_MS = 30000;

/** Split SSE text into messages; returns [messages, unparsed remainder]. */
export function parseMessages(buffer) {
  const blocks = buffer.replace(/\r\n?/g, "\n").split("\n\n");
  const rest = blocks.pop();
  const messages = blocks.map(parseBlock).filter((m) => m !== null);
  return [messages, rest];
}

function parseBlock(block) {
  const message = { id: null, event: "message", data: [], retry: null };
  for (const line of block.split("\n")) {
    if (!line || line.startsWith(":")) continue;
    const colon = line.indexOf(":");
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
    if (field === "id") message.id = value;
    else if (field === "event") message.event = value;
    else if (field === "data") message.data.push(value);
    else if (field === "retry" && /^\d+$/.test(value)) message.retry = Number(value);
  }
  if (message.data.length === 0 && message.id === null && message.retry === null) return null;
  return { ...message, data: message.data.join("\n") };
}

/**
 * Follow the event stream until stop() is called.
 * handlers: onEvent(type, payload, id), onOpen({reset}), onState("live" | "reconnecting" | ...).
 */
export class EventStream {
  constructor(handlers) {
    this.handlers = handlers;
    this.lastEventId = null;
    this.retryMs = 2000;
    this.failures = 0;
    this.controller = null;
    this.stopped = false;
  }

  start() {
    if (!this.stopped && this.controller) return;
    this.stopped = false;
    this.loop();
  }

  stop() {
    this.stopped = true;
    if (this.controller) this.controller.abort();
  }

  /** Drop the current connection and connect again at once (e.g. with a new token). */
  restart() {
    if (this.controller) this.controller.abort();
  }

  async loop() {
    while (!this.stopped) {
      try {
        await this.connect();
      } catch (error) {
        if (error && error.name === "AbortError" && !this.stopped) continue;
        this.failures += 1;
      }
      if (this.stopped) break;
      this.handlers.onState("reconnecting");
      await sleep(this.delay());
    }
  }

  delay() {
    const backoff = this.retryMs * 2 ** Math.min(Math.max(0, this.failures - 1), 5);
    return Math.min(MAX_RETRY_MS, Math.max(MIN_RETRY_MS, backoff)) * (0.8 + Math.random() * 0.4);
  }

  async connect() {
    this.controller = new AbortController();
    const headers = authHeaders({ Accept: "text/event-stream" });
    if (this.lastEventId) headers["Last-Event-ID"] = this.lastEventId;
    const response = await fetch("/api/events", {
      headers, signal: this.controller.signal, cache: "no-store",
    });
    if (response.status === 401) {
      if (await renewToken()) return;
      this.stopped = true;
      this.handlers.onState("needs a token");
      return;
    }
    if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
    const reset = response.headers.get("X-Stream-Reset") !== null || this.lastEventId === null;
    this.failures = 0;
    this.handlers.onState("live");
    this.handlers.onOpen({ reset });
    await this.read(response.body);
  }

  async read(body) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      let messages;
      [messages, buffer] = parseMessages(buffer + value);
      messages.forEach((message) => this.dispatch(message));
    }
  }

  dispatch(message) {
    if (message.retry !== null) this.retryMs = message.retry;
    if (message.id !== null) this.lastEventId = message.id;
    if (!message.data) return;
    let payload;
    try {
      payload = JSON.parse(message.data);
    } catch {
      return;
    }
    this.handlers.onEvent(message.event, payload, message.id);
  }
}

function sleep(ms) {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
