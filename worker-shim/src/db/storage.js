// SQL of the storage API's multipart uploads (migrations/0015_multipart_uploads.sql). The quota
// reservations each stored part holds are made with security.js's reserveUpload; the ones an
// upload still holds are given back here when it completes or is aborted.

/** Records a multipart upload R2 has created. */
export async function insertUpload(db, u) {
  await db
    .prepare(
      `INSERT INTO multipart_uploads (id, user_id, key, r2_key, prefix, r2_upload_id, reservation, created_at_ms, expires_at_ms)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    )
    .bind(u.id, u.user, u.key, u.r2Key, u.prefix, u.r2UploadId, u.reservation, u.createdAtMs, u.expiresAtMs)
    .run();
}

/** A user's upload (no parts), or null when `user` has no upload of that id. */
export async function uploadOf(db, id, user) {
  return db.prepare('SELECT * FROM multipart_uploads WHERE id = ? AND user_id = ?').bind(id, user).first();
}

/**
 * A user's upload with its parts (ascending), or null when `user` has no upload of that id.
 * @returns {Promise<{id, user_id, key, r2_key, prefix, r2_upload_id, created_at_ms,
 *   expires_at_ms, parts: {part_number, etag, size, reservation, uploaded_at_ms}[]} | null>}
 */
export async function uploadWithParts(db, id, user) {
  const [upload, parts] = await db.batch([
    db.prepare('SELECT * FROM multipart_uploads WHERE id = ? AND user_id = ?').bind(id, user),
    db
      .prepare(
        `SELECT p.part_number, p.etag, p.size, p.reservation, p.uploaded_at_ms
           FROM multipart_parts p JOIN multipart_uploads u ON u.id = p.upload_id
          WHERE p.upload_id = ? AND u.user_id = ? ORDER BY p.part_number`,
      )
      .bind(id, user),
  ]);
  const row = upload.results[0];
  return row ? { ...row, parts: parts.results } : null;
}

/** A user's open uploads, oldest first (at most `limit`). */
export async function uploadsOf(db, user, limit) {
  const { results } = await db
    .prepare(
      `SELECT u.id, u.key, u.created_at_ms, u.expires_at_ms,
              (SELECT COUNT(*) FROM multipart_parts p WHERE p.upload_id = u.id) AS parts,
              (SELECT COALESCE(SUM(size), 0) FROM multipart_parts p WHERE p.upload_id = u.id) AS bytes
         FROM multipart_uploads u WHERE u.user_id = ? ORDER BY u.created_at_ms, u.id LIMIT ?`,
    )
    .bind(user, limit)
    .all();
  return results;
}

/**
 * Records a stored part (replacing an earlier upload of the same number) and gives back the
 * reservation of the part it replaces, in one transaction; the part's reservation counts its
 * bytes only (the upload's own reservation counts the object). Returns the replaced reservation.
 */
export async function recordPart(db, uploadId, part) {
  const [old] = await db.batch([
    db.prepare('SELECT reservation FROM multipart_parts WHERE upload_id = ? AND part_number = ?').bind(uploadId, part.partNumber),
    db
      .prepare(
        `DELETE FROM quota_reservations
          WHERE id = (SELECT reservation FROM multipart_parts WHERE upload_id = ? AND part_number = ?) AND id <> ?`,
      )
      .bind(uploadId, part.partNumber, part.reservation),
    db
      .prepare(
        `INSERT INTO multipart_parts (upload_id, part_number, etag, size, reservation, uploaded_at_ms)
         VALUES (?, ?, ?, ?, ?, ?)
         ON CONFLICT (upload_id, part_number) DO UPDATE SET etag = excluded.etag, size = excluded.size,
           reservation = excluded.reservation, uploaded_at_ms = excluded.uploaded_at_ms`,
      )
      .bind(uploadId, part.partNumber, part.etag, part.size, part.reservation, part.uploadedAtMs),
    db.prepare('UPDATE quota_reservations SET objects = 0 WHERE id = ?').bind(part.reservation),
  ]);
  return old.results[0]?.reservation ?? null;
}

/**
 * Forgets an upload (completed or aborted): its rows and the quota reservations it and its
 * parts still hold, in one transaction. Returns whether the upload was still recorded.
 */
export async function forgetUpload(db, uploadId) {
  const [, , , upload] = await db.batch([
    db.prepare('DELETE FROM quota_reservations WHERE id IN (SELECT reservation FROM multipart_parts WHERE upload_id = ?)').bind(uploadId),
    db.prepare('DELETE FROM quota_reservations WHERE id = (SELECT reservation FROM multipart_uploads WHERE id = ?)').bind(uploadId),
    db.prepare('DELETE FROM multipart_parts WHERE upload_id = ?').bind(uploadId),
    db.prepare('DELETE FROM multipart_uploads WHERE id = ?').bind(uploadId),
  ]);
  return upload.meta.changes > 0;
}

/**
 * Forgets a user's uploads that expired by `nowMs` (R2 has aborted them), with the quota
 * reservations their parts held (which expired with them).
 */
export async function forgetExpiredUploads(db, user, nowMs) {
  const expired = 'SELECT id FROM multipart_uploads WHERE user_id = ?1 AND expires_at_ms <= ?2';
  await db.batch([
    db.prepare(`DELETE FROM quota_reservations WHERE id IN (SELECT reservation FROM multipart_parts WHERE upload_id IN (${expired}))`).bind(user, nowMs),
    db.prepare('DELETE FROM quota_reservations WHERE id IN (SELECT reservation FROM multipart_uploads WHERE user_id = ?1 AND expires_at_ms <= ?2)').bind(user, nowMs),
    db.prepare(`DELETE FROM multipart_parts WHERE upload_id IN (${expired})`).bind(user, nowMs),
    db.prepare('DELETE FROM multipart_uploads WHERE user_id = ?1 AND expires_at_ms <= ?2').bind(user, nowMs),
  ]);
}
