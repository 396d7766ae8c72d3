// The public status page: GET /status (HTML) and GET /api/status (JSON), no token. Each
// component's state, uptime per operation over 24 hours, 7 and 90 days from the synthetic
// probes, and incidents (alerts an admin made public) with their updates. The engine decides
// what is read, what counts, what the public sees and how long it is cached (CACHE_TTL); this
// file reads D1, asks, caches with the Cache API and writes HTML. The admin's routes that
// publish an alert as an incident and post updates live here too.
import { HttpError, json, readJsonBody, ask } from './http.js';
import { observedVerdict } from './health.js';
import {
  readStatusPage,
  incidentOfAlert,
  incidentUpdates,
  saveIncident,
  unpublishIncident,
  alertExists,
} from './db/status.js';

const PAGE_PATHS = ['/status', '/api/status'];

/** The health verdict's components, observed as GET /api/health observes them. */
async function verdictComponents(rt, nowMs) {
  const { db, verdict } = await observedVerdict(rt, nowMs);
  return { components: verdict.components, databaseOk: db.database_ok };
}

/** The public page as the engine projects it (nothing that is not marked public). */
async function statusPage(rt, plan, nowMs) {
  const { components, databaseOk } = await verdictComponents(rt, nowMs);
  let stored = { tallies: [], incidents: [], updates: [] };
  if (databaseOk) {
    try {
      stored = await readStatusPage(rt.env.DB, {
        hoursFromMs: plan.hours_from_ms,
        daysFromMs: plan.days_from_ms,
        incidentsFromMs: plan.incidents_from_ms,
      });
    } catch (e) {
      console.error(`r2watch: status page history unreadable: ${e.message}`);
    }
  }
  return ask(rt, 'status_page', { components, ...stored }, nowMs);
}

function cacheKey(request, path) {
  return new URL(path, request.url).toString();
}

function statusCache() {
  return typeof caches === 'undefined' ? null : caches.default;
}

/**
 * Answers from the Cache API when a fresh copy is there (x-r2watch-cache: hit), otherwise
 * builds the answer, stores it for cache_ttl_s seconds and answers it (miss).
 */
async function cachedAnswer(request, rt, build) {
  const nowMs = Date.now();
  const plan = ask(rt, 'status_plan', { cache_ttl: rt.env.CACHE_TTL ?? null }, nowMs);
  if (plan.configuration_error) console.warn(`r2watch: ${plan.configuration_error}; caching for ${plan.cache_ttl_s} s`);
  const cache = plan.cache_ttl_s > 0 ? statusCache() : null;
  const key = cacheKey(request, new URL(request.url).pathname);
  if (cache) {
    const hit = await cache.match(key);
    if (hit) {
      const answer = new Response(hit.body, hit);
      answer.headers.set('x-r2watch-cache', 'hit');
      return answer;
    }
  }
  const answer = await build(plan, nowMs);
  answer.headers.set('cache-control', plan.cache_ttl_s > 0 ? `public, max-age=${plan.cache_ttl_s}` : 'no-store');
  if (cache) {
    try {
      await cache.put(key, answer.clone());
    } catch (e) {
      console.warn(`r2watch: status page not cached: ${e.message}`);
    }
  }
  answer.headers.set('x-r2watch-cache', cache ? 'miss' : 'off');
  return answer;
}

/** After an incident changes, this location's cached page goes (others wait out CACHE_TTL). */
async function purgeStatusCache(request) {
  const cache = statusCache();
  if (!cache) return;
  for (const path of PAGE_PATHS) {
    try {
      await cache.delete(cacheKey(request, path));
    } catch (e) {
      console.warn(`r2watch: status page cache not purged: ${e.message}`);
    }
  }
}

// ---- HTML ------------------------------------------------------------------------------------

const ESCAPES = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };
function esc(value) {
  return String(value).replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

const STATE_WORDS = { operational: 'Operational', degraded: 'Degraded performance', outage: 'Outage' };
const OVERALL_WORDS = {
  operational: 'All systems operational',
  degraded: 'Some systems are degraded',
  outage: 'Some systems are down',
};

function pct(value) {
  return value === null ? 'no data' : `${value.toFixed(3).replace(/\.?0+$/, '')}%`;
}

function when(ms) {
  return ms === null ? '' : `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function renderIncident(i) {
  const updates = i.updates
    .map(
      (u) => `<li><strong>${esc(u.status)}</strong> <time datetime="${esc(new Date(u.posted_at_ms).toISOString())}">${esc(when(u.posted_at_ms))}</time>
        <p>${esc(u.message).replace(/\r?\n/g, '<br>')}</p></li>`,
    )
    .join('');
  return `<article class="incident ${i.resolved_at_ms === null ? 'open' : 'resolved'}" data-incident="${esc(i.id)}">
    <h3>${esc(i.title)}</h3>
    <p class="meta">${esc(i.status)} · impact ${esc(i.impact)} · since ${esc(when(i.started_at_ms))}${i.resolved_at_ms === null ? '' : ` · resolved ${esc(when(i.resolved_at_ms))}`}</p>
    ${updates ? `<ol class="updates">${updates}</ol>` : ''}
  </article>`;
}

function renderHtml(page, refreshSeconds) {
  const windows = page.uptime.windows;
  const components = page.components
    .map((c) => `<li data-component="${esc(c.name)}"><span>${esc(c.title)}</span><span class="state ${esc(c.state)}">${esc(STATE_WORDS[c.state] ?? c.state)}</span></li>`)
    .join('');
  const uptimeRows = [
    `<tr><th scope="row">All operations</th>${windows.map((w) => `<td>${esc(pct(page.uptime.overall_pct[w]))}</td>`).join('')}</tr>`,
    ...page.uptime.operations.map(
      (o) => `<tr><th scope="row">${esc(o.operation.toUpperCase())}</th>${windows.map((w) => `<td>${esc(pct(o.uptime_pct[w]))}</td>`).join('')}</tr>`,
    ),
  ].join('');
  const bars = page.uptime.days
    .map((d) => `<span class="day ${esc(d.level)}" title="${esc(`${d.date}: ${pct(d.uptime_pct)}`)}"></span>`)
    .join('');
  const incidents = page.incidents.length
    ? page.incidents.map(renderIncident).join('')
    : '<p class="note">No incidents reported in the last 14 days.</p>';
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
${refreshSeconds > 0 ? `<meta http-equiv="refresh" content="${refreshSeconds}">` : ''}
<title>r2watch status</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;max-width:52rem;margin:0 auto;padding:1rem;color:#1b1f24;background:#fff}
@media (prefers-color-scheme:dark){body{color:#e6e8eb;background:#14171a}.panel{border-color:#333}}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem}
.overall{padding:1rem;border-radius:.5rem;font-weight:600;color:#fff}
.overall.operational{background:#1a7f37}.overall.degraded{background:#9a6700}.overall.outage{background:#cf222e}
ul.components{list-style:none;padding:0}ul.components li{display:flex;justify-content:space-between;padding:.5rem 0;border-bottom:1px solid #8884}
.state.operational{color:#1a7f37}.state.degraded{color:#9a6700}.state.outage{color:#cf222e}
table{border-collapse:collapse;width:100%}th,td{text-align:left;padding:.3rem .5rem;border-bottom:1px solid #8884}
.bars{display:flex;gap:1px;height:2rem;margin:.5rem 0}.day{flex:1;border-radius:1px}
.day.up{background:#2da44e}.day.partial{background:#d4a72c}.day.down{background:#cf222e}.day.none{background:#8884}
.incident{border-left:4px solid #9a6700;padding-left:.75rem;margin:1rem 0}.incident.resolved{border-color:#2da44e}
.meta,.note{color:#6e7781;font-size:.9rem}ol.updates{list-style:none;padding:0}
</style>
</head>
<body>
<h1>r2watch status</h1>
<p class="overall ${esc(page.status)}" data-status="${esc(page.status)}">${esc(OVERALL_WORDS[page.status] ?? page.status)}</p>
<h2>Components</h2>
<ul class="components">${components}</ul>
<h2>Uptime</h2>
<p class="note">Share of the scheduled synthetic probes of the storage API that succeeded.</p>
<table><thead><tr><th scope="col">Operation</th>${windows.map((w) => `<th scope="col">${esc(w)}</th>`).join('')}</tr></thead><tbody>${uptimeRows}</tbody></table>
<div class="bars" role="img" aria-label="Uptime of each of the last ${page.uptime.days.length} days">${bars}</div>
<h2>Incidents</h2>
${incidents}
<p class="note">Updated <time datetime="${esc(new Date(page.generated_at_ms).toISOString())}">${esc(when(page.generated_at_ms))}</time>. Also as JSON: <a href="/api/status">/api/status</a>.</p>
</body>
</html>`;
}

// ---- incidents (admin) ----------------------------------------------------------------------

function describeIncident(incident, updates) {
  return incident === null ? null : { ...incident, updates };
}

function shortId() {
  return crypto.randomUUID().replaceAll('-', '').slice(0, 12);
}

/** The incident as the engine reads it back (stored columns). */
function engineIncident(row) {
  if (!row) return null;
  const { alert_id: _alert, ...incident } = row;
  return incident;
}

export function registerStatusRoutes(router) {
  router.on('GET', '/api/status', async (request, _params, rt) =>
    cachedAnswer(request, rt, async (plan, nowMs) => json(await statusPage(rt, plan, nowMs))),
  { public: true });

  router.on('GET', '/status', async (request, _params, rt) =>
    cachedAnswer(request, rt, async (plan, nowMs) =>
      new Response(renderHtml(await statusPage(rt, plan, nowMs), plan.page_refresh_s), {
        headers: {
          'content-type': 'text/html; charset=utf-8',
          'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
          'x-content-type-options': 'nosniff',
        },
      })),
  { public: true });

  // An alert's public incident: null when the alert has none (the alert page asks every time).
  router.on('GET', '/api/alerts/:id/incident', async (_request, params, rt) => {
    const db = rt.env.DB;
    if (!(await alertExists(db, params.id))) throw new HttpError('not_found', `no alert with id ${params.id}`, { field: 'id' });
    const incident = await incidentOfAlert(db, params.id);
    return json({ incident: describeIncident(incident, incident ? await incidentUpdates(db, incident.id) : []) });
  });

  // Marks the alert public: the title (and impact) the public reads, optionally a first update.
  router.on('PUT', '/api/alerts/:id/incident', async (request, params, rt, _ctx, auth) => {
    const body = await readJsonBody(request);
    const db = rt.env.DB;
    if (!(await alertExists(db, params.id))) throw new HttpError('not_found', `no alert with id ${params.id}`, { field: 'id' });
    const current = await incidentOfAlert(db, params.id);
    const { incident, update } = ask(
      rt,
      'status_incident_publish',
      `{"request":${body},"current":${JSON.stringify(engineIncident(current))},"id":"inc-${shortId()}"}`,
    );
    await saveIncident(db, params.id, incident, update, auth.user);
    await purgeStatusCache(request);
    return json({ incident: describeIncident({ ...incident, alert_id: params.id }, await incidentUpdates(db, incident.id)) }, current ? 200 : 201);
  });

  // Takes it off the page (the incident and its updates are kept).
  router.on('DELETE', '/api/alerts/:id/incident', async (request, params, rt) => {
    if (!(await unpublishIncident(rt.env.DB, params.id, Date.now()))) {
      throw new HttpError('not_found', `alert ${params.id} has no public incident`, { field: 'id' });
    }
    await purgeStatusCache(request);
    return new Response(null, { status: 204 });
  });

  // Posts an update: its status becomes the incident's ("resolved" resolves it).
  router.on('POST', '/api/alerts/:id/incident/updates', async (request, params, rt, _ctx, auth) => {
    const body = await readJsonBody(request);
    const db = rt.env.DB;
    const current = await incidentOfAlert(db, params.id);
    if (!current) throw new HttpError('not_found', `alert ${params.id} has no incident: mark it public first (PUT /api/alerts/${params.id}/incident)`, { field: 'id' });
    const { incident, update } = ask(
      rt,
      'status_incident_update',
      `{"request":${body},"current":${JSON.stringify(engineIncident(current))}}`,
    );
    await saveIncident(db, params.id, incident, update, auth.user);
    await purgeStatusCache(request);
    return json({ incident: describeIncident({ ...incident, alert_id: params.id }, await incidentUpdates(db, incident.id)) }, 201);
  });
}
