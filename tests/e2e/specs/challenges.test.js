// Goals for the learner, over every lesson and every challenge: each is solved the way a learner
// would (lane clicks or number keys, Step only when the clock must run; a fix or a knob and
// "Check every schedule"), using the solution `lockstep check` prints, and the page announces
// the win in its status region. Every partial fix played to its end shows its failure; a
// prediction at a key moment is answered by playing it; the course list counts what was met.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { siteAndBrowser } from '../support/browser.js';
import { address, LessonPage } from '../support/lesson-page.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
const checked = JSON.parse(
  execFileSync('cargo', ['run', '-q', '--release', '--bin', 'lockstep', '--', 'check', 'lessons', '--json'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  }),
);
const { site, browser } = await siteAndBrowser();

/** Opens a lesson with a challenge open, from its address. */
async function openChallenge(slug, id) {
  const lesson = await LessonPage.open(browser, site.url, slug);
  await lesson.page.goto(`${site.url}?lesson=${slug}&challenge=${id}`);
  await lesson.page.getByTestId('challenge-card').waitFor();
  return lesson;
}

/** Takes one click of a schedule: a lane, or Step for the clock (`+`). */
async function click(page, move) {
  if (move === '+') {
    await page.getByTestId('step').click();
  } else {
    await page.getByTestId(`lane-${move}`).click();
  }
}

async function won(page) {
  const status = page.getByRole('status').filter({ has: page.getByTestId('challenge-won') });
  await status.waitFor({ timeout: 60000 });
  return page.getByTestId('challenge-won').innerText();
}

for (const { lesson: slug, challenges } of checked.lessons) {
  for (const c of challenges) {
    if (c.kind === 'make-it-fail' || c.kind === 'break-the-fix') {
      test(`${slug}: challenge ${c.id} is met by clicking its shortest schedule (${c.clicks} clicks)`, async () => {
        const lesson = await openChallenge(slug, c.id);
        const { page } = lesson;
        assert.equal(await page.getByTestId('play').isDisabled(), true, 'no Play: the learner is the scheduler');
        for (const move of c.shortest.split(' ')) await click(page, move);
        const says = await won(page);
        assert.match(says, new RegExp(`in ${c.clicks} clicks \\(the shortest takes ${c.clicks}\\)`));
        assert.match(await page.getByTestId('challenge-met').innerText(), /as short as it gets/);
        assert.equal(await page.getByTestId('yours').locator('.chip').count(), c.clicks);
        assert.equal(new URL(await address(page)).searchParams.get('challenge'), c.id);
        assert.deepEqual(lesson.problems, []);
        await lesson.context.close();
      });
    } else {
      test(`${slug}: challenge ${c.id} (${c.kind}) is met by choosing and checking every schedule`, async () => {
        const lesson = await openChallenge(slug, c.id);
        const { page } = lesson;
        const { solution, knob } = c;
        if (c.kind === 'survive') {
          await page.getByTestId(`fix-${solution}`).click();
        } else {
          // One too small first: the check fails, and that counts as a try.
          await page.getByTestId(`knob-${knob}`).fill(String(Number(solution) - 1));
          await page.getByTestId(`knob-${knob}`).press('Enter');
          await page.getByTestId('check').click();
          await page.locator('[data-testid="check-result"][data-verdict="fails"]').waitFor({ timeout: 60000 });
          assert.match(await page.getByTestId('challenge-tries').innerText(), /1 try/);
          await page.getByTestId(`knob-${knob}`).fill(solution);
          await page.getByTestId(`knob-${knob}`).press('Enter');
        }
        await page.getByTestId('check').click();
        const says = await won(page);
        assert.match(says, /the explorer proved .*: no schedule fails/);
        assert.deepEqual(lesson.problems, []);
        await lesson.context.close();
      });
    }
  }
}

test('a challenge is solved with the keyboard alone: number keys run lanes, → lets the clock run', async () => {
  const lesson = await openChallenge('lock-order', 'make-it-deadlock');
  const { page } = lesson;
  const c = checked.lessons.find((l) => l.lesson === 'lock-order').challenges.find((x) => x.id === 'make-it-deadlock');
  const keys = { A: '1', B: '2', '+': 'ArrowRight' };
  // Space would be Play: it does nothing while the learner is the scheduler.
  await page.keyboard.press(' ');
  assert.equal(await page.getByTestId('schedule').innerText(), '(no steps yet)');
  for (const move of c.shortest.split(' ')) await page.keyboard.press(keys[move]);
  assert.match(await won(page), /Challenge met: Make them deadlock/);
  await lesson.context.close();
});

test('a hint is offered after two tries, and a solution can be played', async () => {
  const lesson = await openChallenge('insert-order', 'make-it-deadlock');
  const { page } = lesson;
  assert.equal(await page.getByTestId('show-hint').count(), 0, 'no hint before two tries');
  for (let i = 0; i < 2; i++) {
    await page.getByTestId('lane-A').click();
    await page.getByTestId('reset').click();
  }
  assert.match(await page.getByTestId('challenge-tries').innerText(), /2 tries/);
  await page.getByTestId('show-hint').click();
  assert.match(await page.getByTestId('challenge-hint').innerText(), /^Hint: /);
  await page.getByTestId('show-solution').click();
  await page.waitForFunction(
    () => ['deadlock'].includes(document.querySelector('[data-testid="status"]')?.dataset.outcome),
    null,
    { timeout: 30000 },
  );
  // Playing the solution shows it; it does not count as met.
  assert.equal(await page.getByTestId('challenge-won').count(), 0);
  await lesson.context.close();
});

test('the course list counts the challenges met, and Reset progress forgets them', async () => {
  const lesson = await openChallenge('insert-order', 'make-it-deadlock');
  const { page } = lesson;
  const c = checked.lessons.find((l) => l.lesson === 'insert-order').challenges.find((x) => x.id === 'make-it-deadlock');
  for (const move of c.shortest.split(' ')) await click(page, move);
  await won(page);
  await page.goto(site.url);
  const card = page.getByTestId('lesson-insert-order');
  assert.match(await card.getByTestId('progress-challenges').innerText(), /challenges met 1 of 4/);
  assert.match(await card.getByTestId('progress-seen').innerText(), /bug seen/);
  await page.getByTestId('reset-progress').click();
  assert.match(await card.getByTestId('progress-challenges').innerText(), /challenges met 0 of 4/);
  assert.match(await card.getByTestId('progress-seen').innerText(), /not seen yet/);
  await lesson.context.close();
});

for (const { lesson: slug, checks } of checked.lessons) {
  for (const fix of checks.filter((x) => x.fix && x.expect_failure && Object.keys(x.at).length === 0)) {
    test(`${slug}: the partial fix ${fix.fix} played to its end shows its failure`, async () => {
      const lesson = await LessonPage.open(browser, site.url, slug, fix.fix);
      await lesson.playToEnd();
      const outcome = await lesson.outcome();
      assert.notEqual(outcome, 'completed', await lesson.status());
      assert.ok(['deadlock', 'stalled', 'failed', 'anomaly'].includes(outcome), outcome);
      await lesson.context.close();
    });
  }
}

test('at a key moment the page asks what happens next, and answers by playing it', async () => {
  const lesson = await LessonPage.open(browser, site.url, 'lock-order');
  const { page } = lesson;
  await page.getByTestId('speed').fill('100');
  await page.getByTestId('play').click();
  await page.getByTestId('key-pause').waitFor({ timeout: 30000 });
  const prediction = page.getByTestId('prediction');
  await prediction.waitFor();
  assert.match(await prediction.innerText(), /what happens if \w+ runs now\?/);
  const choices = prediction.getByTestId('prediction-choice');
  assert.ok((await choices.count()) >= 2);
  const before = await page.getByTestId('schedule').innerText();
  await choices.first().click();
  await page.getByTestId('prediction-feedback').waitFor();
  assert.match(await page.getByTestId('prediction-feedback').innerText(), /^(Right|Not quite): /);
  assert.notEqual(await page.getByTestId('schedule').innerText(), before, 'the answer is played');
  await lesson.context.close();
});
