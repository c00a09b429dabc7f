// The studio (studio.html): an author writes a lesson in the course's format, plays it on the
// course's stage, checks it as `lockstep check` does, and shares it by a link that carries the
// whole file; the link and the embed replay the same lesson at the same step. Every course
// lesson, copied into the studio and sent through its link, plays and checks as the course's.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';
import { siteAndBrowser, openPage } from '../support/browser.js';
import { LessonPage, address, courseSlugs } from '../support/lesson-page.js';

const { site, browser } = await siteAndBrowser();
const here = path.dirname(fileURLToPath(import.meta.url));
const shots = path.join(here, '..', 'screenshots');

const studioUrl = (query = '') => `${site.url}studio.html${query}`;

// The course's lessons, as the course list shows them: a lesson added to the catalogue is
// covered without touching this file.
const slugs = await courseSlugs(browser, site.url);


async function openStudio(query = '', size = { width: 1280, height: 800 }) {
  const { page, problems, context } = await openPage(browser, site.url);
  await page.setViewportSize(size);
  await page.goto(studioUrl(query));
  await page.getByTestId('lesson-title').waitFor({ timeout: 30000 });
  return { page, problems, context };
}

/** Task B of the blank file moves the money the other way: its program and its listing. */
function turnBAround(text) {
  const at = text.indexOf('file = "transfer_b.go"');
  const tasksAt = text.indexOf('[scenario]');
  const bAt = text.indexOf('[[scenario.tasks]]\nname = "B"');
  const swap = (part) =>
    part
      .replaceAll('balance - 10 WHERE id = 1', 'balance - 10 WHERE id = X')
      .replaceAll('balance + 10 WHERE id = 2', 'balance + 10 WHERE id = 1')
      .replaceAll('WHERE id = X', 'WHERE id = 2');
  return (
    text.slice(0, at) + swap(text.slice(at, tasksAt)) + text.slice(tasksAt, bAt) + swap(text.slice(bAt))
  ).replace(/^bug_schedule = .*$/m, 'bug_schedule = "A A A A A A A B B B B A B B B B +"');
}

/** The fix the test types: B updates account 1 first, as A does. */
const FIX = `
[[fixes]]
slug = "same-order"
title = "Update the accounts in id order"
proven = true
explanation = "Both transfers touch account 1 first, so the second waits and never holds what the first needs."

[fixes.sql]
"UPDATE account SET balance = balance - 10 WHERE id = 2" = "UPDATE account SET balance = balance + 10 WHERE id = 1"
"UPDATE account SET balance = balance + 10 WHERE id = 1" = "UPDATE account SET balance = balance - 10 WHERE id = 2"
`;

test('an author types a deadlock into the blank lesson, plays it, checks it, and its link and embed replay it', async () => {
  const { page, problems, context } = await openStudio();
  const editor = page.getByTestId('studio-editor');
  assert.match(await page.getByTestId('studio-status').innerText(), /Reads as a lesson: “Two transfers”, 2 tasks, 0 fixes/);
  // The blank lesson has no bug yet, and the check says so.
  await page.getByTestId('studio-check').click();
  const result = page.getByTestId('lesson-check-result');
  await result.waitFor({ timeout: 60000 });
  assert.equal(await result.getAttribute('data-verdict'), 'not-as-promised');
  assert.match(await result.innerText(), /bug: no schedule fails .* but a failure is promised/);

  // B turns around; then the fix, typed key by key at the end of the file.
  await editor.fill(turnBAround(await editor.inputValue()));
  await editor.press('Control+End');
  await page.keyboard.type(FIX);
  await page.waitForFunction(
    () => /2 tasks, 1 fix\./.test(document.querySelector('[data-testid="studio-status"]')?.innerText ?? ''),
    null,
    { timeout: 15000 },
  );

  // Played, the two transfers deadlock and PostgreSQL breaks the cycle.
  const lesson = new LessonPage(page, problems, context);
  await lesson.playToEnd();
  assert.match(await lesson.status(), /deadlock detected/);
  // Checked as `lockstep check` checks: the bug is found, the fix is proven.
  await page.getByTestId('studio-check').click();
  await page.locator('[data-testid="lesson-check-result"][data-verdict="as-promised"]').waitFor({ timeout: 60000 });
  const lines = await page.getByTestId('lesson-check-result').innerText();
  assert.match(lines, /bug: fails: .*deadlock detected/);
  assert.match(lines, /fix same-order: proven: no schedule fails/);
  // The worker draws the author's lesson (its file travels with the request), not a course one.
  const [file] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-timeline').click()]);
  const timeline = fs.readFileSync(await file.path(), 'utf8');
  assert.match(timeline, /<title>Two transfers — schedule [^<]+<\/title>/);
  await page.screenshot({ path: path.join(shots, 'studio.png') });

  // The share link carries the file; a fresh page opens the same lesson at the same step.
  const step = await page.getByTestId('scrubber').inputValue();
  const headline = await lesson.headline();
  await address(page);
  await page.getByTestId('share').click();
  const link = await page.getByTestId('share-link').inputValue();
  assert.match(link, /\/studio\.html\?lesson_src=1[\w-]+&/);
  const snippet = await page.getByTestId('share-embed').inputValue();
  assert.deepEqual(problems, []);
  await context.close();

  const fresh = await openPage(browser, site.url);
  await fresh.page.setViewportSize({ width: 1280, height: 800 });
  await fresh.page.goto(link);
  await fresh.page.getByTestId('lesson-title').waitFor({ timeout: 30000 });
  assert.equal(await fresh.page.getByTestId('lesson-title').innerText(), 'Two transfers');
  assert.equal(await fresh.page.getByTestId('scrubber').inputValue(), step);
  assert.equal(await new LessonPage(fresh.page).headline(), headline);
  assert.ok(await fresh.page.getByTestId('authored-badge').isVisible(), 'marked as authored');
  // Someone who opens a shared lesson sees the lesson; the file waits behind a button.
  assert.ok(!(await fresh.page.getByTestId('studio-editor').isVisible()));
  await fresh.page.getByTestId('studio-toggle').click();
  assert.match(await fresh.page.getByTestId('studio-editor').inputValue(), /slug = "same-order"/);
  assert.deepEqual(fresh.problems, []);
  await fresh.context.close();

  // The embed, at the size of a blog post's iframe: the lesson alone, the stage on screen.
  const src = snippet.match(/src="([^"]+)"/)[1].replaceAll('&amp;', '&');
  assert.match(src, /embed=1/);
  const embed = await openPage(browser, site.url);
  await embed.page.setViewportSize({ width: 700, height: 500 });
  await embed.page.goto(src);
  await embed.page.getByTestId('lesson-title').waitFor({ timeout: 30000 });
  assert.equal(await embed.page.getByTestId('scrubber').inputValue(), step);
  assert.equal(await embed.page.getByTestId('studio').count(), 0, 'no studio around an embed');
  const stage = await embed.page.getByTestId('stage').boundingBox();
  assert.ok(stage && stage.y < 500, 'the stage starts on screen');
  await embed.page.screenshot({ path: path.join(shots, 'studio-embed.png') });
  assert.deepEqual(embed.problems, []);
  await embed.context.close();
});

test('a file that does not read says where, and the stage keeps the last version that did', async () => {
  const { page, problems, context } = await openStudio();
  const editor = page.getByTestId('studio-editor');
  const text = await editor.inputValue();
  await editor.fill(text.replace('title = "Two transfers"', 'title = Two transfers"'));
  const problem = page.getByTestId('studio-problem');
  await problem.waitFor({ timeout: 15000 });
  assert.match(await problem.innerText(), /^line 5, column 9: /);
  assert.match(await problem.innerText(), /the last version that read/);
  assert.equal(await page.getByTestId('lesson-title').innerText(), 'Two transfers');
  await page.getByTestId('studio-go-to-problem').click();
  const caret = await editor.evaluate((el) => el.selectionStart);
  const lines = (await editor.inputValue()).split('\n');
  assert.equal(caret, lines.slice(0, 4).join('\n').length + 1 + 8, 'the cursor is at line 5, column 9');
  // A file that parses but does not make sense says why, without a place.
  await editor.fill(text.replace('{ line = 7, op = "commit" }', '{ line = 70, op = "commit" }'));
  await page.waitForFunction(
    () => /line 70 is outside transfer_a\.go/.test(document.querySelector('[data-testid="studio-problem"]')?.innerText ?? ''),
    null,
    { timeout: 15000 },
  );
  assert.deepEqual(problems, []);
  await context.close();
});

test('a starting point from the course, Undo, and links that are damaged or do not read say so', async () => {
  const { page, problems, context } = await openStudio();
  await page.getByTestId('studio-start').selectOption('lock-order');
  await page.waitForFunction(
    () => document.querySelector('[data-testid="lesson-title"]')?.innerText === 'Same rows, different order',
  );
  assert.ok(await page.getByTestId('authored-badge').isVisible(), 'a copy is the author’s, not the course’s');
  await page.getByTestId('studio-undo').click();
  await page.waitForFunction(() => document.querySelector('[data-testid="lesson-title"]')?.innerText === 'Two transfers');
  assert.deepEqual(problems, []);
  await context.close();

  const damaged = await openStudio('?lesson_src=1AAAA');
  assert.match(await damaged.page.getByTestId('studio-link-problem').innerText(), /could not be read: the link's lesson is damaged/);
  assert.equal(await damaged.page.getByTestId('lesson-title').innerText(), 'Two transfers');
  await damaged.context.close();

  // A link whose file does not read opens the file at its problem, in the page and embedded.
  const broken = `1${zlib.deflateRawSync(Buffer.from('slug = "x"\ntitle = 3\n'), { level: 9 }).toString('base64url')}`;
  const unreadable = await openPage(browser, site.url);
  await unreadable.page.goto(studioUrl(`?lesson_src=${broken}`));
  await unreadable.page.getByTestId('studio-problem').waitFor({ timeout: 30000 });
  assert.match(await unreadable.page.getByTestId('studio-problem').innerText(), /^line 2, column 9: /);
  assert.ok(await unreadable.page.getByTestId('studio-editor').isVisible(), 'the file is open');
  await unreadable.page.goto(studioUrl(`?lesson_src=${broken}&embed=1`));
  await unreadable.page.getByTestId('studio-problem').waitFor({ timeout: 30000 });
  assert.match(await unreadable.page.getByTestId('studio-problem').innerText(), /does not read: line 2, column 9/);
  await unreadable.context.close();

  // The course list links to the studio.
  const list = await openPage(browser, site.url);
  await list.page.goto(site.url);
  await list.page.getByTestId('open-studio').click();
  await list.page.getByTestId('studio').waitFor({ timeout: 30000 });
  assert.equal(await list.page.getByTestId('lesson-title').innerText(), 'Two transfers');
  await list.context.close();

  // Studio links written to the lesson page go on to the studio.
  const forwarded = await openPage(browser, site.url);
  await forwarded.page.goto(`${site.url}?studio=1&lesson=read-skew`);
  await forwarded.page.getByTestId('studio').waitFor({ timeout: 30000 });
  assert.match(forwarded.page.url(), /\/studio\.html\?/);
  assert.equal(await forwarded.page.getByTestId('lesson-title').innerText(), 'The fix that was not quite fixed');
  await forwarded.context.close();
});

/** The check panel's result for the current scenario, without the time it took. */
async function checkResult(page) {
  await page.getByTestId('check').click();
  const result = page.getByTestId('check-result');
  await result.waitFor({ timeout: 120000 });
  return (await result.innerText()).replace(/\s*\(\d+(\.\d+)? s\)|in \d+(\.\d+)? s/g, '');
}

test('the course list names every lesson', () => assert.ok(slugs.length >= 6, slugs.join(', ')));

for (const slug of slugs) {
  test(`${slug}: copied into the studio and sent through its link, it plays and checks as the course's`, async () => {
    const course = await LessonPage.open(browser, site.url, slug);
    const courseStatus = await course.playToEnd();
    const courseCheck = await checkResult(course.page);
    await course.context.close();

    const { page, context } = await openStudio(`?lesson=${slug}`);
    await page.getByTestId('share').click();
    const link = await page.getByTestId('share-link').inputValue();
    await context.close();
    const shared = await openPage(browser, site.url);
    await shared.page.goto(link);
    await shared.page.getByTestId('lesson-title').waitFor({ timeout: 30000 });
    const studio = new LessonPage(shared.page, shared.problems, shared.context);
    assert.equal(await studio.playToEnd(), courseStatus);
    assert.equal(await checkResult(shared.page), courseCheck);
    assert.deepEqual(shared.problems, []);
    await shared.context.close();
  });
}
