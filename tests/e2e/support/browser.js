// Shared set-up for the browser tests: serve dist/ on a free loopback port, launch Debian's
// Chromium headless through playwright-core, and fail a test on any console error.
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after } from 'node:test';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
// DIST=/some/folder measures or tests another build (e.g. a copy of an older one).
export const distDir = process.env.DIST ? path.resolve(process.env.DIST) : path.resolve(here, '../../../dist');

const contentTypes = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript',
  '.wasm': 'application/wasm',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.json': 'application/json',
};

/** Serves dist/ as static files, the way any static host would. Resolves to { server, url }. */
export function serveDist() {
  if (!fs.existsSync(path.join(distDir, 'index.html'))) {
    throw new Error(`no ${distDir}/index.html: run \`make dist\` first`);
  }
  const server = http.createServer((req, res) => {
    const urlPath = decodeURIComponent(new URL(req.url, 'http://x').pathname);
    const file = path.join(distDir, urlPath === '/' ? 'index.html' : urlPath);
    if (!file.startsWith(distDir) || !fs.existsSync(file) || fs.statSync(file).isDirectory()) {
      res.writeHead(404).end('not found');
      return;
    }
    res.writeHead(200, { 'content-type': contentTypes[path.extname(file)] ?? 'application/octet-stream' });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      resolve({ server, url: `http://127.0.0.1:${server.address().port}/` });
    });
  });
}

/**
 * For one spec file: serves dist/ and launches Chromium (top-level await), and closes both when
 * the file's tests have ended.
 */
export async function siteAndBrowser() {
  const site = await serveDist();
  const browser = await launchBrowser();
  after(async () => {
    await browser.close();
    site.server.close();
  });
  return { site, browser };
}

/** Launches headless Chromium with the flags this machine needs (no network but loopback). */
export function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? '/usr/bin/chromium',
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

/**
 * Opens a fresh page that records console errors, page errors and any request that leaves
 * the test server (the app must make no network requests of its own).
 */
export async function openPage(browser, baseUrl) {
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('request', (req) => {
    if (!req.url().startsWith(baseUrl) && !req.url().startsWith('data:')) {
      problems.push(`request outside the site: ${req.url()}`);
    }
  });
  return { context, page, problems };
}
