// The first lesson end to end in a real browser: the bug deadlocks with PostgreSQL's exact
// error, the ORDER BY fix lets both workers commit, and nothing logs a console error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { siteAndBrowser, openPage } from '../support/browser.js';
import { address, LessonPage } from '../support/lesson-page.js';

const { site, browser } = await siteAndBrowser();

test('playing lock-order ends in a detected deadlock with PostgreSQL\'s exact error', async () => {
  const lesson = await LessonPage.open(browser, site.url, 'lock-order');
  assert.match(await lesson.page.getByTestId('lesson-title').innerText(), /\S/);
  const status = await lesson.playToEnd();
  assert.equal(await lesson.outcome(), 'deadlock');
  // Declared when the detector fires, in the lesson's terms, with later steps still to play.
  assert.match(status, /Deadlock detected/);
  assert.equal(
    await lesson.headline(),
    "A and B wait for each other's rows: PostgreSQL aborts A after deadlock_timeout, and B goes on.",
  );
  assert.ok(lesson.paused >= 1, 'Play paused at a key moment on the way');
  assert.equal(await lesson.page.getByTestId('step').isEnabled(), true);
  await lesson.playOn();
  const errors = await lesson.pgErrors();
  assert.equal(errors.length, 1, `one error block, got ${JSON.stringify(errors)}`);
  assert.match(errors[0], /^ERROR: {2}deadlock detected$/m);
  assert.match(errors[0], /^DETAIL: {2}Process \d+ waits for ShareLock on transaction \d+; blocked by process \d+\./m);
  assert.match(errors[0], /waits for ShareLock on transaction/);
  assert.match(errors[0], /^HINT: {2}See server log for query details\.$/m);
  assert.match(errors[0], /^CONTEXT: {2}/m);
  // PostgreSQL's exact text is one click away from the status line.
  await lesson.page.getByTestId('status-details').locator('summary').click();
  assert.match(await lesson.page.getByTestId('status-error').innerText(), /^ERROR: {2}deadlock detected$/m);
  assert.equal(await lesson.page.getByTestId('lane-A').getAttribute('data-state') === 'failed'
    || await lesson.page.getByTestId('lane-B').getAttribute('data-state') === 'failed', true);
  assert.match(await address(lesson.page), /[?&]lesson=lock-order/);
  // Past the lesson's schedule a step keeps one worker going, which Step in protocol view would
  // not: the address then carries the exact moves.
  const url = new URL(await address(lesson.page));
  assert.equal(url.searchParams.get('schedule'), await lesson.schedule());
  assert.deepEqual(lesson.problems, []);
  await lesson.close();
});

test('with the order-by fix both workers commit and no error is shown', async () => {
  const lesson = await LessonPage.open(browser, site.url, 'lock-order', 'order-by');
  assert.equal(await lesson.page.getByTestId('fix-order-by').getAttribute('aria-pressed'), 'true');
  const status = await lesson.playToEnd();
  assert.equal(await lesson.outcome(), 'completed');
  assert.match(status, /completed/i);
  assert.doesNotMatch(status, /deadlock/i);
  await lesson.openTab('timeline');
  assert.equal(await lesson.page.getByTestId('pg-error').count(), 0);
  const log = await lesson.page.getByTestId('event-log').innerText();
  const commits = log.match(/commits transaction \d+/g) ?? [];
  assert.equal(commits.length, 2, `two commits in the timeline, got ${commits.length}`);
  assert.deepEqual(lesson.problems, []);
  await lesson.close();
});

test('Back undoes a step exactly and a lane click runs that worker next', async () => {
  const lesson = await LessonPage.open(browser, site.url, 'lock-order');
  await lesson.runTask('B');
  assert.equal(await lesson.schedule(), 'B');
  await lesson.step();
  await lesson.back();
  assert.equal(await lesson.schedule(), 'B');
  await lesson.back();
  assert.match(await lesson.status(), /ready/i);
  assert.deepEqual(lesson.problems, []);
  await lesson.close();
});

test('keyboard shortcuts step, go back, reset and show the help', async () => {
  const lesson = await LessonPage.open(browser, site.url, 'lock-order');
  const { page } = lesson;
  await page.keyboard.press('s');
  // A's first step starts it, takes a connection and runs BEGIN: one engine move.
  assert.equal(await lesson.schedule(), 'A');
  await page.keyboard.press('ArrowRight');
  // Its second sends the SELECT over the wire and starts it: three moves, one step.
  assert.equal(await lesson.schedule(), 'A A A A');
  assert.match(await page.getByTestId('scrubber-label').innerText(), /^step 2 of 2/);
  await page.keyboard.press('b');
  assert.equal(await lesson.schedule(), 'A');
  assert.match(await address(page), /[?&]step=1\b/);
  await page.keyboard.press('r');
  assert.equal(await lesson.outcome(), 'ready');
  await page.keyboard.press('?');
  await page.getByTestId('help').waitFor();
  await page.keyboard.press('Escape');
  assert.equal(await page.getByTestId('help').count(), 0);
  assert.deepEqual(lesson.problems, []);
  await lesson.close();
});

test('when the cycle closes, the wait-for graph draws it in red and says PostgreSQL will break it', async () => {
  const { page, problems, context } = await openPage(browser, site.url);
  await page.setViewportSize({ width: 1280, height: 800 });
  // The thirteenth move is B's UPDATE, which waits for the row A holds while A waits for B's.
  await page.goto(`${site.url}?lesson=lock-order&step=13`);
  await page.getByTestId('lesson-title').waitFor({ timeout: 15000 });
  await new LessonPage(page).openTab('wait-for-graph');
  const graph = page.getByTestId('wait-for-svg');
  await graph.waitFor();
  assert.equal(await graph.locator('.edge.in-cycle').count(), 2);
  const panel = await page.locator('.cycle').first().innerText();
  assert.match(panel, /^Cycle: a deadlock between transactions: PostgreSQL's deadlock detector breaks it after deadlock_timeout/);
  // Both workers' waits lead into it: their lanes say so in red.
  for (const lane of ['lane-A', 'lane-B']) {
    assert.equal(await page.getByTestId(lane).locator('.lane-edge.in-cycle').count(), 1, lane);
  }
  // On one screen: the key moment above the stage, and the cycle beside it.
  assert.match(await page.getByTestId('status').innerText(), /The cycle closes/);
  assert.ok(await graph.isVisible());
  const box = await graph.boundingBox();
  assert.ok(box.y + box.height <= 800, `the graph ends at ${box.y + box.height}px`);
  assert.deepEqual(problems, []);
  await context.close();
});

test('a step count in the address is replayed on load', async () => {
  const { page, problems, context } = await openPage(browser, site.url);
  await page.goto(`${site.url}?lesson=lock-order&step=3`);
  await page.getByTestId('lesson-title').waitFor({ timeout: 15000 });
  assert.equal((await page.getByTestId('schedule').innerText()).split(' ').length, 3);
  assert.ok(await page.getByTestId('code-line-current').count() >= 1);
  assert.deepEqual(problems, []);
  await context.close();
});

test('seeing the bug and then playing a fix marks the lesson done in the picker', async () => {
  const lesson = await LessonPage.open(browser, site.url, 'lock-order');
  await lesson.playToEnd();
  await lesson.page.getByTestId('fix-order-by').click();
  assert.match(await address(lesson.page), /[?&]fix=order-by/);
  assert.equal(await lesson.outcome(), 'ready');
  await lesson.playToEnd();
  assert.equal(await lesson.outcome(), 'completed');
  await lesson.page.goto(site.url);
  const card = lesson.page.getByTestId('lesson-lock-order');
  await card.waitFor({ timeout: 15000 });
  assert.match(await card.innerText(), /done/);
  assert.deepEqual(lesson.problems, []);
  await lesson.close();
});

test('a move chosen by clicking a lane goes into the address, and that link replays it', async () => {
  const lesson = await LessonPage.open(browser, site.url, 'lock-order');
  await lesson.runTask('B');
  await lesson.runTask('B');
  await lesson.runTask('A');
  // Each click is one step of that worker; the schedule keeps every engine move.
  assert.equal(await lesson.schedule(), 'B B B B A');
  const shared = new URL(await address(lesson.page));
  assert.equal(shared.searchParams.get('schedule'), 'B B B B A');
  const again = await LessonPage.open(browser, site.url, 'lock-order');
  await again.page.goto(shared.href);
  await again.page.getByTestId('lesson-title').waitFor({ timeout: 15000 });
  assert.equal(await again.schedule(), 'B B B B A');
  assert.deepEqual(lesson.problems, []);
  assert.deepEqual(again.problems, []);
  await lesson.close();
  await again.close();
});

test('the embed view drops the site header and the story but keeps the controls', async () => {
  const { page, problems, context } = await openPage(browser, site.url);
  await page.goto(`${site.url}?lesson=lock-order&fix=order-by&embed=1`);
  await page.getByTestId('lesson-title').waitFor({ timeout: 15000 });
  assert.equal(await page.getByTestId('story').isVisible(), false);
  assert.equal(await page.getByTestId('step').isVisible(), true);
  assert.equal(await page.getByRole('button', { name: 'Check every schedule', exact: true }).isVisible(), true);
  assert.match(await address(page), /embed=1/);
  assert.deepEqual(problems, []);
  await context.close();
});
