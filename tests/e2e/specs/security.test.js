// The page is safe to embed: its Content-Security-Policy lets it run only its own code and talk
// only to its own folder, and it makes no network requests of its own.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { siteAndBrowser, openPage, distDir } from '../support/browser.js';

const { site, browser } = await siteAndBrowser();

test('every built page carries a policy that allows no inline or remote code', () => {
  for (const file of ['index.html', 'sandbox.html', 'studio.html']) {
    const html = fs.readFileSync(path.join(distDir, file), 'utf8');
    const policy = html.match(/<meta http-equiv="Content-Security-Policy" content="([^"]+)"/)?.[1];
    assert.ok(policy, `dist/${file} has a CSP meta tag`);
    const directives = Object.fromEntries(
      policy.split(';').map((d) => d.trim().split(/\s+/)).map(([name, ...values]) => [name, values]),
    );
    assert.deepEqual(directives['default-src'], ["'none'"]);
    assert.deepEqual(directives['connect-src'], ["'self'"]);
    assert.ok(!directives['script-src'].includes("'unsafe-inline'"));
    assert.ok(!directives['script-src'].includes("'unsafe-eval'"));
    assert.ok(directives['script-src'].every((s) => !/^https?:|\*/.test(s)), 'no remote script source');
    // The policy precedes every script, or it would not cover them.
    assert.ok(html.indexOf('Content-Security-Policy') < html.indexOf('<script'), file);
  }
});

test('the browser enforces it: a remote script and a remote fetch are refused', async () => {
  const { page, context } = await openPage(browser, site.url);
  await page.goto(`${site.url}?lesson=lock-order`);
  await page.getByTestId('app').waitFor({ timeout: 15000 });
  const violations = await page.evaluate(async () => {
    const seen = [];
    document.addEventListener('securitypolicyviolation', (e) => seen.push(e.violatedDirective));
    const script = document.createElement('script');
    script.src = 'http://127.0.0.2:9/evil.js';
    document.head.append(script);
    await fetch('http://127.0.0.2:9/data').catch(() => {});
    await new Promise((resolve) => setTimeout(resolve, 200));
    return seen.sort();
  });
  assert.deepEqual(violations, ['connect-src', 'script-src-elem']);
  await context.close();
});

test('playing a lesson makes no request beyond the page and its own files', async () => {
  const { page, problems, context } = await openPage(browser, site.url);
  const requested = [];
  page.on('request', (req) => {
    // data: URLs (the inline icon) never touch the network.
    if (!req.url().startsWith('data:')) requested.push(new URL(req.url()).pathname);
  });
  await page.goto(`${site.url}?lesson=lock-order`);
  await page.getByTestId('step').waitFor({ timeout: 15000 });
  const beforePlay = requested.length;
  for (let i = 0; i < 10; i++) await page.getByTestId('step').click();
  assert.equal(requested.length, beforePlay, `requests while playing: ${requested.slice(beforePlay)}`);
  const files = new Set(fs.readdirSync(distDir, { recursive: true }).map((f) => `/${f}`));
  for (const p of requested) assert.ok(p === '/' || files.has(p), `${p} is one of the page's files`);
  assert.deepEqual(problems, []);
  await context.close();
});
