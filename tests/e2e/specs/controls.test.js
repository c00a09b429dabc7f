// The controls beyond Step and Play: keyboard shortcuts for every control, the scrubber and
// forking, workshop mode in the address, the pool-sizing and activity panels, and a phone-sized
// layout without sideways scrolling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { siteAndBrowser, openPage } from '../support/browser.js';
import { address, LessonPage } from '../support/lesson-page.js';

const { site, browser } = await siteAndBrowser();

test('every control has a shortcut: digits run a task, Home and End scrub, c checks', async () => {
  const lesson = await LessonPage.open(browser, site.url, 'lock-order');
  const { page } = lesson;
  // The timeline, which names the undone steps, is one tab away from the stage.
  await lesson.openTab('timeline');
  await page.keyboard.press('2');
  await page.keyboard.press('2');
  await page.keyboard.press('1');
  assert.equal(await lesson.schedule(), 'B B B B A');
  await page.keyboard.press('Home');
  assert.equal(await lesson.outcome(), 'ready');
  assert.match(await page.getByTestId('undone').innerText(), /3 later steps undone/);
  await page.keyboard.press('End');
  assert.equal(await lesson.schedule(), 'B B B B A');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('1');
  assert.equal(await lesson.schedule(), 'B B B B A', 'the same move redoes the undone step');
  await page.keyboard.press('ArrowLeft');
  await page.keyboard.press('2');
  assert.equal(await lesson.schedule(), 'B B B B B', 'a different move forks the run');
  assert.equal(await page.getByTestId('undone').count(), 0);
  await page.keyboard.press('c');
  const verdict = await page.getByTestId('check-result').getAttribute('data-verdict', { timeout: 120000 });
  assert.equal(verdict, 'fails');
  assert.deepEqual(lesson.problems, []);
  await lesson.close();
});

test('workshop mode scales the page and goes into the address', async () => {
  const lesson = await LessonPage.open(browser, site.url, 'lock-order');
  const { page } = lesson;
  const small = await page.evaluate(() => getComputedStyle(document.documentElement).fontSize);
  await page.getByTestId('workshop').click();
  const large = await page.evaluate(() => getComputedStyle(document.documentElement).fontSize);
  assert.ok(parseFloat(large) > parseFloat(small), `${small} → ${large}`);
  assert.match(await address(page), /[?&]workshop=1/);
  await page.keyboard.press('w');
  assert.doesNotMatch(await address(page), /workshop/);
  assert.deepEqual(lesson.problems, []);
  await lesson.close();
});

test('pg_stat_activity shows a backend idle in transaction, and the log has the exact error', async () => {
  const lesson = await LessonPage.open(browser, site.url, 'lock-order');
  const { page } = lesson;
  await lesson.openTab('pg_stat_activity');
  const seen = new Set();
  for (let i = 0; i < 15 && !seen.has('idle in transaction'); i++) {
    await lesson.step();
    const states = await page.locator('[data-testid="pg-stat-activity"] tr[data-state]').evaluateAll(
      (rows) => rows.map((r) => r.dataset.state));
    states.forEach((s) => seen.add(s));
  }
  assert.ok(seen.has('idle in transaction'), `states seen: ${JSON.stringify([...seen])}`);
  await lesson.playToEnd();
  await lesson.openTab('log');
  const log = await page.getByTestId('pg-log-text').innerText();
  assert.match(log, /ERROR: {2}deadlock detected/);
  assert.match(log, /STATEMENT: {2}/);
  assert.deepEqual(lesson.problems, []);
  await lesson.close();
});

test('on a 360 px phone the lesson fits the width and the controls stay usable', async () => {
  const { page, problems, context } = await openPage(browser, site.url);
  await page.setViewportSize({ width: 360, height: 740 });
  await page.goto(`${site.url}?lesson=lock-order`);
  await page.getByTestId('lesson-title').waitFor({ timeout: 15000 });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
  await page.getByRole('button', { name: 'Step', exact: true }).click();
  assert.equal((await page.getByTestId('schedule').innerText()).split(' ').length, 1);
  assert.deepEqual(problems, []);
  await context.close();
});

test('pool sizing: the explorer confirms the bound Tn x (Cm - 1) + 1 at every setting', async () => {
  const lesson = await LessonPage.open(browser, site.url, 'pool-exhaustion');
  const { page } = lesson;
  await lesson.openTab('pool-sizing');
  assert.match(await page.getByTestId('sizing-rule').innerText(), /Tn = 4, Cm = 2: Tn × \(Cm − 1\) \+ 1 = 5/);
  await page.getByTestId('sizing-sweep').click();
  await page.getByTestId('sizing-sweep').waitFor({ timeout: 300000 });
  const cells = await page.locator('svg.sizing-grid g.cell').evaluateAll((gs) =>
    gs.map((g) => ({ safe: g.classList.contains('safe'), mark: g.querySelector('text').textContent.trim() })));
  assert.equal(cells.length, 64);
  for (const cell of cells) assert.equal(cell.mark, cell.safe ? '✓' : '✗');
  await page.getByTestId('knob-max_conns').fill('5');
  await page.getByTestId('knob-max_conns').press('Enter');
  assert.match(await address(page), /[?&]max_conns=5\b/);
  assert.equal(await page.getByTestId('sizing-verdict').getAttribute('data-verdict'), 'proven');
  assert.deepEqual(lesson.problems, []);
  await lesson.close();
});
