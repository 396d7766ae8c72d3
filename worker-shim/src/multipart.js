// Multipart uploads through the storage API, for objects larger than one request may carry:
// create (POST /api/storage/files/{key}?uploads), upload parts (streamed, each with its
// Content-Length), list the parts, complete, abort. Every R2 call goes through `guarded` (the
// breaker, faults, metrics): create, part and complete count as R2 Class A writes ("put"),
// abort as a free operation ("delete"). The upload reserves its object against the quota
// (security.js's reserveUpload) when it starts, and each part its bytes as it is stored, until
// the upload completes (the bytes become usage) or is aborted. R2's binding cannot list parts, so r2watch records uploads and parts in D1
// (db/storage.js); an upload id it did not issue to the caller is a 404 without an R2 call.
// The rules (part numbers, sizes, order, lifetime) are the engine's: core/storage/upload-policy.h.
import { HttpError, json, ask, readJsonBody } from './http.js';
import { reserveUpload, releaseReservation, recordStoredObject } from './security.js';
import { guarded, decodeKey, headersOf, streamedBody, describe, queryNames, READ_STORAGE, WRITE_STORAGE } from './storage.js';
import { insertUpload, uploadOf, uploadWithParts, uploadsOf, recordPart, forgetUpload, forgetExpiredUploads } from './db/storage.js';

const iso = (ms) => new Date(ms).toISOString();

function noSuchUpload(id) {
  return new HttpError('no_such_upload', `no multipart upload ${JSON.stringify(id)} of yours is open`, { field: 'upload_id' });
}

/** R2's handle on a recorded upload (no I/O until it is used). */
function r2Upload(rt, upload) {
  return rt.env.BUCKET.resumeMultipartUpload(upload.r2_key, upload.r2_upload_id);
}

function describeUpload(u) {
  return { upload_id: u.id, key: u.key, created_at: iso(u.created_at_ms), expires_at: iso(u.expires_at_ms) };
}

export function registerMultipartRoutes(router) {
  // Starts a multipart upload of {key}: Content-Type and x-r2watch-meta-* headers apply to the
  // object as for a PUT. Answers {upload_id, key, created_at, expires_at}.
  router.on('POST', '/api/storage/files/*key', async (request, params, rt, _ctx, auth) => {
    const plan = ask(rt, 'storage_write_plan', {
      key: decodeKey(params.key),
      user: auth.subject,
      mode: 'multipart',
      headers: headersOf(request),
      query: queryNames(request),
    });
    const about = { key: plan.key, user: auth.subject };
    const db = rt.env.DB;
    const id = crypto.randomUUID();
    const now = Date.now();
    // The object the upload will make is reserved against the quota now (its count; the
    // parts reserve their bytes as they come).
    const reservation = `mpu:${id}:object`;
    const state = await reserveUpload(db, auth.subject, plan.key, 0, reservation, now, plan.expires_at_ms);
    const release = () => (state.quota ? releaseReservation(db, reservation).catch(() => {}) : null);
    let created;
    try {
      ask(rt, 'quota_check', { quota: state.quota, usage: state.usage, reserved: state.reserved, replaced_size: state.replacedSize, new_size: 0 });
      const options = { httpMetadata: { contentType: plan.content_type }, customMetadata: plan.custom_metadata };
      created = await guarded(rt, 'put', () => rt.env.BUCKET.createMultipartUpload(plan.r2_key, options), undefined, about);
    } catch (e) {
      await release();
      throw e;
    }
    const upload = {
      id,
      user: auth.subject,
      key: plan.key,
      r2Key: plan.r2_key,
      prefix: plan.prefix,
      r2UploadId: created.uploadId,
      reservation,
      createdAtMs: now,
      expiresAtMs: plan.expires_at_ms,
    };
    try {
      await insertUpload(db, upload);
    } catch (e) {
      await created.abort().catch(() => {}); // unrecorded, it could never be completed
      await release();
      throw e;
    }
    // The caller's uploads R2 has aborted by now (left 7 days) are forgotten as a new one starts.
    await forgetExpiredUploads(db, auth.subject, now).catch(() => {});
    auth.auditDetails = { upload_id: upload.id };
    return json(describeUpload({ ...upload, created_at_ms: upload.createdAtMs, expires_at_ms: upload.expiresAtMs }), 201);
  }, WRITE_STORAGE);

  // The caller's open uploads, oldest first.
  router.on('GET', '/api/storage/uploads', async (request, _params, rt, _ctx, auth) => {
    const { limit } = ask(rt, 'storage_uploads_query', { query: queryNames(request) });
    const rows = await uploadsOf(rt.env.DB, auth.subject, limit);
    return json({ uploads: rows.map((u) => ({ ...describeUpload(u), parts: u.parts, size_bytes: u.bytes })) });
  }, READ_STORAGE);

  // One part, streamed to R2: Content-Length is required (411 without), at most 5 GiB and
  // MAX_UPLOAD_BYTES (413), and within the quota with everything else stored and reserved.
  // Uploading a part number again replaces the part. Answers {part_number, etag, size_bytes}.
  router.on('PUT', '/api/storage/uploads/:upload_id/parts/:part_number', async (request, params, rt, _ctx, auth) => {
    const db = rt.env.DB;
    const upload = await uploadOf(db, params.upload_id, auth.subject);
    if (!upload) throw noSuchUpload(params.upload_id);
    const plan = ask(rt, 'storage_part_plan', {
      part_number: params.part_number,
      headers: headersOf(request),
      expires_at_ms: upload.expires_at_ms,
      query: queryNames(request),
    });
    const size = plan.size_bytes;
    const now = Date.now();
    const reservation = `mpu:${upload.id}:${plan.part_number}:${crypto.randomUUID()}`;
    const state = await reserveUpload(db, auth.subject, upload.key, size, reservation, now, upload.expires_at_ms);
    let part;
    try {
      // The object it may replace stays until the upload completes: nothing is freed yet.
      ask(rt, 'quota_check', { quota: state.quota, usage: state.usage, reserved: state.reserved, replaced_size: 0, new_size: size });
      const mpu = r2Upload(rt, upload);
      part = await guarded(rt, 'put', () => mpu.uploadPart(plan.part_number, streamedBody(request, size)), () => size, {
        key: upload.key,
        user: auth.subject,
      });
    } catch (e) {
      if (state.quota) await releaseReservation(db, reservation).catch(() => {}); // expires anyway
      throw e;
    }
    await recordPart(db, upload.id, { partNumber: plan.part_number, etag: part.etag, size, reservation, uploadedAtMs: Date.now() });
    auth.auditDetails = { upload_id: upload.id, part_number: plan.part_number, bytes: size };
    return json({ upload_id: upload.id, part_number: plan.part_number, etag: part.etag, size_bytes: size });
  }, WRITE_STORAGE);

  // The upload and the parts it has stored, ascending.
  router.on('GET', '/api/storage/uploads/:upload_id', async (request, params, rt, _ctx, auth) => {
    ask(rt, 'storage_uploads_query', { query: queryNames(request) });
    const upload = await uploadWithParts(rt.env.DB, params.upload_id, auth.subject);
    if (!upload) throw noSuchUpload(params.upload_id);
    return json({
      ...describeUpload(upload),
      parts: upload.parts.map((p) => ({ part_number: p.part_number, etag: p.etag, size_bytes: p.size, uploaded_at: iso(p.uploaded_at_ms) })),
    });
  }, READ_STORAGE);

  // Completes the upload from {"parts": [{"part_number", "etag"}]} (ascending, as each part's
  // upload answered; no body or no "parts": every part uploaded, in order): the object appears at its key, its bytes become the user's usage and the
  // parts' reservations end. Answers the object as a PUT does.
  router.on('POST', '/api/storage/uploads/:upload_id/complete', async (request, params, rt, _ctx, auth) => {
    const db = rt.env.DB;
    const body = JSON.parse(await readJsonBody(request, { optional: true }));
    const upload = await uploadWithParts(db, params.upload_id, auth.subject);
    if (!upload) throw noSuchUpload(params.upload_id);
    const plan = ask(rt, 'storage_multipart_complete', {
      parts: body?.parts ?? null,
      uploaded: upload.parts.map((p) => ({ part_number: p.part_number, etag: p.etag, size_bytes: p.size })),
      expires_at_ms: upload.expires_at_ms,
      query: queryNames(request),
    });
    const mpu = r2Upload(rt, upload);
    const parts = plan.parts.map((p) => ({ partNumber: p.part_number, etag: p.etag }));
    const object = await guarded(rt, 'put', () => mpu.complete(parts), undefined, { key: upload.key, user: auth.subject });
    // The object's bytes become usage as the upload's reservation ends (one transaction), then
    // the parts' reservations go with the upload's rows.
    await recordStoredObject(db, { user: auth.subject, key: upload.key, r2Key: upload.r2_key, prefix: upload.prefix, size: plan.size_bytes, reservation: upload.reservation });
    await forgetUpload(db, upload.id);
    auth.auditDetails = { upload_id: upload.id, parts: parts.length, bytes: plan.size_bytes };
    return json(describe(object, upload.r2_key.slice(0, upload.r2_key.length - upload.key.length)), 201);
  }, WRITE_STORAGE);

  // Aborts the upload: R2 drops its parts, and their reservations end.
  router.on('DELETE', '/api/storage/uploads/:upload_id', async (request, params, rt, _ctx, auth) => {
    const db = rt.env.DB;
    const upload = await uploadOf(db, params.upload_id, auth.subject);
    if (!upload) throw noSuchUpload(params.upload_id);
    // An expired upload R2 has already dropped: only its records remain to forget.
    if (ask(rt, 'storage_upload_open', { expires_at_ms: upload.expires_at_ms, query: queryNames(request) }).open) {
      const mpu = r2Upload(rt, upload);
      await guarded(rt, 'delete', () => mpu.abort(), undefined, { key: upload.key, user: auth.subject });
    }
    await forgetUpload(db, upload.id);
    auth.auditDetails = { upload_id: upload.id };
    return new Response(null, { status: 204 });
  }, WRITE_STORAGE);
}
