// The github channel against a local stand-in for GitHub's REST API (an HTTP server on
// 127.0.0.1 started here; ENVIRONMENT=development lets the Worker reach it): an alert opens an
// issue labelled by its severity, a repeat and the acknowledgement comment on it, the
// resolution comments with the note and closes it. The stand-in records every call and refuses
// one without `Authorization: Bearer <token>` and `Accept: application/vnd.github+json`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startWorker, call, runCron, sleep } from './helpers.mjs';

const MINUTE = 60_000;
const TOKEN = 'ghs_r2watch_test_token_0123';

/** The stand-in: issues, comments and closing, each call recorded. */
async function startGithub() {
  const calls = [];
  const issues = new Map();
  let next = 41;
  const server = http.createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => {
      const entry = { method: req.method, path: req.url, headers: req.headers, body: text ? JSON.parse(text) : null };
      calls.push(entry);
      const answer = (status, body) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(body));
      };
      if (req.headers.authorization !== `Bearer ${TOKEN}`) return answer(401, { message: 'Bad credentials' });
      if (req.headers.accept !== 'application/vnd.github+json') return answer(415, { message: 'Accept' });
      let m;
      if (req.method === 'POST' && (m = /^\/repos\/([^/]+)\/([^/]+)\/issues$/.exec(req.url))) {
        const number = ++next;
        issues.set(number, { ...entry.body, state: 'open', comments: [] });
        return answer(201, { number, html_url: `https://github.example/${m[1]}/${m[2]}/issues/${number}`, state: 'open' });
      }
      if (req.method === 'POST' && (m = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)\/comments$/.exec(req.url))) {
        const issue = issues.get(Number(m[1]));
        if (!issue) return answer(404, { message: 'Not Found' });
        issue.comments.push(entry.body.body);
        return answer(201, { id: calls.length });
      }
      if (req.method === 'PATCH' && (m = /^\/repos\/[^/]+\/[^/]+\/issues\/(\d+)$/.exec(req.url))) {
        const issue = issues.get(Number(m[1]));
        if (!issue) return answer(404, { message: 'Not Found' });
        Object.assign(issue, entry.body);
        return answer(200, { number: Number(m[1]), state: issue.state });
      }
      return answer(404, { message: 'Not Found' });
    });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    calls,
    issues,
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

async function onlyRules(worker, keep) {
  const { body } = await call(worker, 'GET', '/api/alerts/rules');
  for (const rule of body.rules) {
    if (!keep.includes(rule.id)) assert.equal((await call(worker, 'PUT', `/api/alerts/rules/${rule.id}`, { enabled: false })).status, 200);
  }
}

async function failingPuts(worker, n) {
  await call(worker, 'POST', '/api/health/circuit-breaker/disable');
  await call(worker, 'PUT', '/api/admin/faults', { operation: 'put', error_rate: 1 });
  for (let i = 0; i < n; i++) assert.equal((await call(worker, 'PUT', `/api/storage/files/data/${i}.txt`, 'x')).status, 502);
}

async function cron(worker, at) {
  const run = await runCron(worker, '* * * * *', at);
  assert.equal(run.outcome, 'ok', JSON.stringify(run));
}

const channelOf = (github, extra = {}) => ({
  name: 'gh',
  type: 'github',
  repository: 'octo-org/storage',
  token_secret: 'GITHUB_TOKEN',
  api_url: github.url,
  labels_by_severity: { critical: ['r2watch', 'incident', 'p1'] },
  ...extra,
});

test('an alert opens a GitHub issue by severity, a repeat and the ack comment, resolution closes it with the note', async () => {
  const github = await startGithub();
  const worker = await startWorker({ vars: { ENVIRONMENT: 'development', GITHUB_TOKEN: TOKEN } });
  try {
    const put = await call(worker, 'PUT', '/api/alerts/channels', {
      repeat_interval_ms: 5 * MINUTE,
      dashboard_url: 'https://r2watch.example.com',
      channels: [channelOf(github)],
    });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const view = put.body.channels[0];
    assert.deepEqual([view.type, view.repository, view.token_secret, view.api_url], ['github', 'octo-org/storage', 'GITHUB_TOKEN', github.url]);
    assert.equal(JSON.stringify(put.body).includes(TOKEN), false, 'the token is never stored or shown');

    await call(worker, 'POST', '/api/alerts/rules', {
      id: 'errs', name: 'PUT errors', type: 'error_rate', threshold: 20, window_ms: 30 * MINUTE, min_calls: 5, severity: 'critical',
    });
    await onlyRules(worker, ['errs']);
    await failingPuts(worker, 6);
    const t0 = Date.now();
    await cron(worker, t0);
    await cron(worker, t0); // the same minute twice: still one issue

    const opened = github.calls.filter((c) => c.method === 'POST' && c.path === '/repos/octo-org/storage/issues');
    assert.equal(opened.length, 1, 'exactly one issue');
    const issue = opened[0].body;
    assert.match(issue.title, /^\[r2watch\] \[FIRING\] \[CRITICAL\] PUT errors \(bucket [a-z0-9-]+\)$/);
    assert.deepEqual(issue.labels, ['r2watch', 'incident', 'p1']);
    assert.match(issue.body, /\*\*CRITICAL\*\*/);
    assert.match(issue.body, /https:\/\/r2watch\.example\.com\/alerts\//);
    for (const c of github.calls) {
      assert.equal(c.headers.authorization, `Bearer ${TOKEN}`);
      assert.equal(c.headers.accept, 'application/vnd.github+json');
      assert.equal(c.headers['x-github-api-version'], '2022-11-28');
    }
    const number = [...github.issues.keys()][0];

    // A repeat after the repeat interval comments on the same issue.
    await cron(worker, t0 + 5 * MINUTE);
    assert.equal(github.issues.get(number).comments.length, 1);
    assert.match(github.issues.get(number).comments[0], /^\*\*Still firing\*\*/);

    const alert = (await call(worker, 'GET', '/api/alerts')).body.alerts.find((a) => a.rule_id === 'errs');
    const ack = await call(worker, 'POST', `/api/alerts/${alert.id}/ack`, { note: 'looking at the client', by: 'ana' });
    assert.equal(ack.status, 200, JSON.stringify(ack.body));
    assert.match(github.issues.get(number).comments[1], /^\*\*Acknowledged\*\* by \S+: looking at the client$/);

    const resolved = await call(worker, 'POST', `/api/alerts/${alert.id}/resolve`, { note: 'client fixed', by: 'ana' });
    assert.equal(resolved.status, 200, JSON.stringify(resolved.body));
    assert.deepEqual(resolved.body.deliveries.map((d) => [d.channel, d.ok]), [['gh', true]]);
    const closed = github.issues.get(number);
    assert.equal(closed.state, 'closed');
    assert.equal(closed.state_reason, 'completed');
    assert.match(closed.comments[2], /^\*\*Resolved\*\* at \S+ by \S+\.\n\n> client fixed$/);
    assert.equal(github.issues.size, 1, 'never a second issue for the same alert');
    assert.deepEqual(
      github.calls.map((c) => `${c.method} ${c.path}`),
      [
        'POST /repos/octo-org/storage/issues',
        `POST /repos/octo-org/storage/issues/${number}/comments`,
        `POST /repos/octo-org/storage/issues/${number}/comments`,
        `POST /repos/octo-org/storage/issues/${number}/comments`,
        `PATCH /repos/octo-org/storage/issues/${number}`,
      ],
    );
    const stored = await worker.db.prepare('SELECT issue_number, closed_at_ms FROM alert_github_issues').all();
    assert.equal(stored.results.length, 1);
    assert.equal(stored.results[0].issue_number, number);
    assert.notEqual(stored.results[0].closed_at_ms, null);
  } finally {
    await worker.dispose();
    await github.close();
  }
});

test('a github channel without its token secret is a recorded failed delivery', async () => {
  const github = await startGithub();
  const worker = await startWorker({ vars: { ENVIRONMENT: 'development' } });
  try {
    assert.equal((await call(worker, 'PUT', '/api/alerts/channels', { channels: [channelOf(github)] })).status, 200);
    const sent = await call(worker, 'POST', '/api/alerts/test', { channel: 'gh' });
    assert.equal(sent.status, 200);
    assert.equal(sent.body.deliveries[0].ok, false);
    assert.match(sent.body.deliveries[0].error, /secret GITHUB_TOKEN is not set/);
    assert.equal(github.calls.length, 0);
  } finally {
    await worker.dispose();
    await github.close();
  }
});

test('a bad github channel is a 422 naming the field, and nothing is stored', async () => {
  const github = await startGithub();
  const worker = await startWorker({ vars: { ENVIRONMENT: 'development', GITHUB_TOKEN: TOKEN } });
  try {
    const good = { name: 'hook', type: 'webhook', url: `${github.url}/hook` };
    assert.equal((await call(worker, 'PUT', '/api/alerts/channels', { channels: [good] })).status, 200);
    const { token_secret: _dropped, ...noToken } = channelOf(github);
    const cases = [
      [channelOf(github, { repository: 'storage' }), 'channels[0].repository'],
      [channelOf(github, { repository: 'octo-org/storage/extra' }), 'channels[0].repository'],
      [noToken, 'channels[0].token_secret'],
      [channelOf(github, { token_secret: TOKEN }), 'channels[0].token_secret'],
      [channelOf(github, { api_url: 'http://10.1.2.3/api' }), 'channels[0].api_url'],
      [channelOf(github, { labels_by_severity: { urgent: ['x'] } }), 'channels[0].labels_by_severity.urgent'],
    ];
    for (const [channel, field] of cases) {
      const res = await call(worker, 'PUT', '/api/alerts/channels', { channels: [channel] });
      assert.equal(res.status, 422, JSON.stringify(channel));
      assert.equal(res.body.error.field, field, JSON.stringify(res.body));
    }
    const stored = await call(worker, 'GET', '/api/alerts/channels');
    assert.deepEqual(stored.body.channels.map((c) => c.name), ['hook']);
    await sleep(10);
    assert.equal(github.calls.length, 0);
  } finally {
    await worker.dispose();
    await github.close();
  }
});
