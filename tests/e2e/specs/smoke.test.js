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
