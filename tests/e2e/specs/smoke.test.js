// The built site loads in a real browser, mounts the app, and logs no errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { siteAndBrowser, openPage } from '../support/browser.js';

const { site, browser } = await siteAndBrowser();

test('the site loads and mounts the app without console errors', async () => {
  const { page, problems, context } = await openPage(browser, site.url);
  await page.goto(site.url);
  await page.getByTestId('app').waitFor({ timeout: 15000 });
  assert.deepEqual(problems, []);
  await context.close();
});

/** The lesson files the page requests from now on, as `lessons/SLUG.json`, in order. */
function lessonFilesRequested(page) {
  const files = [];
  page.on('request', (req) => {
    const path = new URL(req.url()).pathname;
    if (path.includes('/lessons/')) files.push(path.slice(path.lastIndexOf('/lessons/') + 1));
  });
  return files;
}

test('a lesson page fetches its own lesson and no other', async () => {
  const { page, problems, context } = await openPage(browser, site.url);
  const lessons = lessonFilesRequested(page);
  await page.goto(`${site.url}?lesson=read-skew`);
  await page.getByTestId('step').waitFor({ timeout: 15000 });
  assert.match(await page.getByTestId('lesson').innerText(), /The fix that was not quite fixed/);
  assert.deepEqual(lessons, ['lessons/read-skew.json']);
  assert.deepEqual(problems, []);
  await context.close();
});

test('a link to no lesson fetches no lesson file and shows the course', async () => {
  const { page, problems, context } = await openPage(browser, site.url);
  const lessons = lessonFilesRequested(page);
  await page.goto(`${site.url}?lesson=no-such-lesson`);
  await page.getByTestId('lesson-picker').waitFor({ timeout: 15000 });
  assert.match(await page.getByTestId('app').innerText(), /There is no lesson called “no-such-lesson”/);
  assert.deepEqual(lessons, []);
  assert.deepEqual(problems, []);
  await context.close();
});

test('a lesson whose file cannot be fetched says so instead of showing an empty page', async () => {
  const { page, context } = await openPage(browser, site.url);
  await page.route('**/lessons/lock-order.json', (route) => route.fulfill({ status: 503, body: '' }));
  await page.goto(`${site.url}?lesson=lock-order`);
  const error = page.getByTestId('load-error');
  await error.waitFor({ timeout: 15000 });
  assert.match(await error.innerText(), /could not be loaded: lessons\/lock-order\.json: HTTP 503/);
  await context.close();
});

test('the warm-up after load plays a scratch run off the page and changes nothing the learner sees or keeps', async () => {
  const { page, problems, context } = await openPage(browser, site.url);
  await page.goto(`${site.url}?lesson=lock-order`);
  await page.getByTestId('step').waitFor({ timeout: 15000 });
  const seen = () =>
    page.evaluate(() => ({
      address: location.href,
      stage: document.querySelector('[data-testid="stage"]').innerText,
      scrubber: document.querySelector('[data-testid="scrubber"]').value,
      stored: JSON.stringify(Object.entries(localStorage).sort()),
      lanes: document.querySelectorAll('[data-testid="lanes"]').length,
    }));
  const before = await seen();
  // The warm-up marks its end once its scratch run has been played and dropped.
  await page.waitForFunction(() => performance.getEntriesByName('lockstep-warmed').length === 1, null, {
    timeout: 15000,
  });
  assert.deepEqual(await seen(), before);
  assert.equal(before.scrubber, '0');
  assert.equal(before.lanes, 1);
  // The learner's own run starts where it was.
  await page.getByTestId('step').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="scrubber"]').value === '1');
  assert.deepEqual(problems, []);
  await context.close();
});

test('a Step taken before the warm-up is over is the only move the page shows, and the warm-up ends', async () => {
  const { page, problems, context } = await openPage(browser, site.url);
  await page.goto(`${site.url}?lesson=pool-exhaustion`);
  await page.getByTestId('step').and(page.locator(':enabled')).waitFor({ timeout: 15000 });
  await page.getByTestId('step').click();
  await page.waitForFunction(() => performance.getEntriesByName('lockstep-warmed').length === 1, null, {
    timeout: 15000,
  });
  assert.equal(await page.getByTestId('scrubber').inputValue(), '1');
  assert.deepEqual(problems, []);
  await context.close();
});
