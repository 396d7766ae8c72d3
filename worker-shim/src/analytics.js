// The one mapping of an operation event to an Analytics Engine data point. Queries of the
// dataset (SQL API) read these positions:
//   index1  bucket
//   blob1   bucket          blob2  operation      blob3  R2 class (A | B | free)
//   blob4   status (ok | error)                   blob5  key prefix (first path segment)
//   blob6   user ('' when unknown)                blob7  error message ('' when ok)
//   double1 latency_ms      double2 bytes_up      double3 bytes_down
//   double4 sample_weight   (1 / sampling rate: SUM(_sample_interval * double4)... see README)
// Events are sampled by SUCCESS_SAMPLING_RATE / ERROR_SAMPLING_RATE (decided by the engine);
// each carries its weight, so SUM(double4) estimates the number of operations without bias.
export function toDataPoint(event) {
  return {
    indexes: [event.bucket],
    blobs: [
      event.bucket,
      event.operation,
      event.r2Class,
      event.ok ? 'ok' : 'error',
      event.prefix,
      event.user ?? '',
      event.error ?? '',
    ],
    doubles: [event.latencyMs, event.bytesUp, event.bytesDown, event.weight],
  };
}

/** Writes an event when the engine's sampling keeps it. Never throws: analytics is best effort. */
export function writeEvent(rt, event) {
  const weight = rt.engine.sampleWeight(event.ok, Math.random());
  if (weight <= 0 || !rt.env.ANALYTICS) return false;
  try {
    rt.env.ANALYTICS.writeDataPoint(toDataPoint({ ...event, weight }));
    return true;
  } catch (e) {
    console.error(`r2watch: Analytics Engine write failed: ${e.message}`);
    return false;
  }
}
