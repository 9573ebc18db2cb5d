// The API client: JSON requests with the session's token, errors from the API's error envelope.
// The token lives in sessionStorage only (gone when the browser session ends) and always travels
// in a header, never in a URL.

const TOKEN_KEY = "novita-gpu.token";

/** A failed API call: code, message and request id from the error envelope. */
export class ApiError extends Error {
  constructor(status, body, requestId) {
    const error = (body && typeof body === "object" && body.error) || {};
    super(typeof error.message === "string" ? error.message : `HTTP ${status}`);
    this.status = status;
    this.code = typeof error.code === "string" ? error.code : `HTTP_${status}`;
    this.details = error.details ?? null;
    this.requestId = error.requestId ?? requestId ?? null;
  }

  /** One line for a person: "CODE: message (request id)". */
  describe() {
    const id = this.requestId ? ` (request ${this.requestId})` : "";
    return `${this.code}: ${this.message}${id}`;
  }
}

let askForToken = async () => null;

/** Register the function that asks the person for a token (returns it, or null if cancelled). */
export function setTokenPrompt(prompt) {
  askForToken = prompt;
}

export function token() {
  return sessionStorage.getItem(TOKEN_KEY);
}

export function setToken(value) {
  if (value) sessionStorage.setItem(TOKEN_KEY, value);
  else sessionStorage.removeItem(TOKEN_KEY);
}

/** Request headers with the token, if any, plus ``extra``. */
export function authHeaders(extra = {}) {
  const headers = { Accept: "application/json", ...extra };
  const current = token();
  if (current) headers.Authorization = `Bearer ${current}`;
  return headers;
}

/** Ask for a token after a 401; true when the person gave one (the caller retries). */
export async function renewToken() {
  const given = await askForToken(token() !== null);
  if (!given) return false;
  setToken(given);
  return true;
}

async function send(method, path, body) {
  const init = { method, headers: authHeaders(), cache: "no-store" };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  return fetch(path, init);
}

async function parse(response) {
  const text = await response.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { error: { message: text.slice(0, 200) } };
  }
}

/** Call the API; resolves with the parsed body, rejects with ApiError. A 401 asks for a token
 * and retries once with it. */
export async function api(method, path, body) {
  let response = await send(method, path, body);
  if (response.status === 401 && (await renewToken())) {
    response = await send(method, path, body);
  }
  const parsed = await parse(response);
  if (!response.ok) {
    throw new ApiError(response.status, parsed, response.headers.get("X-Request-ID"));
  }
  return parsed;
}

/** Like :func:`api` but resolves with null on a 404 (a route another version may not have). */
export async function optional(method, path) {
  try {
    return await api(method, path);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) return null;
    throw error;
  }
}

/** Error text for any rejection (network failures included). */
export function describe(error) {
  if (error instanceof ApiError) return error.describe();
  return `Network error: ${error && error.message ? error.message : String(error)}`;
}
