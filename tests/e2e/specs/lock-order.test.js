// The first lesson end to end in a real browser: the bug deadlocks with PostgreSQL's exact
// error, the ORDER BY fix lets both workers commit, and nothing logs a console error.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { serveDist, launchBrowser } from '../support/browser.js';
import { LessonPage } from '../support/lesson-page.js';

let site;
let browser;

before(async () => {
  site = await serveDist();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  site?.server.close();
});

test('playing lock-order ends in a detected deadlock with PostgreSQL\'s exact error', async () => {
  const lesson = await LessonPage.open(browser, site.url, 'lock-order');
  assert.match(await lesson.page.getByTestId('lesson-title').innerText(), /\S/);
  const status = await lesson.playToEnd();
  assert.equal(await lesson.outcome(), 'deadlock');
  assert.match(status, /deadlock detected — worker [AB] aborted/);
  assert.match(status, /aborted/);
  const errors = await lesson.pgErrors();
  assert.equal(errors.length, 1, `one error block, got ${JSON.stringify(errors)}`);
  assert.match(errors[0], /^ERROR: {2}deadlock detected$/m);
  assert.match(errors[0], /^DETAIL: {2}Process \d+ waits for ShareLock on transaction \d+; blocked by process \d+\./m);
  assert.match(errors[0], /waits for ShareLock on transaction/);
  assert.match(errors[0], /^HINT: {2}See server log for query details\.$/m);
  assert.match(errors[0], /^CONTEXT: {2}/m);
  assert.match(lesson.page.url(), /[?&]lesson=lock-order/);
  assert.match(lesson.page.url(), /[?&]step=\d+/);
  assert.deepEqual(lesson.problems, []);
  await lesson.close();
});

test('with the order-by fix both workers commit and no error is shown', async () => {
  const lesson = await LessonPage.open(browser, site.url, 'lock-order', 'order-by');
  assert.equal(await lesson.page.getByTestId('fix-order-by').getAttribute('aria-pressed'), 'true');
  const status = await lesson.playToEnd();
  assert.equal(await lesson.outcome(), 'completed');
  assert.match(status, /completed/);
  assert.doesNotMatch(status, /deadlock/);
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
  assert.match(await lesson.status(), /ready/);
  assert.deepEqual(lesson.problems, []);
  await lesson.close();
});
