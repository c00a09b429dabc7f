// The sandbox in a real browser: open it from the lesson picker, load examples, follow a
// permutation to its outcome, drive steps by hand (a blocked step shows `<waiting ...>`),
// share a `?spec=` link and open it again, see a bad spec's line and column, and download
// both SVG exports. No console errors anywhere.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import zlib from 'node:zlib';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { siteAndBrowser, openPage } from '../support/browser.js';
import { FINAL_OUTCOMES } from '../support/lesson-page.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const screenshotDir = path.resolve(here, '../screenshots');

const { site, browser } = await siteAndBrowser();

/** A small spec as a `spec=` value: `1`, then its raw DEFLATE in base64url (link.rs). */
function encodedSpec() {
  const text = [
    'setup { CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 0); }',
    'session s1',
    'step w1 { UPDATE t SET v = 1 WHERE id = 1; }',
    'session s2',
    'step r2 { SELECT v FROM t WHERE id = 1; }',
    '',
  ].join('\n');
  return `1${zlib.deflateRawSync(Buffer.from(text)).toString('base64url')}`;
}

/** A page object for the sandbox. */
class SandboxPage {
  constructor(page, problems, context) {
    this.page = page;
    this.problems = problems;
    this.context = context;
  }

  /** Opens the sandbox page with `query` (e.g. `?example=deadlock`) and waits for it to mount. */
  static async open(query = '') {
    const { page, problems, context } = await openPage(browser, site.url);
    await page.goto(`${site.url}sandbox.html${query}`);
    await page.getByTestId('sandbox').waitFor({ timeout: 15000 });
    return new SandboxPage(page, problems, context);
  }

  outcome() {
    return this.page.getByTestId('status').getAttribute('data-outcome');
  }

  status() {
    return this.page.getByTestId('status').innerText();
  }

  output() {
    return this.page.getByTestId('tester-output').innerText();
  }

  async loadExample(slug) {
    await this.page.getByTestId('example-select').selectOption(slug);
    await this.page.waitForFunction(
      () => document.querySelector('[data-testid="status"]')?.dataset.outcome === 'ready',
    );
  }

  async step() {
    await this.page.getByTestId('step').click();
  }

  /** Presses Step until the run has ended; returns the status text. */
  async stepToEnd() {
    for (let i = 0; i < 100; i += 1) {
      if (FINAL_OUTCOMES.includes(await this.outcome())) break;
      await this.step();
    }
    assert.ok(FINAL_OUTCOMES.includes(await this.outcome()), 'the run ended');
    return this.status();
  }

  /** Clicks an export button and returns the downloaded file's name and text. */
  async download(testid) {
    const [file] = await Promise.all([
      this.page.waitForEvent('download'),
      this.page.getByTestId(testid).click(),
    ]);
    const text = fs.readFileSync(await file.path(), 'utf8');
    return { name: file.suggestedFilename(), text };
  }

  async close() {
    await this.context.close();
  }
}

test('the lesson picker links to the sandbox, which opens on the first example', async () => {
  const { page, problems, context } = await openPage(browser, site.url);
  await page.goto(site.url);
  await page.getByTestId('open-sandbox').click();
  await page.getByTestId('sandbox').waitFor({ timeout: 15000 });
  assert.match(new URL(page.url()).pathname, /\/sandbox\.html$/);
  assert.match(await page.getByTestId('spec-editor').inputValue(), /session alice/);
  assert.equal(await page.getByTestId('status').getAttribute('data-outcome'), 'ready');
  assert.deepEqual(problems, []);
  await context.close();
});

test('links made before the sandbox had its own page go on to it, with their spec and run', async () => {
  for (const query of ['?sandbox=1&example=deadlock&step=2', '?spec=' + encodedSpec() + '&step=1']) {
    const { page, problems, context } = await openPage(browser, site.url);
    await page.goto(`${site.url}${query}`);
    await page.getByTestId('sandbox').waitFor({ timeout: 15000 });
    const url = new URL(page.url());
    assert.match(url.pathname, /\/sandbox\.html$/);
    assert.equal(url.search.length > 1, true);
    assert.notEqual(await page.getByTestId('status').getAttribute('data-outcome'), 'ready', query);
    // The lesson player's bundle was never fetched for the sandbox.
    const fetched = await page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name));
    assert.equal(fetched.filter((name) => /lockstep-lesson-/.test(name)).length, 0, fetched.join(' '));
    assert.deepEqual(problems, []);
    await context.close();
  }
});

test('a lost update at READ COMMITTED runs to an anomaly with the isolation tester\'s output', async () => {
  const sandbox = await SandboxPage.open('?example=lost-update');
  await sandbox.step();
  await sandbox.step();
  await sandbox.step();
  await sandbox.step();
  // Bob's UPDATE waits for Alice's row lock, as the isolation tester reports it.
  assert.match(await sandbox.output(), /^step b_write: UPDATE counter SET hits = 11 WHERE id = 1; <waiting \.\.\.>$/m);
  assert.match(await sandbox.page.getByTestId('why-bob').innerText(), /held by alice/);
  assert.equal(await sandbox.page.getByTestId('lane-bob').getAttribute('data-state'), 'waiting');
  assert.match(await sandbox.status(), /<waiting \.\.\.>/);
  const status = await sandbox.stepToEnd();
  assert.equal(await sandbox.outcome(), 'anomaly');
  assert.match(status, /anomaly/);
  assert.match(status, /returns 11/);
  const output = await sandbox.output();
  assert.match(output, /^Parsed test spec with 2 sessions$/m);
  assert.match(output, /^starting permutation: a_read b_read a_write b_write a_commit b_commit$/m);
  assert.match(output, /^step b_write: <\.\.\. completed>$/m);
  // The address follows within a quarter of a second (it is written at most that often).
  await sandbox.page.waitForURL((url) => /[?&]example=lost-update/.test(url.search) && /[?&]step=7/.test(url.search));
  assert.deepEqual(sandbox.problems, []);
  await sandbox.close();
});

test('the deadlock example ends with PostgreSQL\'s exact error and a red cycle', async () => {
  const sandbox = await SandboxPage.open('?example=deadlock');
  for (let i = 0; i < 3; i += 1) await sandbox.step();
  assert.equal(await sandbox.page.locator('[data-testid="wait-for-svg"] .edge').count(), 1);
  await sandbox.step();
  // Both transfers wait: a cycle of two, drawn in red, before the detector runs.
  assert.equal(await sandbox.page.locator('[data-testid="wait-for-svg"] .edge.in-cycle').count(), 2);
  const status = await sandbox.stepToEnd();
  assert.equal(await sandbox.outcome(), 'deadlock');
  assert.match(status, /deadlock detected/);
  const errors = await sandbox.page.getByTestId('pg-error').allInnerTexts();
  assert.equal(errors.length, 1);
  assert.match(errors[0], /^ERROR: {2}deadlock detected$/m);
  assert.match(errors[0], /^DETAIL: {2}Process \d+ waits for ShareLock on transaction \d+; blocked by process \d+\./m);
  assert.match(await sandbox.output(), /^ERROR: {2}deadlock detected$/m);
  assert.deepEqual(sandbox.problems, []);
  await sandbox.close();
});

test('write skew: READ COMMITTED is an anomaly, SERIALIZABLE fails one transaction', async () => {
  const sandbox = await SandboxPage.open();
  await sandbox.loadExample('write-skew-read-committed');
  await sandbox.stepToEnd();
  assert.equal(await sandbox.outcome(), 'anomaly');
  await sandbox.loadExample('write-skew-serializable');
  const status = await sandbox.stepToEnd();
  assert.equal(await sandbox.outcome(), 'failed');
  assert.match(status, /could not serialize access due to read\/write dependencies among transactions/);
  assert.deepEqual(sandbox.problems, []);
  await sandbox.close();
});

test('steps driven by hand: a blocked step waits, Back undoes, End completes it', async () => {
  const sandbox = await SandboxPage.open('?example=nowait');
  // nowait has no permutation lines: every interleaving is listed.
  assert.equal(await sandbox.page.locator('[data-testid="permutation-select"] option').count(), 7);
  await sandbox.page.getByTestId('permutation-select').selectOption('by-hand');
  await sandbox.page.getByTestId('run-s1a').click();
  await sandbox.page.getByTestId('run-s2a').click();
  assert.match(await sandbox.output(), /^step s2a: .*NOWAIT;$/m);
  assert.match(await sandbox.output(), /^ERROR: {2}could not obtain lock on row in relation "foo"$/m);
  await sandbox.page.getByTestId('back').click();
  assert.doesNotMatch(await sandbox.output(), /step s2a/);
  // The whole spec, every interleaving, as its expected file records it.
  await sandbox.page.getByTestId('run-whole').click();
  const whole = await sandbox.page.getByTestId('whole-output').innerText();
  assert.equal((whole.match(/^starting permutation:/gm) ?? []).length, 6);
  assert.match(whole, /^starting permutation: s1a s2a s1b s2b$/m);
  await sandbox.close();

  const deadlock = await SandboxPage.open('?example=deadlock');
  await deadlock.page.getByTestId('permutation-select').selectOption('by-hand');
  await deadlock.page.getByTestId('run-t1_debit').click();
  await deadlock.page.getByTestId('run-t2_credit').click();
  assert.match(await deadlock.output(), /^step t2_credit: UPDATE accounts SET balance = balance \+ 20 WHERE id = 1; <waiting \.\.\.>$/m);
  assert.match(await deadlock.page.getByTestId('why-t2').innerText(), /held by t1/);
  await deadlock.page.waitForURL(/[?&]by-hand=t1_debit%2Ct2_credit/);
  await deadlock.page.getByTestId('run-t1_commit').click();
  assert.match(await deadlock.output(), /^step t2_credit: <\.\.\. completed>$/m);
  await deadlock.page.getByTestId('finish').click();
  assert.equal(await deadlock.outcome(), 'completed');
  assert.deepEqual(deadlock.problems, []);
  await deadlock.close();
});

test('an edited spec round-trips through a ?spec= link', async () => {
  const sandbox = await SandboxPage.open();
  const text = [
    '# my own spec: <angle> & "quotes"',
    'setup { CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 0); }',
    'session s1',
    'setup { BEGIN; }',
    'step w1 { UPDATE t SET v = 1 WHERE id = 1; }',
    'step c1 { COMMIT; }',
    'session s2',
    'step r2 { SELECT v FROM t WHERE id = 1; }',
    'permutation w1 r2 c1 r2',
    '',
  ].join('\n');
  await sandbox.page.getByTestId('spec-editor').fill(text);
  await sandbox.page.getByTestId('load-spec').click();
  await sandbox.step();
  await sandbox.step();
  await sandbox.page.getByTestId('share').click();
  const link = await sandbox.page.getByTestId('share-link').inputValue();
  assert.match(link, /[?&]spec=1[A-Za-z0-9_-]+/);
  assert.match(link, /[?&]step=2/);
  await sandbox.page.waitForURL((url) => url.href === link);
  await sandbox.close();

  assert.match(new URL(link).pathname, /\/sandbox\.html$/);
  const opened = await SandboxPage.open(link.slice(link.indexOf('?')));
  assert.equal(await opened.page.getByTestId('spec-editor').inputValue(), text);
  assert.match(await opened.output(), /^starting permutation: w1 r2 c1 r2$/m);
  assert.match(await opened.output(), /^step r2: SELECT v FROM t WHERE id = 1;$/m);
  assert.doesNotMatch(await opened.output(), /^step c1/m);
  assert.equal(await opened.page.locator('[data-testid="example-select"]').inputValue(), 'own');
  assert.deepEqual(opened.problems, []);
  await opened.close();
});

test('a bad spec shows its line and column', async () => {
  const sandbox = await SandboxPage.open();
  await sandbox.page.getByTestId('spec-editor').fill('session s1\nstep a { SELECT 1; }\npermutation a b\n');
  await sandbox.page.getByTestId('load-spec').click();
  const error = await sandbox.page.getByTestId('spec-error').innerText();
  assert.match(error, /Line 3, column 15: undefined step "b" specified in permutation/);
  assert.equal(await sandbox.outcome(), 'invalid');
  // The cursor is put where the problem is.
  const caret = await sandbox.page.getByTestId('spec-editor').evaluate((el) => el.selectionStart);
  assert.equal(caret, 'session s1\nstep a { SELECT 1; }\n'.length + 14);
  await sandbox.page.getByTestId('spec-editor').fill('session s1 step a { SELECT 1; } permutation a');
  await sandbox.page.getByTestId('load-spec').click();
  assert.equal(await sandbox.page.getByTestId('spec-error').count(), 0);
  assert.deepEqual(sandbox.problems, []);
  await sandbox.close();
});

test('the export buttons download standalone SVG files, in the sandbox and in a lesson', async () => {
  const sandbox = await SandboxPage.open('?example=deadlock');
  for (let i = 0; i < 4; i += 1) await sandbox.step();
  const timeline = await sandbox.download('export-timeline');
  assert.match(timeline.name, /\.svg$/);
  assert.ok(timeline.text.startsWith('<svg'), timeline.text.slice(0, 80));
  assert.match(timeline.text, /t1_credit: UPDATE accounts SET balance = balance \+ 10 WHERE id = 2; &lt;waiting \.\.\.&gt;/);
  const graph = await sandbox.download('export-graph');
  assert.ok(graph.text.startsWith('<svg'), graph.text.slice(0, 80));
  assert.match(graph.text, /class="edge in-cycle"/);
  await sandbox.page.screenshot({ path: path.join(screenshotDir, 'sandbox.png'), fullPage: false });
  assert.deepEqual(sandbox.problems, []);
  await sandbox.close();

  const { page, problems, context } = await openPage(browser, site.url);
  await page.goto(`${site.url}?lesson=lock-order&step=6`);
  await page.getByTestId('lesson-title').waitFor({ timeout: 15000 });
  // A lesson page has its worker write the files: it replays the run from the lesson, the fix
  // and the moves, and draws it as the page shows it.
  const texts = {};
  for (const testid of ['export-timeline', 'export-graph']) {
    const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId(testid).click()]);
    const text = fs.readFileSync(await file.path(), 'utf8');
    assert.ok(text.startsWith('<svg'), `${testid}: ${text.slice(0, 80)}`);
    assert.match(file.suggestedFilename(), /^lock-order-.*\.svg$/);
    texts[testid] = text;
  }
  assert.match(texts['export-timeline'], /— schedule A/);
  assert.equal((texts['export-timeline'].match(/<g class="lane">/g) || []).length, 2);
  assert.match(texts['export-graph'], /wait-for graph at step \d+/);
  // The buttons are ready for the next file.
  assert.equal(await page.getByTestId('export-timeline').isEnabled(), true);
  assert.deepEqual(problems, []);
  await context.close();
});
