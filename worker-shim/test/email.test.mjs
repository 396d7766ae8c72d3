// Email for real: the Worker sends through the `send_email` binding (SEND_EMAIL, declared in
// wrangler.toml) with `EmailMessage` from `cloudflare:email`, and Miniflare's local email
// binding receives it: it parses the raw MIME message (refusing one it cannot parse or whose
// From does not match) and stores it as an .eml file whose path it logs. The test reads that
// file and checks the message the engine built.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Log, LogLevel } from 'miniflare';
import { startWorker, call, sleep } from './helpers.mjs';

/** A Miniflare log that keeps every line (Miniflare logs the path of each sent email). */
class CaptureLog extends Log {
  lines = [];
  constructor() {
    super(LogLevel.INFO);
  }
  logWithLevel(level, message) {
    this.lines.push(message);
  }
}

async function startMailWorker() {
  const log = new CaptureLog();
  const worker = await startWorker({
    vars: { ENVIRONMENT: 'development' },
    miniflare: { email: { send_email: [{ name: 'SEND_EMAIL' }] }, log },
  });
  return { worker, log };
}

/** The raw messages Miniflare stored so far, waiting up to 5 s for `n` of them. */
async function sentEmails(log, n) {
  for (let i = 0; i < 50; i++) {
    const paths = log.lines.flatMap((l) => [...l.matchAll(/(\S+\.eml)/g)].map((m) => m[1]));
    if (paths.length >= n) return paths.map((p) => readFileSync(p, 'utf8'));
    await sleep(100);
  }
  assert.fail(`expected ${n} sent emails; log: ${log.lines.join('\n')}`);
}

/** Splits a MIME message into its headers (lower-case names) and its parts, bodies decoded. */
function parseMime(raw) {
  const [head, ...rest] = raw.split('\r\n\r\n');
  const headers = {};
  for (const line of head.replace(/\r\n[ \t]/g, ' ').split('\r\n')) {
    const i = line.indexOf(':');
    headers[line.slice(0, i).toLowerCase()] = line.slice(i + 1).trim();
  }
  const boundary = /boundary="([^"]+)"/.exec(headers['content-type'])?.[1];
  const body = rest.join('\r\n\r\n');
  const parts = boundary
    ? body
        .split(`--${boundary}`)
        .slice(1, -1)
        .map((p) => {
          const [ph, ...pb] = p.replace(/^\r\n/, '').split('\r\n\r\n');
          const partHeaders = Object.fromEntries(
            ph.split('\r\n').map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
          );
          const encoded = pb.join('\r\n\r\n').trim();
          const text = partHeaders['content-transfer-encoding'] === 'base64' ? Buffer.from(encoded, 'base64').toString('utf8') : encoded;
          return { headers: partHeaders, text };
        })
    : [];
  return { headers, parts, closed: boundary ? body.includes(`--${boundary}--`) : false };
}

const MAIL = { name: 'mail', type: 'email', to: ['ops@example.com', 'billing@example.com'], from: 'r2watch@example.com' };

test('a test notification goes out through SEND_EMAIL as multipart/alternative MIME, text and HTML', async () => {
  const { worker, log } = await startMailWorker();
  try {
    const put = await call(worker, 'PUT', '/api/alerts/channels', { channels: [MAIL] });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    const sent = await call(worker, 'POST', '/api/alerts/test', { channel: 'mail' });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    const [delivery] = sent.body.deliveries;
    assert.equal(delivery.ok, true, delivery.error);
    assert.equal(delivery.status, 'sent');
    assert.equal(delivery.target, 'email:ops@example.com,billing@example.com');

    // One message per recipient (an EmailMessage has one envelope recipient), the same MIME.
    const raws = await sentEmails(log, 2);
    assert.equal(raws.length, 2);
    const mail = parseMime(raws[0]);
    assert.equal(mail.headers.from, 'r2watch@example.com');
    assert.equal(mail.headers.to, 'ops@example.com, billing@example.com');
    assert.equal(mail.headers['mime-version'], '1.0');
    assert.match(mail.headers['message-id'], /^<[0-9a-f]{16}@example\.com>$/);
    assert.match(mail.headers.date, /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} \+0000$/);
    assert.match(mail.headers.subject, /^\[r2watch\] /);
    assert.match(mail.headers['content-type'], /^multipart\/alternative; boundary="r2watch-[0-9a-f]{16}"$/);
    assert.equal(mail.closed, true, 'the closing boundary is there');
    assert.deepEqual(
      mail.parts.map((p) => p.headers['content-type']),
      ['text/plain; charset=utf-8', 'text/html; charset=utf-8'],
    );
    // Base64 parts: UTF-8 and long lines pass any relay unchanged.
    assert.deepEqual(mail.parts.map((p) => p.headers['content-transfer-encoding']), ['base64', 'base64']);
    const [text, html] = mail.parts;
    assert.match(text.text, /test/i);
    assert.doesNotMatch(text.text, /</);
    assert.match(html.text, /^<html><body><h2>\[r2watch\] /);
    // RFC 5322: every line ends in CRLF and none is longer than 998 characters.
    assert.equal(raws[0].replace(/\r\n/g, '').includes('\n'), false);
    assert.ok(raws[0].split('\r\n').every((l) => l.length <= 998));

    // The outbox and its attempt record the sent message.
    const list = await call(worker, 'GET', '/api/alerts/notifications');
    const attempt = list.body.attempts.find((a) => a.channel === 'mail');
    assert.equal(attempt.status, 'sent');
  } finally {
    await worker.dispose();
  }
});

test('an email address that is not one is a 422 naming the field, and nothing is stored', async () => {
  const { worker, log } = await startMailWorker();
  try {
    assert.equal((await call(worker, 'PUT', '/api/alerts/channels', { channels: [MAIL] })).status, 200);
    const cases = [
      [{ ...MAIL, to: ['ops@example.com\r\nBcc: everyone@evil.example'] }, 'channels[0].to'],
      [{ ...MAIL, to: ['ops'] }, 'channels[0].to'],
      [{ ...MAIL, to: ['ops@example'] }, 'channels[0].to'],
      [{ ...MAIL, to: ['Ops <ops@example.com>'] }, 'channels[0].to'],
      [{ ...MAIL, to: ['ops@@example.com'] }, 'channels[0].to'],
      [{ ...MAIL, from: 'r2watch@' }, 'channels[0].from'],
      [{ ...MAIL, from: 'r2watch @example.com' }, 'channels[0].from'],
    ];
    for (const [channel, field] of cases) {
      const res = await call(worker, 'PUT', '/api/alerts/channels', { channels: [channel] });
      assert.equal(res.status, 422, JSON.stringify(channel));
      assert.equal(res.body.error.field, field, JSON.stringify(res.body));
    }
    const stored = await call(worker, 'GET', '/api/alerts/channels');
    assert.deepEqual(stored.body.channels.map((c) => [c.name, c.to, c.from]), [['mail', MAIL.to, MAIL.from]]);
    assert.equal(log.lines.some((l) => l.includes('.eml')), false, 'nothing was sent');
  } finally {
    await worker.dispose();
  }
});

test('an email channel without addresses sends to EMAIL_TO from EMAIL_FROM; without them it is refused naming the field', async () => {
  const log = new CaptureLog();
  const worker = await startWorker({
    vars: { ENVIRONMENT: 'development', EMAIL_TO: 'ops@example.com, oncall@example.com', EMAIL_FROM: 'r2watch@example.com' },
    miniflare: { email: { send_email: [{ name: 'SEND_EMAIL' }] }, log },
  });
  try {
    const put = await call(worker, 'PUT', '/api/alerts/channels', { channels: [{ name: 'mail', type: 'email' }] });
    assert.equal(put.status, 200, JSON.stringify(put.body));
    // Stored without addresses: the environment's are used when it is sent.
    const read = await call(worker, 'GET', '/api/alerts/channels');
    const channel = read.body.channels.find((c) => c.name === 'mail');
    assert.deepEqual([channel.to, channel.from], [[], '']);
    // What GET answered, sent back unchanged, is accepted.
    assert.equal((await call(worker, 'PUT', '/api/alerts/channels', { channels: read.body.channels })).status, 200);
    const sent = await call(worker, 'POST', '/api/alerts/test', { channel: 'mail' });
    assert.equal(sent.status, 200, JSON.stringify(sent.body));
    assert.equal(sent.body.deliveries[0].ok, true, sent.body.deliveries[0].error);
    const raws = await sentEmails(log, 2);
    for (const raw of raws) {
      const { headers } = parseMime(raw);
      assert.equal(headers.from, 'r2watch@example.com');
      assert.equal(headers.to, 'ops@example.com, oncall@example.com');
    }
  } finally {
    await worker.dispose();
  }
  const bare = await startWorker({ vars: { ENVIRONMENT: 'development' } });
  try {
    const refused = await call(bare, 'PUT', '/api/alerts/channels', { channels: [{ name: 'mail', type: 'email' }] });
    assert.equal(refused.status, 422);
    assert.equal(refused.body.error.field, 'channels[0].to');
    assert.match(refused.body.error.message, /EMAIL_TO/);
    const read = await call(bare, 'GET', '/api/alerts/channels');
    assert.equal(read.body.channels.some((c) => c.name === 'mail'), false, 'nothing stored');
  } finally {
    await bare.dispose();
  }
});
