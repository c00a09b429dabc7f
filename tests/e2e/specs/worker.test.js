// "Check every schedule" runs in a Web Worker: a lesson page does not fetch the explorer until
// the first check, the page keeps answering while the search runs, and Cancel ends the worker.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { siteAndBrowser, openPage } from '../support/browser.js';

const { site, browser } = await siteAndBrowser();

const fetched = (page) =>
  page.evaluate(() => performance.getEntriesByType('resource').map((e) => e.name.split('/').pop()));

test('the explorer loads on the first check, in a worker, and the main thread keeps answering', async () => {
  const { page, problems, context } = await openPage(browser, site.url);
  await page.goto(`${site.url}?lesson=lock-order&fix=order-by`);
  await page.getByTestId('play').and(page.locator(':enabled')).waitFor({ timeout: 30000 });
  assert.deepEqual((await fetched(page)).filter((f) => f.startsWith('lockstep-worker')), []);
  // What is measured is the check alone, so it starts once the page's warm-up after load
  // (app/src/warm_up.rs, tasks of a few milliseconds) is over.
  await page.waitForFunction(() => performance.getEntriesByName('lockstep-warmed').length === 1, null, {
    timeout: 15000,
  });

  // From the click to the result, the page answers a timer every few milliseconds: how long
  // each took to come back is recorded.
  await page.evaluate(() => {
    window.pings = [];
    window.pinging = true;
    const ping = () => {
      const t0 = performance.now();
      setTimeout(() => {
        window.pings.push(performance.now() - t0);
        if (window.pinging) ping();
      }, 0);
    };
    ping();
  });
  await page.getByTestId('check').click();
  await page.getByTestId('check-result').waitFor({ timeout: 60000 });
  const pings = await page.evaluate(() => {
    window.pinging = false;
    return window.pings;
  });
  assert.equal(await page.getByTestId('check-result').getAttribute('data-verdict'), 'proven');
  assert.match(await page.getByTestId('check-result').innerText(), /3,455 states/);
  assert.ok((await fetched(page)).includes('lockstep-worker_loader.js'), 'the worker was started');
  assert.ok(pings.length > 10, `the page answered ${pings.length} timers during the check`);
  const slowest = Math.max(...pings);
  assert.ok(slowest < 50, `the main thread answered within ${slowest.toFixed(0)} ms, over 50 ms`);
  assert.deepEqual(problems, []);
  await context.close();
});

test('Cancel ends the search; the next check starts a fresh worker and finishes', async () => {
  const { page, problems, context } = await openPage(browser, site.url);
  // A search long enough (about 28 s here) that Cancel always comes before its end.
  await page.goto(`${site.url}?lesson=pool-exhaustion&fix=acquire-timeout&requests=8&max_conns=8`);
  await page.getByTestId('play').and(page.locator(':enabled')).waitFor({ timeout: 30000 });
  await page.getByTestId('check').click();
  await page.getByTestId('check-cancel').click();
  assert.equal(await page.getByTestId('check-result').getAttribute('data-verdict'), 'cancelled');
  // Two requests: a search of a second or so, which this check runs to its end.
  await page.getByTestId('knob-requests').fill('2');
  await page.getByTestId('knob-requests').press('Enter');
  await page.getByTestId('check').click();
  await page.locator('[data-testid="check-result"]:not([data-verdict="cancelled"])').waitFor({ timeout: 60000 });
  assert.match(await page.getByTestId('check-result').innerText(), /states explored/);
  assert.deepEqual(problems, []);
  await context.close();
});

// The slowest search the lessons offer: with acquire timeouts, eight requests and eight
// connections, every request may time out at any of its waits (28 s on a 2-core machine, where
// drain-first at the same knobs is proven in 3 s and so ends before a test can cancel it).
test('a check too big to finish soon (acquire timeouts, eight requests, eight connections) never blocks the page, and Cancel ends it', async () => {
  const { page, problems, context } = await openPage(browser, site.url);
  await page.goto(`${site.url}?lesson=pool-exhaustion&fix=acquire-timeout&requests=8&max_conns=8`);
  await page.getByTestId('play').and(page.locator(':enabled')).waitFor({ timeout: 30000 });
  await page.getByTestId('check').click();
  // Three seconds of the search, with the page answering a timer all along.
  const pings = await page.evaluate(
    () =>
      new Promise((resolve) => {
        const out = [];
        const end = performance.now() + 3000;
        const ping = () => {
          const t0 = performance.now();
          setTimeout(() => {
            out.push(performance.now() - t0);
            if (performance.now() < end) ping();
            else resolve(out);
          }, 0);
        };
        ping();
      }),
  );
  assert.ok(await page.getByTestId('check-progress').isVisible(), 'the check is still running');
  assert.ok(Math.max(...pings) < 1000, `the page answered within ${Math.max(...pings).toFixed(0)} ms`);
  // The counter moves: the worker reports its progress.
  assert.match(await page.getByTestId('check-progress').innerText(), /[1-9][\d,]* states/);
  // Stepping works while the worker searches.
  await page.getByTestId('step').click();
  assert.equal(await page.getByTestId('scrubber').inputValue(), '1');
  assert.ok(await page.getByTestId('check-progress').isVisible(), 'the check is still running after the Step');
  await page.getByTestId('check-cancel').click();
  const result = page.getByTestId('check-result');
  assert.equal(await result.getAttribute('data-verdict'), 'cancelled');
  assert.match(await result.innerText(), /nothing is proven/);
  assert.deepEqual(problems, []);
  await context.close();
});
