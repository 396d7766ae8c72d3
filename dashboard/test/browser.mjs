// Debian's Chromium driven by playwright-core (no browser download), with the flags this closed
// network needs, and the page's console errors collected for the tests to check.
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import http from 'node:http';
import { ROOT, startWorker } from '../../worker-shim/test/helpers.mjs';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const SCREENSHOTS = join(ROOT, 'build/screenshots');

export async function launch() {
  mkdirSync(SCREENSHOTS, { recursive: true });
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

export const LAPTOP = { width: 1366, height: 900 };
export const PHONE = { width: 390, height: 844 };

// Routes the page asks for and shows a designed "not on this r2watch yet" state when they answer
// 404 (they land with other issues). Chromium logs each such 404 as a console error; those, and
// only those, are not counted as the page's errors.
export const OPTIONAL_ROUTES = ['/api/costs', '/api/alerts'];
const NOT_FOUND_LOG = 'Failed to load resource: the server responded with a status of 404 (Not Found)';

/**
 * A new page in its own context; `errors` collects console errors and uncaught exceptions
 * (less one 404 log per optional route that answered 404).
 * @param {import('playwright-core').Browser} browser
 */
let defaultToken = null;
/** The bearer token every page opened from now on starts with (in localStorage). */
export function useToken(token) {
  defaultToken = token;
}

export async function openPage(browser, { viewport = LAPTOP, colorScheme = 'light', token = defaultToken } = {}) {
  const context = await browser.newContext({ viewport, colorScheme, isMobile: viewport.width < 500 });
  if (token) await context.addInitScript((t) => localStorage.setItem('r2watch.token', t), token);
  const page = await context.newPage();
  const logged = [];
  let optional404 = 0;
  page.on('console', (m) => {
    if (m.type() === 'error') logged.push(m.text());
  });
  page.on('pageerror', (e) => logged.push(`uncaught: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() === 404 && OPTIONAL_ROUTES.includes(new URL(r.url()).pathname)) optional404++;
  });
  const errors = {
    get list() {
      const out = [...logged];
      for (let i = 0; i < optional404; i++) {
        const at = out.indexOf(NOT_FOUND_LOG);
        if (at >= 0) out.splice(at, 1);
      }
      return out;
    },
  };
  return { page, context, errors };
}

/** Waits until the page has finished `n` refreshes of every panel. */
export async function refreshed(page, n = 1) {
  await page.waitForFunction((k) => Number(document.body.dataset.refreshes ?? 0) >= k, n);
}

/**
 * What a dashboard test starts before its steps: the Worker (development, so inline
 * http://127.0.0.1 webhooks are allowed) with the admin token in use, Chromium, and with
 * `receiver` a local HTTP server that records every JSON POST in `received` ({path, body}).
 */
export async function startSession({ receiver: withReceiver = false } = {}) {
  const received = [];
  let receiver = null;
  if (withReceiver) {
    receiver = http.createServer((req, res) => {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        received.push({ path: req.url, body: text ? JSON.parse(text) : null });
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{}');
      });
    });
    await new Promise((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  }
  const worker = await startWorker({ port: 0, vars: { ENVIRONMENT: 'development' } });
  useToken(worker.adminToken);
  const browser = await launch();
  return {
    worker,
    browser,
    receiver,
    received,
    async dispose() {
      await browser.close();
      await worker.dispose();
      if (receiver) await new Promise((resolve) => receiver.close(resolve));
    },
  };
}
