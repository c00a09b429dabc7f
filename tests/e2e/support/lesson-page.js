// A page object for one lesson: open it, drive the controls, read the outcome.
import { openPage } from './browser.js';

/** Outcomes that mean a run has ended (`data-outcome` in app/src/components/status_banner.rs). */
export const FINAL_OUTCOMES = ['deadlock', 'stalled', 'failed', 'anomaly', 'completed'];

/**
 * The page's address once it has caught up: a page writes it once it has been quiet for 250 ms
 * (`QUIET_MS` in app/src/url.rs), always with its latest state. Called when the page is quiet,
 * a timer set now fires after the page's own, which was set at its last change.
 */
export async function address(page) {
  return page.evaluate(() => new Promise((r) => setTimeout(() => r(location.href), 400)));
}

/** The course's lessons as the course list shows them, in course order. */
export async function courseSlugs(browser, baseUrl) {
  const { page, context } = await openPage(browser, baseUrl);
  await page.goto(baseUrl);
  await page.getByTestId('lesson-picker').waitFor({ timeout: 15000 });
  const slugs = await page.locator('[data-testid^="lesson-"]').evaluateAll((cards) =>
    cards.map((c) => c.dataset.testid.replace(/^lesson-/, '')).filter((s) => s !== 'picker'));
  await context.close();
  return slugs;
}

export class LessonPage {
  constructor(page, problems, context) {
    this.page = page;
    this.problems = problems;
    this.context = context;
  }

  /** Opens `?lesson=SLUG[&fix=FIX]` and waits for the lesson to mount. */
  static async open(browser, baseUrl, slug, fix) {
    const { page, problems, context } = await openPage(browser, baseUrl);
    const query = new URLSearchParams({ lesson: slug });
    if (fix) query.set('fix', fix);
    await page.goto(`${baseUrl}?${query}`);
    await page.getByTestId('lesson-title').waitFor({ timeout: 15000 });
    return new LessonPage(page, problems, context);
  }

  /** The outcome word: ready, running, deadlock, stalled, failed, anomaly or completed. */
  outcome() {
    return this.page.getByTestId('status').getAttribute('data-outcome');
  }

  status() {
    return this.page.getByTestId('status').innerText();
  }

  /**
   * Presses Play and waits until the status declares the outcome (the run may go on from there);
   * where Play pauses at a key moment, presses Play again. `paused` counts those pauses.
   */
  async playToEnd(timeout = 30000) {
    await this.page.getByTestId('speed').fill('100');
    this.paused = 0;
    for (let i = 0; i < 20; i++) {
      await this.page.getByTestId('play').click();
      await this.page.waitForFunction(
        (finals) =>
          finals.includes(document.querySelector('[data-testid="status"]')?.dataset.outcome) ||
          document.querySelector('[data-testid="key-pause"]') !== null,
        FINAL_OUTCOMES,
        { timeout },
      );
      if (FINAL_OUTCOMES.includes(await this.outcome())) break;
      this.paused += 1;
    }
    return this.status();
  }

  /** Presses Play until no step is left (after the outcome, the rest of the run). */
  async playOn(timeout = 30000) {
    await this.page.getByTestId('speed').fill('100');
    for (let i = 0; i < 20 && (await this.page.getByTestId('step').isEnabled()); i++) {
      await this.page.getByTestId('play').click();
      await this.page.waitForFunction(
        () =>
          document.querySelector('[data-testid="step"]')?.disabled ||
          document.querySelector('[data-testid="play"]') !== null,
        null,
        { timeout },
      );
    }
  }

  /** The status line's headline: one sentence about the last step or the outcome. */
  headline() {
    return this.page.getByTestId('status-headline').innerText();
  }

  async step() {
    await this.page.getByTestId('step').click();
  }

  async back() {
    await this.page.getByTestId('back').click();
  }

  async runTask(name) {
    await this.page.getByTestId(`lane-${name}`).click();
  }

  schedule() {
    return this.page.getByTestId('schedule').innerText();
  }

  /**
   * Presses "Check every schedule" and waits for the verdict: `fails`, `proven` or
   * `incomplete` (`data-verdict` in app/src/components/check_schedules.rs).
   */
  async checkEverySchedule(timeout = 120000) {
    await this.page.getByRole('button', { name: 'Check every schedule', exact: true }).click();
    const result = this.page.getByTestId('check-result');
    await result.waitFor({ timeout });
    return result.getAttribute('data-verdict');
  }

  /** The lesson's fixes as shown in its fix panel: [{ slug, proven }], from the lesson data. */
  fixes() {
    return this.page.locator('[data-fix]').evaluateAll((buttons) =>
      buttons.map((b) => ({ slug: b.dataset.fix, proven: b.dataset.proven === 'true' })));
  }

  /**
   * Opens the tab of panel `id` (`timeline`, `pg_locks`, `log`, ...) beside the stage, unless
   * that panel is the lesson's key panel, which is always shown.
   */
  async openTab(id) {
    const tab = this.page.getByTestId(`tab-${id}`);
    if (await tab.count() > 0) await tab.click();
  }

  /** The text of every PostgreSQL error block shown in the timeline. */
  async pgErrors() {
    await this.openTab('timeline');
    return this.page.getByTestId('pg-error').allInnerTexts();
  }

  async close() {
    await this.context.close();
  }
}
