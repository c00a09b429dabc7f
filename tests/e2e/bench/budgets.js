// The page's budgets, measured and printed (never asserted: figures vary with the machine).
//
//   size     what a reader fetches: for each lesson page, the sandbox and the studio, the gzipped
//            bytes of every response before the page is interactive (target: a lesson page
//            under 300 KB); the explorer's worker, fetched on the first check; all of dist/
//   start    navigation to the first interactive lesson: the Play button enabled (median of runs)
//   check    the longest main-thread task while "Check every schedule" runs (target: under
//            50 ms, the explorer being in a worker)
//   step     one Step in the browser, engine plus render: click, every reactive update and a
//            forced layout (p50/p95/max over every step of every lesson; target: p95 under 8 ms),
//            stepping from the moment the page answers and again from two seconds after;
//            then the main thread's work per Step in a Chromium trace, the frame it draws
//            included (style, layout, paint, the address and anything else the step set off),
//            with the Steps spaced out so each is measured alone, and its mean split into the
//            rendering stages (style, layout, pre-paint, paint, layerize, commit) and the rest
//   play     for every lesson and fix: the Steps Play takes to the outcome and the seconds from
//            pressing Play to the outcome at the default speed, pausing at key moments turned
//            off (target: under 15 s each)
//
// `BENCH=play npm run bench` measures only the last; `BENCH=size`, `check`, `start` or `step`
// only that one.
//
// Run after `make dist`: `npm run bench` here, or `make bench` at the top.
import fs from 'node:fs';
import path from 'node:path';
import zlib from 'node:zlib';
import { serveDist, launchBrowser, openPage, distDir } from '../support/browser.js';
import { FINAL_OUTCOMES } from '../support/lesson-page.js';

const SIZE_TARGET = 300 * 1024;
const STEP_P95_TARGET_MS = 8;
const START_RUNS = 5;
/** How long after the page answers the second Step figure starts stepping. */
const READER_DELAY_MS = 2000;
/** A run that has not ended after this many steps is measured no further. */
const MAX_STEPS_PER_LESSON = 400;

const kb = (bytes) => `${(bytes / 1024).toFixed(1)} KB`;

const gzipped = (bytes) => zlib.gzipSync(bytes, { level: 9 }).length;

/** Every file of dist/ (its folders' too), gzipped. */
function distSizes() {
  let total = 0;
  const lines = [];
  const files = fs
    .readdirSync(distDir, { recursive: true })
    .filter((file) => fs.statSync(path.join(distDir, file)).isFile())
    .sort();
  for (const file of files) {
    const gz = gzipped(fs.readFileSync(path.join(distDir, file)));
    total += gz;
    lines.push(`  ${file.padEnd(44)} ${kb(gz).padStart(10)} gzip`);
  }
  return { total, lines };
}

/**
 * Opens `query` and sums the gzipped bodies of every response until `ready` resolves: what a
 * reader of a blog post fetches before the page answers.
 */
async function firstLoad(browser, url, query, ready) {
  const { page, context } = await openPage(browser, url);
  const bodies = [];
  page.on('response', (response) => bodies.push(response.body().catch(() => Buffer.alloc(0))));
  await page.goto(`${url}${query}`);
  await ready(page);
  const sizes = (await Promise.all(bodies)).map(gzipped);
  await context.close();
  return { bytes: sizes.reduce((a, b) => a + b, 0), files: sizes.length };
}

const lessonReady = (page) =>
  page.getByTestId('play').and(page.locator(':enabled')).waitFor({ timeout: 30000 });
const sandboxReady = (page) => page.getByTestId('status').waitFor({ timeout: 30000 });

/** The longest main-thread task (PerformanceObserver's long tasks, over 50 ms) while a check runs. */
async function checkBlocking(browser, url, slug, fix) {
  const { page, context, problems } = await openPage(browser, url);
  await page.goto(`${url}?lesson=${slug}${fix ? `&fix=${fix}` : ''}`);
  await lessonReady(page);
  await page.evaluate(() => {
    window.longTasks = [];
    new PerformanceObserver((list) => window.longTasks.push(...list.getEntries().map((e) => e.duration))).observe({
      type: 'longtask',
    });
  });
  const t0 = Date.now();
  await page.getByTestId('check').click();
  await page.getByTestId('check-result').waitFor({ timeout: 600000 });
  const seconds = (Date.now() - t0) / 1000;
  const verdict = await page.getByTestId('check-result').getAttribute('data-verdict');
  const longest = await page.evaluate(() => Math.max(0, ...window.longTasks));
  await context.close();
  if (problems.length) throw new Error(`${slug}: ${problems.join('; ')}`);
  return { seconds, verdict, longest };
}

/** The course, in order, from lessons/catalogue.toml (`lessons = ["a", "b"]`). */
function slugs() {
  const text = fs.readFileSync(new URL('../../../lessons/catalogue.toml', import.meta.url), 'utf8');
  const list = text.match(/lessons\s*=\s*\[([^\]]*)\]/);
  return [...list[1].matchAll(/"([^"]+)"/g)].map((m) => m[1]);
}

async function startTime(browser, url, slug) {
  const times = [];
  for (let i = 0; i < START_RUNS; i++) {
    const { page, context } = await openPage(browser, url);
    const t0 = Date.now();
    await page.goto(`${url}?lesson=${slug}`);
    await page.getByTestId('play').and(page.locator(':enabled')).waitFor({ timeout: 30000 });
    times.push(Date.now() - t0);
    await context.close();
  }
  times.sort((a, b) => a - b);
  return times;
}

/**
 * Steps the lesson's default schedule to its end with a pause after each Step, tracing the
 * renderer: for each Step, the milliseconds its main thread was busy from the click until the
 * next click (every top-level task: the click, effects, timers, animation frames, style,
 * layout, paint). A busy machine stretches a task, but unlike `stepTimes` no figure includes
 * time spent waiting for the next frame.
 */
async function stepWork(browser, url, slug) {
  const { page, context, problems } = await openPage(browser, url);
  await page.goto(`${url}?lesson=${slug}`);
  await page.getByTestId('step').waitFor({ timeout: 30000 });
  const cdp = await context.newCDPSession(page);
  const events = [];
  cdp.on('Tracing.dataCollected', (e) => events.push(...e.value));
  const complete = new Promise((resolve) => cdp.on('Tracing.tracingComplete', resolve));
  await cdp.send('Tracing.start', {
    categories: 'devtools.timeline,disabled-by-default-devtools.timeline,blink.user_timing',
    transferMode: 'ReportEvents',
  });
  await page.evaluate(async ({ max, finals }) => {
    const status = () => document.querySelector('[data-testid="status"]')?.dataset.outcome;
    const button = document.querySelector('[data-testid="step"]');
    const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
    const idle = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
    for (let n = 0; !finals.includes(status()) && n < max && !button.disabled; n++) {
      performance.mark('lockstep-step');
      button.click();
      await frame();
      await frame();
      await idle(40);
    }
    performance.mark('lockstep-step');
  }, { max: MAX_STEPS_PER_LESSON, finals: FINAL_OUTCOMES });
  await cdp.send('Tracing.end');
  await complete;
  await context.close();
  if (problems.length) throw new Error(`${slug}: ${problems.join('; ')}`);
  const marks = events.filter((e) => e.name === 'lockstep-step').sort((a, b) => a.ts - b.ts);
  if (marks.length < 2) return { work: [], stages: noStages() };
  const { pid, tid } = marks[0];
  const tasks = events
    .filter((e) => e.ph === 'X' && e.pid === pid && e.tid === tid && e.dur)
    .sort((a, b) => a.ts - b.ts);
  const work = new Array(marks.length - 1).fill(0);
  let end = -Infinity;
  let step = 0;
  for (const task of tasks) {
    if (task.ts < end) continue; // inside a task already counted
    end = task.ts + task.dur;
    while (step < work.length && task.ts >= marks[step + 1].ts) step++;
    if (step >= work.length) break;
    if (task.ts >= marks[0].ts) work[step] += task.dur / 1000;
  }
  // The rendering stages' own events, wherever they ran (none of them nests in another).
  const last = marks[marks.length - 1].ts;
  const stages = noStages();
  for (const task of tasks) {
    if (task.ts >= marks[0].ts && task.ts < last && task.name in stages) stages[task.name] += task.dur / 1000;
  }
  return { work, stages };
}

/** Chromium's trace events for rendering a frame, with the words the bench prints for them. */
const RENDERING_STAGES = [
  ['UpdateLayoutTree', 'style'],
  ['Layout', 'layout'],
  ['PrePaint', 'pre-paint'],
  ['Paint', 'paint'],
  ['Layerize', 'layerize'],
  ['Commit', 'commit'],
];

/** Each rendering stage at 0 ms. */
const noStages = () => Object.fromEntries(RENDERING_STAGES.map(([name]) => [name, 0]));

/**
 * Steps the lesson's default schedule to its end, timing each step inside the page: from the
 * moment the Step button appears, or `after` ms later (a reader's first click comes once they
 * have read the page's first lines, and the page prepares for it while idle).
 */
async function stepTimes(browser, url, slug, after = 0) {
  const { page, context, problems } = await openPage(browser, url);
  await page.goto(`${url}?lesson=${slug}`);
  await page.getByTestId('step').waitFor({ timeout: 30000 });
  if (after) await page.waitForTimeout(after);
  const times = await page.evaluate(async ({ max, finals }) => {
    const status = () => document.querySelector('[data-testid="status"]')?.dataset.outcome;
    const button = document.querySelector('[data-testid="step"]');
    // A macrotask without setTimeout's clamping (about 4 ms in Chromium).
    const channel = new MessageChannel();
    const macrotask = () =>
      new Promise((resolve) => {
        channel.port1.onmessage = resolve;
        channel.port2.postMessage(0);
      });
    const out = [];
    while (!finals.includes(status()) && out.length < max && !button.disabled) {
      const t0 = performance.now();
      button.click();
      // A macrotask runs after every microtask the click queued (Leptos's effects), then the
      // layout is forced: the DOM is up to date and laid out.
      await macrotask();
      document.body.getBoundingClientRect();
      out.push(performance.now() - t0);
    }
    return out;
  }, { max: MAX_STEPS_PER_LESSON, finals: FINAL_OUTCOMES });
  await context.close();
  if (problems.length) throw new Error(`${slug}: ${problems.join('; ')}`);
  return times;
}

/** The lesson's fixes, from its fix panel. */
async function fixesOf(browser, url, slug) {
  const { page, context } = await openPage(browser, url);
  await page.goto(`${url}?lesson=${slug}`);
  await page.getByTestId('play').waitFor({ timeout: 30000 });
  const fixes = await page.locator('[data-fix]').evaluateAll((bs) => bs.map((b) => b.dataset.fix));
  await context.close();
  return fixes;
}

/**
 * Presses Play at the default speed and waits for the outcome: the Steps taken (the
 * scrubber's position) and the seconds it took. Pausing at key moments is turned off where the
 * page has that setting.
 */
async function playTime(browser, url, slug, fix) {
  const { page, context, problems } = await openPage(browser, url);
  await page.goto(`${url}?lesson=${slug}${fix ? `&fix=${fix}` : ''}`);
  await page.getByTestId('play').and(page.locator(':enabled')).waitFor({ timeout: 30000 });
  const pauses = page.getByTestId('key-pauses');
  if (await pauses.count()) await pauses.uncheck();
  const result = await page.evaluate(async (finals) => {
    const status = () => document.querySelector('[data-testid="status"]')?.dataset.outcome;
    const t0 = performance.now();
    document.querySelector('[data-testid="play"]').click();
    while (!finals.includes(status())) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      if (performance.now() - t0 > 600000) break;
    }
    return {
      seconds: (performance.now() - t0) / 1000,
      steps: Number(document.querySelector('[data-testid="scrubber"]').value),
      outcome: status(),
    };
  }, FINAL_OUTCOMES);
  await context.close();
  if (problems.length) throw new Error(`${slug}: ${problems.join('; ')}`);
  return result;
}

const percentile = (sorted, p) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];

const PLAY_TARGET_S = 15;
const only = process.env.BENCH;

const site = await serveDist();
const browser = await launchBrowser();
try {
  const lessons = slugs();
  if (!only || only === 'play') {
    for (const slug of lessons) {
      for (const fix of [null, ...(await fixesOf(browser, site.url, slug))]) {
        const { seconds, steps, outcome } = await playTime(browser, site.url, slug, fix);
        const name = fix ? `${slug} + ${fix}` : slug;
        console.log(
          `play: ${name.padEnd(46)} ${String(steps).padStart(4)} steps to ${outcome.padEnd(9)} ` +
            `${seconds.toFixed(1).padStart(5)} s (target ${PLAY_TARGET_S} s: ${seconds < PLAY_TARGET_S ? 'within' : 'OVER'})`,
        );
      }
    }
  }
  const wanted = (part) => !only || only === part;
  if (wanted('size')) {
    console.log('size: what a reader fetches before the page is interactive (gzip -9):');
    for (const slug of lessons) {
      const { bytes, files } = await firstLoad(browser, site.url, `?lesson=${slug}`, lessonReady);
      console.log(
        `  ?lesson=${slug.padEnd(20)} ${kb(bytes).padStart(9)} in ${files} files ` +
          `(target ${kb(SIZE_TARGET)}: ${bytes <= SIZE_TARGET ? 'within' : `OVER by ${kb(bytes - SIZE_TARGET)}`})`,
      );
    }
    const course = await firstLoad(browser, site.url, '', (page) => page.getByTestId('lesson-picker').waitFor());
    console.log(`  the course list                ${kb(course.bytes).padStart(9)} in ${course.files} files`);
    const sandbox = await firstLoad(browser, site.url, 'sandbox.html', sandboxReady);
    console.log(`  the sandbox (sandbox.html)     ${kb(sandbox.bytes).padStart(9)} in ${sandbox.files} files`);
    const studio = await firstLoad(browser, site.url, 'studio.html', lessonReady);
    console.log(`  the studio (studio.html)       ${kb(studio.bytes).padStart(9)} in ${studio.files} files`);
    const worker = fs
      .readdirSync(distDir)
      .filter((f) => f.startsWith('lockstep-worker'))
      .reduce((sum, f) => sum + gzipped(fs.readFileSync(path.join(distDir, f))), 0);
    console.log(`  the explorer's worker, fetched on the first check: ${kb(worker)}`);
    const dist = distSizes();
    dist.lines.forEach((line) => console.log(line));
    console.log(`  all of dist/ ${kb(dist.total)}`);
  }
  if (wanted('check')) {
    for (const [slug, fix] of [['lock-order', 'order-by'], ['pool-exhaustion', null]]) {
      const { seconds, verdict, longest } = await checkBlocking(browser, site.url, slug, fix);
      console.log(
        `check: ${slug}${fix ? ` + ${fix}` : ''}: ${verdict} in ${seconds.toFixed(1)} s; longest main-thread ` +
          `task meanwhile ${longest.toFixed(0)} ms (target 50 ms: ${longest <= 50 ? 'within' : 'OVER'})`,
      );
    }
  }
  if (wanted('start')) {
    const start = await startTime(browser, site.url, lessons[0]);
    console.log(
      `start: navigation to an interactive lesson (${lessons[0]}), ${START_RUNS} runs: ` +
        `median ${start[Math.floor(start.length / 2)]} ms, min ${start[0]} ms, max ${start[start.length - 1]} ms`,
    );
  }
  if (wanted('step')) {
    // Stepping from the moment the page answers (the worst case), then from two seconds after.
    for (const [after, when] of [
      [0, 'from the moment the page answers'],
      [READER_DELAY_MS, `from ${READER_DELAY_MS / 1000} s after (a reader's first click)`],
    ]) {
      const all = [];
      for (const slug of lessons) {
        const times = await stepTimes(browser, site.url, slug, after);
        all.push(...times);
        const sorted = [...times].sort((a, b) => a - b);
        console.log(
          `step: ${slug.padEnd(20)} ${String(times.length).padStart(4)} steps, ` +
            `p50 ${percentile(sorted, 50).toFixed(2)} ms, p95 ${percentile(sorted, 95).toFixed(2)} ms, ` +
            `max ${sorted[sorted.length - 1].toFixed(2)} ms`,
        );
      }
      all.sort((a, b) => a - b);
      const p95 = percentile(all, 95);
      console.log(
        `step: all lessons, ${when}: ${all.length} steps, p50 ${percentile(all, 50).toFixed(2)} ms, ` +
          `p95 ${p95.toFixed(2)} ms (target ${STEP_P95_TARGET_MS} ms: ${p95 <= STEP_P95_TARGET_MS ? 'within' : 'OVER'})`,
      );
    }
    const work = [];
    const stages = noStages();
    for (const slug of lessons) {
      const lesson = await stepWork(browser, site.url, slug);
      work.push(...lesson.work);
      for (const name in stages) stages[name] += lesson.stages[name];
    }
    work.sort((a, b) => a - b);
    console.log(
      `step: main-thread work per Step, the frame it draws included, ${work.length} steps spaced apart: ` +
        `p50 ${percentile(work, 50).toFixed(2)} ms, p95 ${percentile(work, 95).toFixed(2)} ms, ` +
        `max ${work[work.length - 1].toFixed(2)} ms`,
    );
    // Where it goes: what is not a rendering stage is script (the click, Leptos's effects),
    // timers and events.
    const mean = (ms) => (ms / work.length).toFixed(2);
    const total = work.reduce((a, b) => a + b, 0);
    const rendering = Object.values(stages).reduce((a, b) => a + b, 0);
    console.log(
      `step: the same, mean per Step: ${mean(total)} ms, of which ` +
        RENDERING_STAGES.map(([name, words]) => `${words} ${mean(stages[name])}`).join(', ') +
        `, and script and the rest ${mean(total - rendering)}`,
    );
  }
} finally {
  await browser.close();
  site.server.close();
}
