// The stage: for every lesson and fix in the catalogue, what a learner needs to follow a step
// (the controls, the status, the lanes and the lesson's key panel) is on the first screen at
// each size the page serves (a 1280×800 laptop, a 1280×720 projector in workshop mode, a
// 700×500 iframe, a 360×640 phone); every panel shows the engine's state for the step, however
// the learner got there; an embedded page reports its height. Screenshots of every lesson at its
// outcome at the four sizes go to screenshots/SLUG-SIZE.png. A new lesson is covered without
// touching this file.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { siteAndBrowser, openPage } from '../support/browser.js';
import { address, LessonPage, FINAL_OUTCOMES, courseSlugs } from '../support/lesson-page.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const shots = path.join(here, '..', 'screenshots');

/** The sizes the stage must serve, and the address each adds. */
const SIZES = [
  { name: 'laptop', width: 1280, height: 800, query: {} },
  { name: 'workshop', width: 1280, height: 720, query: { workshop: '1' } },
  { name: 'embed', width: 700, height: 500, query: { embed: '1' } },
];
const PHONE = { name: 'phone', width: 360, height: 640, query: {} };

const { site, browser } = await siteAndBrowser();

// The catalogue and each lesson's fixes, read from the running app.
const lessons = await (async () => {
  const slugs = await courseSlugs(browser, site.url);
  const out = [];
  for (const slug of slugs) {
    const lesson = await LessonPage.open(browser, site.url, slug);
    out.push({ slug, fixes: (await lesson.fixes()).map((f) => f.slug) });
    await lesson.close();
  }
  return out;
})();

/** A fresh page at `size`, on `?lesson=SLUG` plus the size's own parameters and `extra`. */
async function openAt(size, slug, extra = {}) {
  const { page, problems, context } = await openPage(browser, site.url);
  await page.setViewportSize({ width: size.width, height: size.height });
  const query = new URLSearchParams({ lesson: slug, ...extra, ...size.query });
  await page.goto(`${site.url}?${query}`);
  await page.getByTestId('lesson-title').waitFor({ timeout: 15000 });
  return { page, problems, context };
}

/** The test ids among `ids` whose element is not wholly inside the viewport, with its box. */
async function outsideViewport(page, ids) {
  return page.evaluate((ids) => {
    const out = [];
    for (const id of ids) {
      const el = document.querySelector(`[data-testid="${id}"]`);
      if (!el) {
        out.push(`${id}: missing`);
        continue;
      }
      const r = el.getBoundingClientRect();
      if (r.width === 0 || r.top < 0 || r.left < 0 || r.bottom > innerHeight || r.right > innerWidth) {
        out.push(`${id}: ${Math.round(r.left)},${Math.round(r.top)} to ${Math.round(r.right)},${Math.round(r.bottom)} in ${innerWidth}×${innerHeight}`);
      }
    }
    return out;
  }, ids);
}

/** Plays the run to its outcome at full speed, pressing Play again after each key-moment pause. */
async function playToOutcome(page) {
  await page.getByTestId('speed').fill('100');
  const outcome = () => page.evaluate(() => document.querySelector('[data-testid="status"]')?.dataset.outcome);
  for (let i = 0; i < 20 && !FINAL_OUTCOMES.includes(await outcome()); i++) {
    await page.getByTestId('play').click();
    await page.waitForFunction(
      (finals) =>
        finals.includes(document.querySelector('[data-testid="status"]')?.dataset.outcome) ||
        document.querySelector('[data-testid="key-pause"]') !== null,
      FINAL_OUTCOMES,
      { timeout: 60000 },
    );
  }
  assert.ok(FINAL_OUTCOMES.includes(await outcome()), `no outcome after Play: ${await outcome()}`);
}

/**
 * What the lanes and the wait-for graph show: each lane's state, wait, edge and code line, and
 * the graph's text. The graph is the key panel or one tab away; the tab is opened if needed.
 */
async function shown(page) {
  if (await page.locator('[data-testid="wait-for-graph"]').count() === 0) {
    await page.getByTestId('tab-wait-for-graph').click();
  }
  return page.evaluate(() => ({
    lanes: [...document.querySelectorAll('[data-testid="lanes"] .lane')].map((l) => [
      l.dataset.testid,
      l.dataset.state,
      l.dataset.waitsFor,
      l.querySelector('.lane-why')?.textContent,
      l.querySelector('.lane-code')?.textContent ?? '',
    ].join(' | ')),
    graph: document.querySelector('[data-testid="wait-for-graph"]').innerText,
  }));
}

for (const { slug, fixes } of lessons) {
  describe(`the stage of ${slug}`, () => {
    for (const size of SIZES) {
      for (const fix of [undefined, ...fixes]) {
        const what = fix ? `with the fix ${fix}` : 'with the bug';
        test(`at ${size.width}×${size.height} (${size.name}) ${what}, the controls and the key panel are on the first screen`, async () => {
          const { page, problems, context } = await openAt(size, slug, fix ? { fix } : {});
          assert.equal(await page.evaluate(() => scrollY), 0);
          const ids = ['status', 'back', 'step', 'play', 'reset', 'lanes', 'key-panel'];
          // The laptop also has the fix picker and the check's button on its first screen.
          if (size.name === 'laptop') ids.push('fixes', 'check');
          assert.deepEqual(await outsideViewport(page, ids), []);
          assert.deepEqual(problems, []);
          await context.close();
        });
      }
    }

    test('on a 360×640 phone, Step and Play are on the first screen', async () => {
      const { page, problems, context } = await openAt(PHONE, slug);
      assert.deepEqual(await outsideViewport(page, ['step', 'play']), []);
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
      assert.ok(overflow <= 0, `the page scrolls sideways by ${overflow}px`);
      assert.deepEqual(problems, []);
      await context.close();
    });

    test('after every Step, Back and scrubber move, the lanes and the wait-for graph show the engine\'s state for that step', async () => {
      const { page, problems, context } = await openAt(SIZES[0], slug);
      // Forward to the outcome, one Step at a time, recording what the page shows.
      // The page writes each step's state into its address (a quarter of a second after it).
      const search = async () => new URL(await address(page)).search;
      const forward = [await shown(page)];
      const addresses = [await search()];
      for (let i = 0; i < 500 && !(await page.getByTestId('step').isDisabled()); i++) {
        await page.getByTestId('step').click();
        forward.push(await shown(page));
        addresses.push(await search());
      }
      // A fresh load of each step's address shows the engine's state for that step.
      const fresh = await openPage(browser, site.url);
      await fresh.page.setViewportSize({ width: 1280, height: 800 });
      for (let at = 0; at < forward.length; at++) {
        await fresh.page.goto(`${site.url}${addresses[at]}`);
        await fresh.page.getByTestId('lesson-title').waitFor({ timeout: 15000 });
        assert.deepEqual(forward[at], await shown(fresh.page), `step ${at} after Step`);
      }
      // Back, all the way.
      for (let at = forward.length - 2; at >= 0; at--) {
        await page.getByTestId('back').click();
        assert.deepEqual(await shown(page), forward[at], `step ${at} after Back`);
      }
      // The scrubber, jumping about.
      const last = forward.length - 1;
      for (const at of [last, 1, Math.floor(last / 2), 0, last - 1, 2].filter((n) => n >= 0 && n <= last)) {
        await page.getByTestId('scrubber').fill(String(at));
        assert.deepEqual(await shown(page), forward[at], `step ${at} after the scrubber`);
      }
      assert.deepEqual(problems, []);
      assert.deepEqual(fresh.problems, []);
      await fresh.context.close();
      await context.close();
    });

    test('screenshots at its outcome at every size', async () => {
      for (const size of [...SIZES, PHONE]) {
        const { page, problems, context } = await openAt(size, slug);
        await playToOutcome(page);
        await page.evaluate(() => scrollTo(0, 0));
        await page.screenshot({ path: path.join(shots, `${slug}-${size.name}.png`) });
        assert.deepEqual(problems, []);
        await context.close();
      }
    });
  });
}

test('embed=1&panel=NAME puts that panel beside the lanes instead of the lesson\'s own', async () => {
  for (const panel of ['pool', 'rows', 'wait-for-graph', 'protocol']) {
    const { page, problems, context } = await openAt(SIZES[2], 'lock-order', { panel });
    assert.equal(await page.getByTestId('key-panel').getAttribute('data-panel'), panel);
    assert.deepEqual(await outsideViewport(page, ['step', 'key-panel']), []);
    assert.match(await address(page), new RegExp(`[?&]panel=${panel}\\b`));
    assert.deepEqual(problems, []);
    await context.close();
  }
  const { page, context } = await openAt(SIZES[2], 'lock-order', { panel: 'no-such-panel' });
  assert.equal(await page.getByTestId('key-panel').getAttribute('data-panel'), 'rows');
  await context.close();
});

test('an embedded lesson posts its height to the page around it, which can size the iframe', async () => {
  const { page, problems, context } = await openPage(browser, site.url);
  await page.setViewportSize({ width: 900, height: 700 });
  // The README's snippet in a blog page that holds the iframe (served beside the site, without
  // the site's own policy, which lets a page frame nothing).
  const blog = `${site.url}blog.html`;
  await page.route(blog, (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>A blog</title><body></body>' }));
  await page.goto(blog);
  const height = await page.evaluate((src) => new Promise((resolve) => {
    document.body.innerHTML = '';
    const frame = document.createElement('iframe');
    frame.src = src;
    frame.width = '700';
    frame.height = '200';
    addEventListener('message', (e) => {
      const f = [...document.querySelectorAll('iframe')].find((x) => x.contentWindow === e.source);
      if (f && e.data?.lockstep === 'height') f.style.height = `${e.data.height}px`;
    });
    addEventListener('message', (e) => { if (e.data?.lockstep === 'height' && e.data.height > 0) resolve(e.data.height); });
    document.body.append(frame);
  }), `${site.url}?lesson=lock-order&embed=1`);
  assert.ok(height > 400, `reported height ${height}`);
  await page.waitForFunction(() => parseFloat(document.querySelector('iframe').style.height) > 400);
  assert.deepEqual(problems, []);
  await context.close();
});

test('the panel tabs remember which one was opened', async () => {
  const { page, problems, context } = await openAt(SIZES[0], 'lock-order');
  await page.getByTestId('tab-pg_locks').click();
  assert.equal(await page.getByTestId('tab-panel').getAttribute('data-tab'), 'pg_locks');
  await page.reload();
  await page.getByTestId('lesson-title').waitFor({ timeout: 15000 });
  assert.equal(await page.getByTestId('tab-pg_locks').getAttribute('aria-selected'), 'true');
  assert.equal(await page.getByTestId('tab-panel').getAttribute('data-tab'), 'pg_locks');
  assert.deepEqual(problems, []);
  await context.close();
});

test('the story starts as its first paragraph; the rest is one click away', async () => {
  const { page, problems, context } = await openAt(SIZES[0], 'lock-order');
  assert.equal(await page.getByTestId('story-rest').count(), 0);
  await page.getByTestId('story-toggle').click();
  assert.ok((await page.getByTestId('story-rest').innerText()).length > 100);
  assert.deepEqual(problems, []);
  await context.close();
});

for (const { slug, fixes } of lessons) {
  for (const fix of fixes) {
    test(`${slug}: the diff of the fix ${fix} shows its changed lines`, async () => {
      const { page, problems, context } = await openAt(SIZES[0], slug, { fix });
      const changed = page.getByTestId(`fix-diff-${fix}`).locator('.diff-line.added, .diff-line.removed');
      assert.ok(await changed.count() > 0, 'the diff has a changed line');
      await changed.first().scrollIntoViewIfNeeded();
      assert.equal(await changed.first().isVisible(), true);
      assert.deepEqual(problems, []);
      await context.close();
    });
  }
}
