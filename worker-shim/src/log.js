// The structured log: one JSON line per request and per job run on the console (what
// `wrangler tail` shows). The engine writes the line (core/ops/log-line.h decides its fields, its
// level and the keyed hash that stands for the user); this file only hands it what happened and
// prints the answer.
import { ask } from './http.js';

/**
 * Prints a request's line. `entry`: {startMs, method, route|null, status, durationMs,
 * requestId|null, user|null}. A line that cannot be made is reported, never thrown.
 */
export function logRequest(engine, entry) {
  print(engine, {
    kind: 'request',
    time_ms: entry.startMs,
    method: entry.method,
    route: entry.route ?? null,
    status: entry.status,
    duration_ms: Math.max(0, entry.durationMs),
    request_id: entry.requestId ?? null,
    user: entry.user ?? null,
  });
}

/** Prints a job run's line. `entry`: {startMs, job, trigger, ok, durationMs, error|null}. */
export function logJob(engine, entry) {
  print(engine, {
    kind: 'job',
    time_ms: entry.startMs,
    job: entry.job,
    trigger: entry.trigger,
    outcome: entry.ok ? 'ok' : 'error',
    duration_ms: Math.max(0, entry.durationMs),
    error: entry.error ?? null,
  });
}

function print(engine, input) {
  try {
    if (!engine || engine.broken) throw new Error('no engine');
    const { line, level } = ask({ engine }, 'log_line', input);
    ({ error: console.error, warn: console.warn }[level] ?? console.log)(line);
  } catch (e) {
    console.error(`r2watch: log line not written (${input.kind}): ${e?.message ?? e}`);
  }
}
