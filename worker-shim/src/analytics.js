import { ask } from './http.js';

// The one mapping of an operation event to an Analytics Engine data point. Queries of the
// dataset (SQL API) read these positions:
//   index1  bucket
//   blob1   bucket          blob2  operation      blob3  R2 class (A | B | free)
//   blob4   status (ok | error)                   blob5  key prefix (first path segment)
//   blob6   user: the engine's keyed hash of the id (HMAC-SHA256 under the ANALYTICS_HASH_KEY
//           secret, 32 hex; '' when unknown or without the key), never the id itself
//   blob7   error message ('' when ok)
//   double1 latency_ms      double2 bytes_up      double3 bytes_down
//   double4 sample_weight   (1 / sampling rate: SUM(_sample_interval * double4)... see README)
// Events are sampled by SUCCESS_SAMPLING_RATE / ERROR_SAMPLING_RATE (decided by the engine);
// each carries its weight, so SUM(double4) estimates the number of operations without bias.
export function toDataPoint(event) {
  // event.userHash: from userHashOf, never the user id itself.
  return {
    indexes: [event.bucket],
    blobs: [
      event.bucket,
      event.operation,
      event.r2Class,
      event.ok ? 'ok' : 'error',
      event.prefix,
      event.userHash ?? '',
      event.error ?? '',
    ],
    doubles: [event.latencyMs, event.bytesUp, event.bytesDown, event.weight],
  };
}

/**
 * The user as events carry it: the engine's keyed hash (analytics_user), remembered per isolate
 * (at most the engine's analytics_user_cache_max_entries users; then forgotten all at once).
 */
export function userHashOf(rt, user) {
  if (!user) return '';
  rt.analyticsUsers ??= new Map();
  let hash = rt.analyticsUsers.get(user);
  if (hash === undefined) {
    hash = ask(rt, 'analytics_user', { user }).user_hash;
    if (rt.analyticsUsers.size >= rt.security.analytics_user_cache_max_entries) rt.analyticsUsers.clear();
    rt.analyticsUsers.set(user, hash);
  }
  return hash;
}

/**
 * Writes an event when the engine's sampling keeps it; `event.user` is replaced by its hash.
 * Never throws: analytics is best effort.
 */
export function writeEvent(rt, event) {
  const weight = rt.engine.sampleWeight(event.ok, Math.random());
  if (weight <= 0 || !rt.env.ANALYTICS) return false;
  try {
    const { user, ...rest } = event;
    rt.env.ANALYTICS.writeDataPoint(toDataPoint({ ...rest, userHash: userHashOf(rt, user), weight }));
    return true;
  } catch (e) {
    console.error(`r2watch: Analytics Engine write failed: ${e.message}`);
    return false;
  }
}
