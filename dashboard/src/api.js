// The one way the page talks to r2watch: its own API on the same origin, with the user's token
// (kept in localStorage) as a bearer token. Errors become ApiError with the API's code and message.

const TOKEN_KEY = 'r2watch.token';

export function getToken() {
  try {
    return localStorage.getItem(TOKEN_KEY) ?? '';
  } catch {
    return '';
  }
}

export function setToken(token) {
  if (token) localStorage.setItem(TOKEN_KEY, token);
  else localStorage.removeItem(TOKEN_KEY);
}

export class ApiError extends Error {
  /** @param {number} status HTTP status (0: the Worker could not be reached) */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
  get missing() {
    return this.status === 404 && this.code === 'not_found';
  }
  get unauthorized() {
    return this.status === 401 || this.status === 403;
  }
}

/**
 * Calls the API and returns the parsed JSON answer; throws ApiError. `dataStatuses`: error
 * statuses whose body is still the answer (GET /api/health is 503 when unhealthy).
 */
export async function api(path, { method = 'GET', body, dataStatuses = [] } = {}) {
  const headers = { accept: 'application/json' };
  const token = getToken();
  if (token) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  let res;
  try {
    res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (e) {
    throw new ApiError(0, 'unreachable', `r2watch did not answer (${e.message}): is the Worker running?`);
  }
  const text = await res.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = null;
  }
  if (!res.ok && !dataStatuses.includes(res.status)) {
    const err = parsed?.error ?? {};
    throw new ApiError(res.status, err.code ?? `http_${res.status}`, err.message ?? `${method} ${path} answered ${res.status}`);
  }
  return parsed;
}

/** Like api(), but answers null when the route does not exist on this r2watch (404 not_found). */
export async function optionalApi(path, options) {
  try {
    return await api(path, options);
  } catch (e) {
    if (e instanceof ApiError && e.missing) return null;
    throw e;
  }
}
