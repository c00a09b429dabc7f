// Every lesson in the catalogue, driven by the lesson data the app shows: the bug played to
// the end shows a bug outcome, every real (proven) fix completes, Back and lane clicks work,
// "Check every schedule" finds the bug, proves each real fix and finds where each partial fix
// still fails, share and embed links reproduce the page, and nothing logs a console error. A lesson added to the catalogue is
// covered without touching this file. (The screenshots of every lesson come from stage.test.js.)
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { siteAndBrowser, openPage } from '../support/browser.js';
import { LessonPage, courseSlugs } from '../support/lesson-page.js';

const BUG_OUTCOMES = ['deadlock', 'stalled', 'failed', 'anomaly'];

// The catalogue and each lesson's fixes, read from the running app before the tests are declared.
const { site, browser } = await siteAndBrowser();
const lessons = await (async () => {
  const slugs = await courseSlugs(browser, site.url);
  const out = [];
  for (const slug of slugs) {
    const lesson = await LessonPage.open(browser, site.url, slug);
    out.push({ slug, fixes: await lesson.fixes() });
    await lesson.close();
  }
  return out;
})();

test('the catalogue lists lessons', () => {
  assert.ok(lessons.length >= 3, `lessons found: ${JSON.stringify(lessons.map((l) => l.slug))}`);
});

for (const { slug, fixes } of lessons) {
  const realFixes = fixes.filter((f) => f.proven).map((f) => f.slug);
  const partialFixes = fixes.filter((f) => !f.proven).map((f) => f.slug);

  describe(`lesson ${slug}`, () => {
    test('playing the bug ends in a bug outcome, narrated in the status', async () => {
      const lesson = await LessonPage.open(browser, site.url, slug);
      await lesson.playToEnd();
      const outcome = await lesson.outcome();
      assert.ok(BUG_OUTCOMES.includes(outcome), `outcome ${outcome}`);
      const status = lesson.page.getByRole('status').first();
      assert.match(await status.innerText(), new RegExp(outcome, 'i'));
      assert.deepEqual(lesson.problems, []);
      await lesson.close();
    });

    for (const fix of realFixes) {
      test(`with the real fix ${fix}, Play completes`, async () => {
        const lesson = await LessonPage.open(browser, site.url, slug, fix);
        assert.equal(await lesson.page.getByTestId(`fix-${fix}`).getAttribute('aria-pressed'), 'true');
        await lesson.playToEnd();
        assert.equal(await lesson.outcome(), 'completed');
        assert.match(await lesson.status(), /completed/i);
        assert.deepEqual(lesson.problems, []);
        await lesson.close();
      });
    }

    test('Back, the scrubber and lane clicks: the learner is the scheduler', async () => {
      const lesson = await LessonPage.open(browser, site.url, slug);
      const { page } = lesson;
      const lanes = page.locator('[data-testid^="lane-"]:not([disabled])');
      const last = lanes.last();
      const name = (await last.getAttribute('data-testid')).replace(/^lane-/, '');
      await last.click();
      // A lane click runs that task for one step: its moves up to something a learner would name.
      const one = await lesson.schedule();
      assert.ok(one.split(' ').every((m) => m === name), `${one} is ${name}'s`);
      await lesson.step();
      const two = await lesson.schedule();
      await lesson.step();
      const three = await lesson.schedule();
      assert.match(await page.getByTestId('scrubber-label').innerText(), /^step 3 of 3/);
      await lesson.back();
      assert.equal(await lesson.schedule(), two, 'Back undoes one whole step');
      await page.getByTestId('scrubber').fill('0');
      assert.equal(await lesson.outcome(), 'ready');
      await page.getByTestId('scrubber').fill('3');
      assert.equal(await lesson.schedule(), three, 'the scrubber restores the undone steps');
      await page.getByRole('button', { name: 'Back', exact: true }).click();
      assert.equal(await lesson.schedule(), two);
      assert.deepEqual(lesson.problems, []);
      await lesson.close();
    });

    test('Check every schedule finds the bug, and its shortest schedule replays it', async () => {
      const lesson = await LessonPage.open(browser, site.url, slug);
      assert.equal(await lesson.checkEverySchedule(), 'fails');
      const schedule = await lesson.page.getByTestId('check-schedule').innerText();
      await lesson.page.getByTestId('check-replay').click();
      assert.equal(await lesson.schedule(), schedule);
      assert.ok(BUG_OUTCOMES.includes(await lesson.outcome()), `outcome ${await lesson.outcome()}`);
      assert.deepEqual(lesson.problems, []);
      await lesson.close();
    });

    for (const fix of realFixes) {
      test(`Check every schedule proves the real fix ${fix}`, async () => {
        const lesson = await LessonPage.open(browser, site.url, slug, fix);
        assert.equal(await lesson.checkEverySchedule(), 'proven');
        assert.match(await lesson.page.getByTestId('check-result').innerText(), /No schedule fails — [\d,]+ states explored/);
        assert.deepEqual(lesson.problems, []);
        await lesson.close();
      });
    }

    for (const fix of partialFixes) {
      test(`Check every schedule finds where the partial fix ${fix} still fails`, async () => {
        const lesson = await LessonPage.open(browser, site.url, slug, fix);
        assert.equal(await lesson.checkEverySchedule(), 'fails');
        assert.deepEqual(lesson.problems, []);
        await lesson.close();
      });
    }

    test('the share link and the embed snippet reproduce this step', async () => {
      const fix = realFixes[0];
      const lesson = await LessonPage.open(browser, site.url, slug, fix);
      const { page } = lesson;
      await lesson.step();
      await lesson.step();
      const schedule = await lesson.schedule();
      await page.getByTestId('share').click();
      const link = await page.getByTestId('share-link').inputValue();
      const snippet = await page.getByTestId('share-embed').inputValue();
      assert.match(link, new RegExp(`[?&]lesson=${slug}`));
      // `step` counts engine moves (the schedule's length), so old links keep their meaning;
      // moves Step in protocol view would not take go in as the schedule itself.
      const moves = schedule.split(' ').length;
      assert.match(link, new RegExp(`[?&](step=${moves}\\b|schedule=)`));
      assert.match(snippet, /^<iframe src="[^"]+embed=1[^"]*"/);

      const shared = await openPage(browser, site.url);
      await shared.page.goto(link);
      await shared.page.getByTestId('lesson-title').waitFor({ timeout: 15000 });
      assert.equal(await shared.page.getByTestId('schedule').innerText(), schedule);
      if (fix) {
        assert.equal(await shared.page.getByTestId(`fix-${fix}`).getAttribute('aria-pressed'), 'true');
      }
      const src = snippet.match(/src="([^"]+)"/)[1].replaceAll('&amp;', '&');
      await shared.page.goto(src);
      await shared.page.getByTestId('lesson-title').waitFor({ timeout: 15000 });
      assert.equal(await shared.page.getByTestId('schedule').innerText(), schedule);
      const back = shared.page.getByRole('link', { name: /Open the full lesson/ });
      assert.doesNotMatch(await back.getAttribute('href'), /embed=1/);
      assert.deepEqual(shared.problems, []);
      assert.deepEqual(lesson.problems, []);
      await shared.context.close();
      await lesson.close();
    });
  });
}
