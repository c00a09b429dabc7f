// Short links built to hold the tab: a run of hundreds of moves over a server with 190,000 row
// versions (memory, Back), tables too long to draw, a spec with 92,378 permutations (the
// picker), and "Run every permutation" over hundreds of heavy permutations. For each, once the
// page has drawn it keeps answering (a heartbeat never waits a second) while the link's run
// replays and runs, no RuntimeError appears, and the bounded UI says how much it shows. The
// first load is measured apart: the spec's setup runs a block at a time between frames, with
// its progress shown, but the first drawing of the loaded run (here 19 tables of 100 row
// versions each) is still one piece of work.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import zlib from 'node:zlib';
import { siteAndBrowser, openPage } from '../support/browser.js';

const { site, browser } = await siteAndBrowser();

/** The longest the main thread may be held, in ms, before a heartbeat runs. */
const HELD_MAX_MS = 1000;


/**
 * The longest the first load may hold the main thread: one frame's setup blocks, then the first
 * drawing of the loaded run in one go. Measured on a 2-core machine: 0.6-0.9 s with 1,900 table
 * rows drawn (1.0-1.2 s with 3,800; 2.2 s when the setup of 190,000 row writes ran in one go).
 * The bound leaves room for a busy machine; the figure is printed for every link.
 */
const LOAD_HELD_MAX_MS = 2000;

/** A spec as a `spec=` value: `1`, then its raw DEFLATE in base64url (link.rs). */
function encode(text) {
  return `1${zlib.deflateRawSync(Buffer.from(text), { level: 9 }).toString('base64url')}`;
}

/**
 * `tables` tables of `rows` rows, each row updated `updates` times by the setup:
 * tables * rows * (updates + 1) row versions before the first step.
 */
function heavySetup(tables, rows, updates) {
  const blocks = [];
  for (let t = 1; t <= tables; t += 1) {
    // Written tightly: the spec's text must stay within what a link may carry (64 KB).
    const values = Array.from({ length: rows }, (_, i) => `(${i + 1},0)`).join(',');
    const sql = [`CREATE TABLE t${t} (id int PRIMARY KEY, v int);`, `INSERT INTO t${t} VALUES ${values};`];
    for (let u = 0; u < updates; u += 1) sql.push(`UPDATE t${t} SET v=v+1;`);
    blocks.push(`setup { ${sql.join(' ')} }`);
  }
  return blocks.join('\n');
}

/** 19 tables of 100 rows updated 99 times (190,000 versions), one step repeated 500 times. */
function memorySpec() {
  return [
    heavySetup(19, 100, 99),
    'session s1',
    'step a { SELECT 1 AS one; }',
    `permutation${' a'.repeat(500)}`,
    '',
  ].join('\n');
}

/** Two sessions of 9 and 10 steps: C(19, 9) = 92,378 interleavings. */
function manyPermutationsSpec() {
  const lines = [];
  for (const [name, steps] of [['a', 9], ['b', 10]]) {
    lines.push(`session ${name}`);
    for (let i = 0; i < steps; i += 1) lines.push(`step ${name}${i} { SELECT ${i}; }`);
  }
  lines.push('');
  return lines.join('\n');
}

/** Two sessions of 5 and 7 steps (C(12, 5) = 792 permutations), each run on a heavy setup. */
function heavyWholeSpec() {
  const lines = [heavySetup(1, 100, 20), 'teardown { DROP TABLE t1; }'];
  for (const [name, steps] of [['a', 5], ['b', 7]]) {
    lines.push(`session ${name}`);
    for (let i = 0; i < steps; i += 1) lines.push(`step ${name}${i} { UPDATE t1 SET v = v + 1 WHERE id = ${i + 1}; }`);
  }
  lines.push('');
  return lines.join('\n');
}

/**
 * Opens `sandbox.html` + `query` with a heartbeat installed before the page's own scripts: it
 * records the longest gap between two 50 ms ticks, which is how long the main thread was held.
 */
async function openWatched(query) {
  const { page, problems, context } = await openPage(browser, site.url);
  await page.addInitScript(() => {
    window.__heldMax = 0;
    let last = performance.now();
    setInterval(() => {
      const now = performance.now();
      window.__heldMax = Math.max(window.__heldMax, now - last - 50);
      last = now;
    }, 50);
  });
  await page.goto(`${site.url}sandbox.html${query}`);
  await page.getByTestId('sandbox').waitFor({ timeout: 60000 });
  // The setup goes on in frames, saying how far it has come, until the spec is loaded.
  await page.waitForFunction(() => !document.querySelector('[data-testid="setup-progress"]'), null, {
    timeout: 120000,
    polling: 100,
  });
  const loadHeld = await page.evaluate(() => window.__heldMax);
  console.log(`${query.slice(0, 40)}…: the load held the main thread ${Math.round(loadHeld)} ms at most`);
  assert.ok(loadHeld < LOAD_HELD_MAX_MS, `the load held the main thread ${Math.round(loadHeld)} ms`);
  // From here on the page must answer within HELD_MAX_MS.
  await page.evaluate(() => {
    window.__heldMax = 0;
  });
  return { page, problems, context };
}

/** A setTimeout ping answered within `HELD_MAX_MS`, measured from the test's side too. */
async function assertAnswers(page, what) {
  const started = Date.now();
  await page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 0)));
  const ping = Date.now() - started;
  assert.ok(ping < HELD_MAX_MS, `${what}: a ping took ${ping} ms`);
  const held = await page.evaluate(() => window.__heldMax);
  assert.ok(held < HELD_MAX_MS, `${what}: the main thread was held for ${Math.round(held)} ms`);
}

function assertNoRuntimeError(problems) {
  assert.deepEqual(
    problems.filter((p) => /RuntimeError|unreachable|out of memory/i.test(p)),
    [],
  );
  assert.deepEqual(problems, []);
}

test('a link of 500 moves over 190,000 row versions opens, answers, and goes Back exactly', async () => {
  assert.ok(memorySpec().length < 65536, `the spec fits in a link: ${memorySpec().length} bytes`);
  const spec = encode(memorySpec());
  assert.ok(spec.length < 2000, `the link is short: ${spec.length}`);
  const { page, problems, context } = await openWatched(`?spec=${spec}&step=500`);
  // The replay goes on in frames; it ends by itself.
  await page.waitForFunction(() => !document.querySelector('[data-testid="replay-progress"]'), null, {
    timeout: 300000,
    polling: 200,
  });
  await assertAnswers(page, 'after the replay');
  const output = () => page.getByTestId('tester-output').innerText();
  const count = (text) => (text.match(/^step a: SELECT 1 AS one;$/gm) ?? []).length;
  assert.equal(count(await output()), 500);
  for (let i = 0; i < 3; i += 1) {
    await page.getByTestId('back').click();
    await assertAnswers(page, `Back ${i + 1}`);
  }
  assert.equal(count(await output()), 497);
  await page.getByTestId('step').click();
  assert.equal(count(await output()), 498);
  assertNoRuntimeError(problems);
  await context.close();
});

test('tables of 10,000 row versions show their first rows and say how many there are', async () => {
  const { page, problems, context } = await openWatched(`?spec=${encode(memorySpec())}&step=1`);
  await assertAnswers(page, 'after opening');
  const notes = page.locator('[data-testid^="rows-shown-"]');
  assert.equal(await notes.count(), 19);
  assert.equal(
    await page.getByTestId('rows-shown-t1').innerText(),
    'showing the first 100 of 10000 row versions',
  );
  assert.equal(await page.locator('[data-testid="table-t1"] tbody tr').count(), 100);
  assert.ok((await page.locator('tr.tuple').count()) <= 19 * 100);
  assertNoRuntimeError(problems);
  await context.close();
});

test('a spec with 92,378 permutations lists a few hundred and reaches any by number', async () => {
  const { page, problems, context } = await openWatched(`?spec=${encode(manyPermutationsSpec())}`);
  await assertAnswers(page, 'after opening');
  const select = page.getByTestId('permutation-select');
  // The first 200 permutations and "by hand".
  assert.equal(await select.locator('option').count(), 201);
  assert.match(await page.getByTestId('permutation-count').innerText(), /92378 permutations/);
  const number = page.getByTestId('permutation-number');
  assert.equal(await number.inputValue(), '1');
  await number.fill('92378');
  await number.press('Enter');
  await number.blur();
  await page.waitForFunction(
    () => document.querySelector('[data-testid="permutation-select"]')?.value === '92377',
  );
  // The permutation followed is listed after the first 200 while it is followed.
  assert.equal(await select.locator('option').count(), 202);
  await assertAnswers(page, 'after picking the last permutation');
  await page.getByTestId('step').click();
  assert.match(await page.getByTestId('tester-output').innerText(), /^starting permutation: /m);
  // A small option is still picked by its index, as before.
  await select.selectOption('3');
  assert.equal(await number.inputValue(), '4');
  assertNoRuntimeError(problems);
  await context.close();
});

test('running every one of 792 heavy permutations goes on in slices, with progress and Cancel', async () => {
  const { page, problems, context } = await openWatched(`?spec=${encode(heavyWholeSpec())}`);
  await assertAnswers(page, 'after opening');
  await page.getByTestId('run-whole').click();
  const progress = page.getByTestId('whole-progress');
  await page.waitForFunction(
    () => /running every permutation: [1-9]\d* of 792 done/.test(
      document.querySelector('[data-testid="whole-progress"]')?.innerText ?? '',
    ),
    null,
    { timeout: 60000 },
  );
  await assertAnswers(page, 'while every permutation runs');
  assert.equal(await page.getByTestId('run-whole').isDisabled(), true);
  await page.getByTestId('whole-cancel').click();
  assert.match(await progress.innerText(), /^cancelled after \d+ of 792 permutations$/);
  assert.equal(await page.getByTestId('run-whole').isDisabled(), false);
  await assertAnswers(page, 'after Cancel');
  assertNoRuntimeError(problems);
  await context.close();
});
