// Steps a learner would name, for every lesson and fix in the catalogue: after every Step the
// status line of a lesson whose point is not the wire protocol names no protocol message, and
// Play reaches the outcome (pausing at the first key moment and saying so). A lesson added to
// the catalogue is covered without touching this file.
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { siteAndBrowser } from '../support/browser.js';
import { LessonPage, courseSlugs } from '../support/lesson-page.js';

const PROTOCOL_NAMES = ['Parse', 'Bind', 'BindComplete', 'DataRow', 'ReadyForQuery', 'RowDescription', 'CommandComplete'];
const BUG_OUTCOMES = ['deadlock', 'stalled', 'failed', 'anomaly'];
/** A run that has not ended after this many Steps is checked no further. */
const MAX_STEPS = 200;

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

const words = (text) => text.split(/[^A-Za-z]+/);

for (const { slug, fixes } of lessons) {
  describe(`stage ${slug}`, () => {
    for (const fix of [null, ...fixes.map((f) => f.slug)]) {
      const name = fix ? `with ${fix}` : 'the bug';
      const proven = fixes.find((f) => f.slug === fix)?.proven ?? false;

      {
        test(`${name}: after every Step the status line names no protocol message`, async (t) => {
          const lesson = await LessonPage.open(browser, site.url, slug, fix);
          const { page } = lesson;
          if (await page.getByTestId('protocol-view').isChecked()) {
            // The protocol is this run's point: its status line names the messages.
            t.skip('protocol view is on for this run');
            await lesson.close();
            return;
          }
          let steps = 0;
          while ((await page.getByTestId('step').isEnabled()) && steps < MAX_STEPS) {
            await lesson.step();
            steps += 1;
            const status = await lesson.status();
            const named = words(status).filter((w) => PROTOCOL_NAMES.includes(w));
            assert.deepEqual(named, [], `step ${steps}: ${status}`);
            assert.notEqual((await lesson.headline()).trim(), '', `step ${steps} says nothing`);
          }
          assert.ok(steps > 0);
          assert.deepEqual(lesson.problems, []);
          await lesson.close();
        });
      }

      test(`${name}: Play reaches the outcome`, async () => {
        const lesson = await LessonPage.open(browser, site.url, slug, fix);
        await lesson.playToEnd();
        const outcome = await lesson.outcome();
        if (!fix) {
          assert.ok(BUG_OUTCOMES.includes(outcome), `outcome ${outcome}`);
          // Play paused at a key moment on the way and said so, or the key moment is the
          // outcome's own step (read-skew's wrong total) and the status line names it there.
          const named = await lesson.page.getByTestId('key-moment').count();
          assert.ok(lesson.paused >= 1 || named > 0, 'a key moment is marked');
        } else if (proven) {
          assert.equal(outcome, 'completed');
        }
        // The verdict is one sentence.
        const headline = (await lesson.headline()).trim();
        assert.match(headline, /^[^.]*(\.[^.\s][^.]*)*\.$/, headline);
        assert.deepEqual(lesson.problems, []);
        await lesson.close();
      });
    }
  });
}

test('Play with pausing at key moments turned off goes straight to the outcome', async () => {
  const lesson = await LessonPage.open(browser, site.url, 'lock-order');
  await lesson.page.getByTestId('key-pauses').uncheck();
  await lesson.playToEnd();
  assert.equal(lesson.paused, 0);
  assert.equal(await lesson.outcome(), 'deadlock');
  assert.deepEqual(lesson.problems, []);
  await lesson.close();
});

test('protocol view makes every engine move a step of its own', async () => {
  const lesson = await LessonPage.open(browser, site.url, 'lock-order');
  const { page } = lesson;
  assert.equal(await page.getByTestId('protocol-view').isChecked(), false);
  await page.getByTestId('protocol-view').check();
  for (let n = 1; n <= 3; n++) {
    await lesson.step();
    assert.equal((await lesson.schedule()).split(' ').length, n);
  }
  // The third move sends the SELECT with the extended protocol.
  assert.match(await lesson.headline(), /Parse/);
  assert.deepEqual(lesson.problems, []);
  await lesson.close();
});
