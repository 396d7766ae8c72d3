// What each user stores, object by object (user_objects), per prefix (user_prefix_usage) and
// today's peaks (user_storage_daily_peaks): the statements that record an upload or a delete,
// run at once (src/security.js) or behind the answer (src/write-behind.js).

const isoDay = (ms) => new Date(ms).toISOString().slice(0, 10);

/**
 * Raises today's storage peaks of a user's prefix (or of every user and prefix, with no
 * `user`) to what is stored now: a peak only goes up. The storage a user's bill is built on.
 */
export function raiseUserPeaks(db, nowMs, user = null, prefix = null) {
  return db
    .prepare(
      `INSERT INTO user_storage_daily_peaks (user_id, day, prefix, peak_bytes, objects, updated_at_ms)
       SELECT user_id, ?1, prefix, bytes, objects, ?2 FROM user_prefix_usage
        WHERE (?3 IS NULL OR user_id = ?3) AND (?4 IS NULL OR prefix = ?4)
       ON CONFLICT (user_id, day, prefix) DO UPDATE SET
         peak_bytes = MAX(peak_bytes, excluded.peak_bytes), objects = MAX(objects, excluded.objects),
         updated_at_ms = excluded.updated_at_ms`,
    )
    .bind(isoDay(nowMs), nowMs, user, prefix);
}


// The size of the object a change replaces or removes, read inside the transaction.
const EXISTING = 'SELECT size FROM user_objects WHERE user_id = ?1 AND key = ?2';

/**
 * The statements recording a stored object of `size` bytes under `prefix` (the engine's
 * storage_check_key): its row in user_objects, the user's prefix usage, and today's peaks before
 * and after, for one transaction that reads the replaced object's size itself (so concurrent
 * uploads add up, and the same record written twice adds nothing the second time).
 */
export function storedObjectStatements(db, { user, key, r2Key, prefix, size, nowMs = Date.now(), reservation = null }) {
  return [
    // The upload's reservation ends as its bytes become usage, in the same transaction.
    db.prepare('DELETE FROM quota_reservations WHERE id = ?').bind(reservation),
    db.prepare(
      `INSERT INTO user_prefix_usage (user_id, prefix, bytes, objects, updated_at_ms) VALUES (?, ?, 0, 0, ?)
       ON CONFLICT (user_id, prefix) DO NOTHING`,
    ).bind(user, prefix, nowMs),
    raiseUserPeaks(db, nowMs, user, prefix),
    db.prepare(
      `UPDATE user_prefix_usage SET bytes = bytes + ?3 - COALESCE((${EXISTING}), 0),
         objects = objects + (CASE WHEN EXISTS (${EXISTING}) THEN 0 ELSE 1 END), updated_at_ms = ?4
       WHERE user_id = ?1 AND prefix = ?5`,
    ).bind(user, key, size, nowMs, prefix),
    db.prepare(
      `INSERT INTO user_objects (user_id, key, size, prefix, r2_key, updated_at_ms) VALUES (?, ?, ?, ?, ?, ?)
       ON CONFLICT (user_id, key) DO UPDATE SET size = excluded.size, prefix = excluded.prefix,
         r2_key = excluded.r2_key, updated_at_ms = excluded.updated_at_ms`,
    ).bind(user, key, size, prefix, r2Key, nowMs),
    raiseUserPeaks(db, nowMs, user, prefix),
  ];
}

/**
 * The statements recording a deleted object (if it was recorded): prefix usage less its size,
 * today's peak of the prefix kept (raised before the delete), for one transaction; the second
 * statement's changes say whether there was a record.
 */
export function deletedObjectStatements(db, { user, key, prefix, nowMs = Date.now() }) {
  return [
    raiseUserPeaks(db, nowMs, user, prefix),
    db.prepare(
      `UPDATE user_prefix_usage SET bytes = MAX(bytes - COALESCE((${EXISTING}), 0), 0),
         objects = MAX(objects - (CASE WHEN EXISTS (${EXISTING}) THEN 1 ELSE 0 END), 0), updated_at_ms = ?3
       WHERE user_id = ?1 AND prefix = ?4`,
    ).bind(user, key, nowMs, prefix),
    db.prepare('DELETE FROM user_objects WHERE user_id = ? AND key = ?').bind(user, key),
  ];
}

