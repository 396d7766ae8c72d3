import { EngineError } from './engine.js';

// HTTP plumbing: JSON responses, the one error shape, strict body reading.

/** HTTP status for each error code (engine codes and the shim's own). */
const STATUS_BY_CODE = {
  invalid_json: 400,
  json_too_deep: 400,
  invalid_query: 400,
  invalid_field: 422,
  usage_too_large: 422,
  not_found: 404,
  conflict: 409,
  method_not_allowed: 405,
  payload_too_large: 413,
  length_required: 411,
  precondition_failed: 412,
  range_not_satisfiable: 416,
  invalid_part: 400,
  invalid_part_order: 400,
  no_such_upload: 404,
  unsupported_media_type: 415,
  quota_exceeded: 413,
  unauthenticated: 401,
  forbidden: 403,
  rate_limited: 429,
  secret_missing: 503,
  secrets_key_missing: 503,
  secrets_key_mismatch: 500,
  circuit_open: 503,
  storage_error: 502,
  engine_trap: 500,
};

/** Maximum size of a JSON request body. */
export const MAX_JSON_BODY_BYTES = 64 * 1024;

export class HttpError extends Error {
  /**
   * @param {string} code stable snake_case error code
   * @param {string} message what went wrong and, where it helps, what to do
   * @param {{field?: string, errors?: {field: string, message: string}[], status?: number,
   *   headers?: Record<string,string>}} [extra] `errors` lists every bad field when there are several
   */
  constructor(code, message, extra = {}) {
    super(message);
    this.code = code;
    this.field = extra.field;
    this.errors = extra.errors;
    this.status = extra.status ?? STATUS_BY_CODE[code] ?? 500;
    this.headers = extra.headers ?? {};
  }
}

/** Turns an engine error ({code, message, field, errors?}) into an HttpError. */
export function fromEngineError(err) {
  return new HttpError(err.code, err.message, {
    field: err.field || undefined,
    errors: err.errors,
  });
}

export function json(body, status = 200, headers = {}) {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'x-content-type-options': 'nosniff', ...headers },
  });
}

export function errorResponse(err) {
  const error = { code: err.code, message: err.message };
  if (err.field) error.field = err.field;
  if (err.errors?.length) error.errors = err.errors;
  return json({ error }, err.status, err.headers);
}

/**
 * Whether a Content-Type header value is JSON's media type, `application/json`, with or without
 * parameters (`; charset=utf-8`); type and subtype are case-insensitive (RFC 9110).
 */
export function isJsonContentType(value) {
  if (value === null || value === undefined) return false;
  return value.split(';', 1)[0].trim().toLowerCase() === 'application/json';
}

/** Refuses (415, naming the content-type header) a body that is not declared as JSON. */
export function requireJsonContentType(request) {
  const declared = request.headers.get('content-type');
  if (!isJsonContentType(declared)) {
    throw new HttpError(
      'unsupported_media_type',
      declared
        ? `content-type must be application/json for a JSON body (got ${JSON.stringify(declared.slice(0, 100))})`
        : 'content-type must be application/json for a JSON body (the header is missing)',
      { field: 'content-type' },
    );
  }
}

/**
 * A request's body as bytes, read chunk by chunk and refused with `tooLarge()` (an error to throw)
 * as soon as it passes `limit` bytes: at most `limit` + one chunk is ever held.
 */
export async function readAtMost(request, limit, tooLarge) {
  const chunks = [];
  let size = 0;
  if (request.body) {
    const reader = request.body.getReader();
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => {});
        throw tooLarge();
      }
      chunks.push(value);
    }
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const c of chunks) {
    bytes.set(c, at);
    at += c.byteLength;
  }
  return bytes;
}

/**
 * Reads a JSON object body: 415 unless the Content-Type is application/json, 413 past the size
 * limit, 400 with the parser's position. `optional`: an empty body (no Content-Type needed)
 * reads as `{}`.
 */
export async function readJsonBody(request, { optional = false } = {}) {
  // Without a declared type only an empty optional body passes (its length read, not trusted).
  const untyped = optional && !request.headers.get('content-type');
  if (!untyped) requireJsonContentType(request);
  const declared = Number(request.headers.get('content-length') ?? '0');
  if (declared > MAX_JSON_BODY_BYTES) {
    throw new HttpError('payload_too_large', `request body is larger than ${MAX_JSON_BODY_BYTES} bytes`);
  }
  // Read at most the limit (a chunked body without Content-Length is cut off, not buffered whole).
  const bytes = await readAtMost(request, MAX_JSON_BODY_BYTES, () =>
    new HttpError('payload_too_large', `request body is larger than ${MAX_JSON_BODY_BYTES} bytes`));
  if (untyped) {
    if (bytes.byteLength === 0) return '{}';
    requireJsonContentType(request);
  }
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError('invalid_json', 'request body is not valid UTF-8');
  }
  if (optional && !text.trim()) return '{}';
  let value;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new HttpError('invalid_json', `request body is not valid JSON: ${e.message}`);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new HttpError('invalid_json', 'request body must be a JSON object');
  }
  return text;
}

/** Seconds for a Retry-After header: rounded up, at least 1. */
export function retryAfterSeconds(ms) {
  return String(Math.max(1, Math.ceil(ms / 1000)));
}

/**
 * Runs an engine command; its refusal ({code, message, field}) becomes the HTTP error naming
 * the field. Every route, job and the runtime's own set-up (src/runtime.js) asks the engine
 * through this (or askText, the same with the answer left as text): the one way the shim calls the engine (the hot-path methods of src/engine.js,
 * which read and write wasm memory, and Engine.salvage of an engine that trapped aside).
 */
export function ask(rt, command, input, nowMs = Date.now(), attachment = null) {
  try {
    return rt.engine.call(command, input, nowMs, attachment);
  } catch (e) {
    if (e instanceof EngineError) throw fromEngineError(e);
    throw e;
  }
}

/**
 * ask's answer as the engine wrote it (JSON text), for a route that passes a large answer on as
 * it is (jsonText): no parse and re-serialization of it in the Worker. A refusal is the same
 * HttpError as ask's.
 */
export function askText(rt, command, input, nowMs = Date.now()) {
  const { ok, text } = rt.engine.callRaw(command, input, nowMs);
  if (!ok) throw fromEngineError(JSON.parse(text).error);
  return text;
}

/** A JSON response of `fields` (an object) followed by the members of the JSON object `text`. */
export function jsonText(fields, text, status = 200) {
  const head = JSON.stringify(fields);
  const body = text === '{}' ? head : `${head.slice(0, -1)}${head === '{}' ? '' : ','}${text.slice(1)}`;
  return new Response(body, {
    status,
    headers: { 'content-type': 'application/json; charset=utf-8', 'x-content-type-options': 'nosniff' },
  });
}

/**
 * A CSV download: the engine writes the text (`csv_table`, core/common/csv.h: cells that a
 * spreadsheet would run as formulas are neutralized). Every CSV r2watch serves goes through here.
 * @param {string[]} columns
 * @param {Array<Array<string|number|boolean|null>>} rows
 * @param {string} filename
 */
export function csvResponse(rt, columns, rows, filename) {
  const { csv } = ask(rt, 'csv_table', { columns, rows });
  return new Response(csv, {
    headers: {
      'content-type': 'text/csv; charset=utf-8',
      'content-disposition': `attachment; filename="${filename.replace(/[^A-Za-z0-9._-]/g, '_')}"`,
      'x-content-type-options': 'nosniff',
    },
  });
}
