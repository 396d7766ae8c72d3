#!/usr/bin/env node
// A local stand-in for Cloudflare's GraphQL Analytics API (R2's two datasets), serving a
// generated account so `make dev` and the tests have every-bucket figures without a Cloudflare
// account. It answers only queries shaped like Cloudflare's (dataset name, accountTag filter,
// limit up to 10,000, datetime filters within the last 31 days, known dimensions and figures)
// and refuses the rest the way Cloudflare does: HTTP 200 with a GraphQL `errors` array, or an
// API error for a missing or wrong token.
//
// The account: 4 buckets over the last 31 days, hour by hour, with a daily cycle; one spike
// (bucket `media`, GetObject, 3 days ago at 14:00 UTC); one bucket with abandoned multipart
// uploads (`backups`: uploadCount stays up) that also keeps most of its bytes in Infrequent
// Access storage (its storage rows come per storage class); one action type in no pricing
// class (`PutBucketWebsite`); auth failures (403) and errors (404 userError, 500
// internalError). Queries may alias any field (as r2watch's do, `s: sum { r: requests }`):
// the answer uses the aliases, as GraphQL does.
//
//   node tools/graphql-standin.mjs [--port 0] [--account ACCOUNT] [--token TOKEN] [--print-env]
// prints `CLOUDFLARE_GRAPHQL_URL=...` once listening (and the id and token with --print-env).
import { createServer } from 'node:http';

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;
const MAX_LIMIT = 10_000;
const RETENTION_MS = 31 * DAY_MS;

export const STANDIN_ACCOUNT_ID = '0123456789abcdef0123456789abcdef';
export const STANDIN_TOKEN = 'standin-token-not-a-secret';
export const UNKNOWN_ACTION = 'PutBucketWebsite';
export const SPIKE = { bucket: 'media', action: 'GetObject', daysAgo: 3, hour: 14, factor: 40 };

// Per bucket: stored bytes (payload, metadata), objects, pending uploads, and per action type
// the requests of an average hour with their status mix.
const BUCKETS = {
  assets: {
    payload: 60e9, metadata: 0.2e9, objects: 400_000, uploads: 0, growthPerDay: 0.2e9,
    ops: { GetObject: 22_000, HeadObject: 3_000, ListObjects: 200, PutObject: 900, DeleteObject: 100 },
  },
  media: {
    payload: 220e9, metadata: 0.5e9, objects: 90_000, uploads: 1, growthPerDay: 1e9,
    ops: { GetObject: 9_000, PutObject: 1_500, CopyObject: 50, HeadObject: 500 },
  },
  backups: {
    payload: 480e9, metadata: 0.1e9, objects: 3_000, uploads: 37, growthPerDay: 4e9,
    // Infrequent Access: older backups moved by a lifecycle rule.
    infrequent: { payload: 900e9, metadata: 0.05e9, objects: 1_500, growthPerDay: 10e9 },
    ops: { CreateMultipartUpload: 20, UploadPart: 600, CompleteMultipartUpload: 12, ListMultipartUploads: 30, AbortMultipartUpload: 1 },
  },
  logs: {
    payload: 35e9, metadata: 0.05e9, objects: 1_200_000, uploads: 0, growthPerDay: 0.5e9,
    ops: { PutObject: 2_500, ListObjects: 100, GetObject: 150, [UNKNOWN_ACTION]: 3 },
  },
};

// Deterministic noise: the same hour always has the same figures.
function noise(seed) {
  let t = (seed + 0x6d2b79f5) | 0;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const hashOf = (s) => [...s].reduce((h, c) => (Math.imul(h, 31) + c.charCodeAt(0)) | 0, 7);

/**
 * The generated account anchored at `nowMs`: hour rows from 31 days before it up to its hour,
 * and one storage row per bucket and day. `adjust` lets a test add late requests.
 */
export function generateAccount(nowMs) {
  const lastHour = Math.floor(nowMs / HOUR_MS) * HOUR_MS;
  const firstHour = lastHour - 31 * 24 * HOUR_MS;
  const operations = [];
  for (let h = firstHour; h <= lastHour; h += HOUR_MS) {
    const hourOfDay = new Date(h).getUTCHours();
    const cycle = 1 + 0.6 * Math.sin(((hourOfDay - 9) / 24) * 2 * Math.PI); // busiest at 15:00 UTC
    for (const [bucket, b] of Object.entries(BUCKETS)) {
      for (const [action, perHour] of Object.entries(b.ops)) {
        let n = Math.max(1, Math.round(perHour * cycle * (0.85 + 0.3 * noise(hashOf(bucket + action) ^ (h / HOUR_MS)))));
        const spikeHour = lastHour - (lastHour % DAY_MS) - SPIKE.daysAgo * DAY_MS + SPIKE.hour * HOUR_MS;
        if (bucket === SPIKE.bucket && action === SPIKE.action && h === spikeHour) n *= SPIKE.factor;
        const denied = action === 'PutObject' ? Math.round(n * 0.01) : 0; // bad credentials: 403, not billed
        const missing = action === 'GetObject' ? Math.round(n * 0.02) : 0; // 404 userError, billed
        const broken = Math.round(n * 0.001); // 500 internalError, billed
        const ok = n - denied - missing - broken;
        const put = (status, code, requests, bytes) => {
          if (requests > 0) operations.push({ hour: h, bucket, action, status, code, requests, bytes });
        };
        put('success', 200, ok, action === 'GetObject' ? ok * 150_000 : 0);
        put('userError', 403, denied, 0);
        put('userError', 404, missing, 0);
        put('internalError', 500, broken, 0);
      }
    }
  }
  const storage = [];
  for (let d = Math.floor(firstHour / DAY_MS) * DAY_MS; d <= lastHour; d += DAY_MS) {
    const age = Math.round((lastHour - d) / DAY_MS);
    for (const [bucket, b] of Object.entries(BUCKETS)) {
      storage.push({
        day: d,
        bucket,
        storageClass: 'Standard',
        payloadSize: Math.round(b.payload - b.growthPerDay * age),
        metadataSize: Math.round(b.metadata),
        objectCount: Math.round(b.objects * (1 - age * 0.002)),
        uploadCount: b.uploads,
      });
      if (b.infrequent) {
        const ia = b.infrequent;
        storage.push({
          day: d,
          bucket,
          storageClass: 'InfrequentAccess',
          payloadSize: Math.round(ia.payload - ia.growthPerDay * age),
          metadataSize: Math.round(ia.metadata),
          objectCount: Math.round(ia.objects * (1 - age * 0.002)),
          uploadCount: 0,
        });
      }
    }
  }
  return { nowMs, firstHour, lastHour, operations, storage };
}

function graphqlError(message, code = 'GRAPHQL_VALIDATION_FAILED') {
  return { status: 200, body: { data: null, errors: [{ message, path: null, extensions: { code, timestamp: new Date().toISOString() } }] } };
}

const OPS_DIMENSIONS = ['datetimeHour', 'datetime', 'date', 'bucketName', 'actionType', 'actionStatus', 'responseStatusCode', 'objectName'];
const OPS_SUM = ['requests', 'responseObjectSize'];
const STORAGE_DIMENSIONS = ['datetime', 'date', 'datetimeHour', 'bucketName', 'storageClass'];
const STORAGE_MAX = ['payloadSize', 'metadataSize', 'objectCount', 'uploadCount'];

/**
 * The selection `block { ... }` (maybe aliased, `s: sum { ... }`): {alias, fields: [{alias,
 * name}]}, or null when the query has none.
 */
function selectionOf(query, block) {
  const m = new RegExp(`(?:(\\w+)\\s*:\\s*)?\\b${block}\\s*\\{([^}]*)\\}`).exec(query);
  if (!m) return null;
  const fields = [...m[2].matchAll(/(?:(\w+)\s*:\s*)?(\w+)/g)].map((f) => ({ alias: f[1] ?? f[2], name: f[2] }));
  return { alias: m[1] ?? block, fields };
}

function valueOf(query, variables, name) {
  const m = new RegExp(`${name}\\s*:\\s*(\\$\\w+|"[^"]*"|\\d+)`).exec(query);
  if (!m) return undefined;
  if (m[1].startsWith('$')) return variables?.[m[1].slice(1)];
  if (m[1].startsWith('"')) return m[1].slice(1, -1);
  return Number(m[1]);
}

/** Answers one GraphQL request body against the account: {status, body}. */
export function answer(account, { accountId, token }, authorization, body) {
  if (authorization !== `Bearer ${token}`) {
    return { status: 403, body: { success: false, errors: [{ code: 10000, message: 'Authentication error' }] } };
  }
  if (!body || typeof body.query !== 'string') return graphqlError('a GraphQL request needs a query string');
  const { query, variables = {} } = body;
  if (!/\bviewer\s*\{/.test(query) || !/\baccounts\s*\(/.test(query)) return graphqlError('unknown field: R2 datasets are under viewer.accounts');
  const tag = valueOf(query, variables, 'accountTag');
  if (tag === undefined) return graphqlError('accounts needs an accountTag filter');
  if (tag !== accountId) return graphqlError('not authorized for that account', 'authz');
  const dataset = /\b(r2OperationsAdaptiveGroups|r2StorageAdaptiveGroups)\s*\(/.exec(query)?.[1];
  if (!dataset) return graphqlError('unknown dataset: R2 has r2OperationsAdaptiveGroups and r2StorageAdaptiveGroups');
  const limit = valueOf(query, variables, 'limit');
  if (!Number.isInteger(limit) || limit < 1) return graphqlError('limit is required');
  if (limit > MAX_LIMIT) return graphqlError(`limit must be at most ${MAX_LIMIT}`, 'BAD_USER_INPUT');
  const geq = valueOf(query, variables, 'datetime_geq');
  const lt = valueOf(query, variables, 'datetime_lt');
  const leq = valueOf(query, variables, 'datetime_leq');
  if (geq === undefined || (lt === undefined && leq === undefined)) return graphqlError('a datetime_geq and datetime_lt (or datetime_leq) filter is required');
  const start = Date.parse(geq);
  const end = Date.parse(lt ?? leq);
  if (!Number.isFinite(start) || !Number.isFinite(end)) return graphqlError('datetime filters must be times as 2026-01-01T00:00:00Z', 'BAD_USER_INPUT');
  if (start < Date.now() - RETENTION_MS - HOUR_MS) return graphqlError('cannot request data older than 31 days (2678400s)', 'BAD_USER_INPUT');
  const isOps = dataset === 'r2OperationsAdaptiveGroups';
  const datasetAlias = new RegExp(`(\\w+)\\s*:\\s*${dataset}\\s*\\(`).exec(query)?.[1] ?? dataset;
  const figuresBlock = isOps ? 'sum' : 'max';
  const dimSel = selectionOf(query, 'dimensions') ?? { alias: 'dimensions', fields: [] };
  const figSel = selectionOf(query, figuresBlock) ?? { alias: figuresBlock, fields: [] };
  for (const { name } of dimSel.fields) {
    if (!(isOps ? OPS_DIMENSIONS : STORAGE_DIMENSIONS).includes(name)) return graphqlError(`unknown field "${name}" on type "${dataset}Dimensions"`);
  }
  for (const { name } of figSel.fields) {
    if (!(isOps ? OPS_SUM : STORAGE_MAX).includes(name)) return graphqlError(`unknown field "${name}" on type "${dataset}${isOps ? 'Sum' : 'Max'}"`);
  }
  const inRange = (t) => t >= start && (lt !== undefined ? t < end : t <= end);
  const bucketFilter = valueOf(query, variables, 'bucketName');
  const groups = new Map();
  const rows = isOps ? account.operations : account.storage;
  const iso = (t) => new Date(t).toISOString().replace('.000Z', 'Z');
  for (const r of rows) {
    const t = isOps ? r.hour : r.day;
    if (!inRange(t) || (bucketFilter !== undefined && bucketFilter !== r.bucket)) continue;
    const dimValues = {};
    for (const { alias, name } of dimSel.fields) {
      if (name === 'datetimeHour' || name === 'datetime') dimValues[alias] = iso(t);
      else if (name === 'date') dimValues[alias] = iso(t).slice(0, 10);
      else if (name === 'bucketName') dimValues[alias] = r.bucket;
      else if (name === 'actionType') dimValues[alias] = r.action;
      else if (name === 'actionStatus') dimValues[alias] = r.status;
      else if (name === 'responseStatusCode') dimValues[alias] = r.code;
      else if (name === 'objectName') dimValues[alias] = '';
      else if (name === 'storageClass') dimValues[alias] = r.storageClass ?? 'Standard';
    }
    const key = JSON.stringify(dimValues);
    let g = groups.get(key);
    if (!g) {
      g = { t, group: { [figSel.alias]: Object.fromEntries(figSel.fields.map((f) => [f.alias, 0])), [dimSel.alias]: dimValues } };
      groups.set(key, g);
    }
    const sums = g.group[figSel.alias];
    for (const { alias, name } of figSel.fields) {
      const v = isOps ? (name === 'requests' ? r.requests : r.bytes) : r[name];
      sums[alias] = isOps ? sums[alias] + v : Math.max(sums[alias], v);
    }
  }
  // orderBy on the time dimension (ascending or descending), then the limit, as Cloudflare does.
  let ordered = [...groups.values()];
  const order = /orderBy\s*:\s*\[\s*(\w+)_(ASC|DESC)/.exec(query);
  if (order) ordered.sort((a, b) => (order[2] === 'ASC' ? a.t - b.t : b.t - a.t));
  const list = ordered.slice(0, limit).map((g) => g.group);
  return { status: 200, body: { data: { viewer: { accounts: [{ [datasetAlias]: list }] } }, errors: null } };
}

/**
 * Starts the stand-in on 127.0.0.1 (`port` 0: a free one). Tests steer it: `failNext(n,
 * status)` answers the next n requests with that HTTP status, `errorsNext(n)` with a GraphQL
 * `errors` array, `garbleNext(n)` with a negative figure; `requests` keeps what was asked
 * (`account`: serve this account instead of the generated one, as generateAccount shapes it)
 * (authorization headers included, so a test can see which token was sent).
 */
export async function startStandIn({ port = 0, nowMs = Date.now(), accountId = STANDIN_ACCOUNT_ID, token = STANDIN_TOKEN, account: given } = {}) {
  const account = given ?? generateAccount(nowMs);
  const faults = [];
  const requests = [];
  const server = createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      let body = null;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        body = null;
      }
      requests.push({ method: req.method, url: req.url, authorization: req.headers.authorization, body });
      const send = (status, payload, headers = {}) => {
        res.writeHead(status, { 'content-type': 'application/json', ...headers });
        res.end(JSON.stringify(payload));
      };
      if (req.method !== 'POST') return send(405, { errors: [{ message: 'POST a GraphQL request' }] });
      const fault = faults.shift();
      if (fault?.status) return send(fault.status, { errors: [{ message: 'rate limited' }] }, fault.status === 429 ? { 'retry-after': '1' } : {});
      if (fault?.errors) return send(200, { data: null, errors: [{ message: 'internal server error while running the query', path: ['viewer'], extensions: { code: 'INTERNAL' } }] });
      const a = answer(account, { accountId, token }, req.headers.authorization, body);
      if (fault?.garble) {
        // The first group's first figure turns negative (whatever the query called it).
        const first = Object.values(a.body?.data?.viewer?.accounts?.[0] ?? {})[0]?.[0];
        const figures = first && Object.values(first).find((v) => typeof Object.values(v)[0] === 'number');
        if (figures) figures[Object.keys(figures)[0]] = -5;
      }
      send(a.status, a.body);
    });
  });
  await new Promise((r) => server.listen(port, '127.0.0.1', r));
  const url = `http://127.0.0.1:${server.address().port}/client/v4/graphql`;
  return {
    url,
    accountId,
    token,
    account,
    requests,
    failNext: (n, status) => faults.push(...Array.from({ length: n }, () => ({ status }))),
    errorsNext: (n) => faults.push(...Array.from({ length: n }, () => ({ errors: true }))),
    garbleNext: (n) => faults.push(...Array.from({ length: n }, () => ({ garble: true }))),
    close: () => new Promise((r) => server.close(r)),
  };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const arg = (name, fallback) => (args.includes(name) ? args[args.indexOf(name) + 1] : fallback);
  const s = await startStandIn({ port: Number(arg('--port', '0')), accountId: arg('--account', STANDIN_ACCOUNT_ID), token: arg('--token', STANDIN_TOKEN) });
  console.log(`CLOUDFLARE_GRAPHQL_URL=${s.url}`);
  if (args.includes('--print-env')) {
    console.log(`CLOUDFLARE_ACCOUNT_ID=${s.accountId}`);
    console.log(`CLOUDFLARE_API_TOKEN=${s.token}`);
  }
}
