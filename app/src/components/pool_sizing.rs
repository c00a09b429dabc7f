//! Pool sizing, for lessons with a knob for how many tasks run and a knob for the pool's size:
//! the rule that a pool of at least Tn × (Cm − 1) + 1 connections cannot be starved (Tn tasks,
//! each holding up to Cm connections at once), drawn over every setting, and the explorer
//! confirming setting by setting whether a deadlock is possible. The engine's
//! [`PoolSizing`] does the measuring and builds each setting's world; this panel draws the grid
//! and runs the checks in the background.

use crate::checker::{CheckPhase, Checker, Scenario};
use crate::player::{depend_on, set_knob, Player, SessionSignal};
use leptos::prelude::*;
use litemap::LiteMap;
use lockstep::analysis::pool_sizing::{PoolSizing, Setting};

/// The state budget per setting: a sweep over every setting stays within a few minutes, and a
/// setting the explorer cannot decide within it is shown as undecided, never as safe.
pub const SIZING_STATES_MAX: usize = 200_000;

/// What the explorer said about one setting.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    /// Some schedule fails.
    Fails,
    /// No schedule fails (complete search).
    Proven,
    /// The search met the state budget first.
    Unknown,
}

/// A verdict's key: the fix, then the setting (tasks, pool size).
type VerdictKey = (Option<String>, u32, u32);

/// The pool-sizing view; nothing for lessons without a task knob and a pool knob.
#[component]
pub fn PoolSizing() -> impl IntoView {
    let session = expect_context::<SessionSignal>();
    let player = expect_context::<Player>();
    let lesson = session.with_untracked(|s| s.lesson);
    let Some(sizing) = PoolSizing::of(lesson) else {
        return ().into_any();
    };
    let pool = sizing.pool;

    // Verdicts by (fix, tasks, pool size); a separate checker, so the lesson's own check panel
    // keeps its result.
    let verdicts = RwSignal::new(LiteMap::<VerdictKey, Verdict>::new_vec());
    let checker = Checker::until_first_failure(SIZING_STATES_MAX);
    let checking = StoredValue::new(None::<VerdictKey>);
    let queue = StoredValue::new(Vec::<(u32, u32)>::new());
    let sweeping = RwSignal::new(false);

    let fix = Memo::new(move |_| session.with(|s| s.fix.clone()));
    let cm = Memo::new(move |_| sizing.connections_per_task(fix.get().as_deref()));
    let setting = Memo::new(move |_| {
        session.with(|s| {
            let at = sizing.setting_in(&s.knob_values());
            (at.tasks, at.pool)
        })
    });
    let sweep_state = Sweep {
        session,
        sizing,
        verdicts,
        checker,
        checking,
        queue,
        sweeping,
        fix,
        setting,
    };

    // Each new setting is checked as soon as the learner turns a knob (not on load: the page
    // should not start a search nobody asked for).
    Effect::new(move |first: Option<()>| {
        depend_on(setting);
        depend_on(fix);
        if first.is_some() {
            sweep_state.next();
        }
    });
    // A finished check records its verdict and starts the next.
    Effect::new(move |_| {
        let Some(verdict) = verdict_of(checker.phase.get()) else {
            return;
        };
        if let Some(key) = checking.get_value() {
            verdicts.update(|v| {
                v.insert(key, verdict);
            });
            checking.set_value(None);
            checker.clear();
            sweep_state.next();
        }
    });
    on_cleanup(move || checker.clear());

    let sweep = move |_| {
        // A stack: the engine's order, reversed, pops smallest first.
        let cells = sizing
            .settings()
            .into_iter()
            .rev()
            .map(|s| (s.tasks, s.pool));
        queue.set_value(cells.collect());
        sweeping.set(true);
        sweep_state.next();
    };
    let stop = move |_| {
        queue.set_value(Vec::new());
        sweeping.set(false);
    };

    let summary = move || {
        let (t, p) = setting.get();
        let cm = cm.get();
        rule_summary(t, p, cm)
    };
    let explorer_says = move || {
        let (t, p) = setting.get();
        let verdict = verdicts.with(|v| v.get(&(fix.get(), t, p)).copied());
        explorer_words(verdict, checker.phase.get())
    };
    let y_title = format!("{} (pool size)", pool.label);
    view! {
        <section class="panel pool-sizing" data-testid="pool-sizing">
            <h2>"Pool sizing"</h2>
            <p class="sizing-rule" data-testid="sizing-rule">{summary}</p>
            <p class="sizing-explorer" data-testid="sizing-verdict" data-verdict=move || explorer_says().0>
                {move || explorer_says().1}
            </p>
            {sizing_grid(sweep_state, player, cm)}
            <p class="sizing-legend">
                <span class="swatch starvable"></span>" below the bound  "
                <span class="swatch safe"></span>" at or above it  "
                "✓ no schedule deadlocks  ✗ a schedule deadlocks  — the line is the bound; "
                {y_title}
                " goes up. Click a cell to try that setting."
            </p>
            <Show
                when=move || sweeping.get()
                fallback=move || view! {
                    <button data-testid="sizing-sweep" on:click=sweep>"Check every setting"</button>
                }
            >
                <button data-testid="sizing-stop" on:click=stop>"Stop after this setting"</button>
            </Show>
        </section>
    }
    .into_any()
}

/// The handles the panel's checks share: the verdicts so far, the setting being checked and the
/// sweep's queue of settings still to check.
#[derive(Clone, Copy)]
struct Sweep {
    session: SessionSignal,
    sizing: PoolSizing<'static>,
    verdicts: RwSignal<LiteMap<VerdictKey, Verdict>>,
    checker: Checker,
    checking: StoredValue<Option<VerdictKey>>,
    queue: StoredValue<Vec<(u32, u32)>>,
    sweeping: RwSignal<bool>,
    fix: Memo<Option<String>>,
    setting: Memo<(u32, u32)>,
}

impl Sweep {
    /// Starts the next unchecked setting: the current one first, then the sweep's queue.
    fn next(self) {
        if self.checker.running() {
            return;
        }
        let fix_now = self.fix.get_untracked();
        let known = |cell: (u32, u32)| {
            self.verdicts
                .with_untracked(|v| v.contains_key(&(fix_now.clone(), cell.0, cell.1)))
        };
        let mut cell = Some(self.setting.get_untracked()).filter(|c| !known(*c));
        while cell.is_none() {
            match self.queue.try_update_value(|q| q.pop()).flatten() {
                Some(c) if !known(c) => cell = Some(c),
                Some(_) => {}
                None => break,
            }
        }
        let Some(cell) = cell else {
            self.sweeping.set(false);
            return;
        };
        let at = Setting {
            tasks: cell.0,
            pool: cell.1,
        };
        let scenario = self.session.with_untracked(|s| Scenario {
            lesson: s.lesson.slug.clone(),
            fix: s.fix.clone(),
            knobs: self.sizing.knobs_at(&s.knobs, at),
        });
        self.checking.set_value(Some((fix_now, cell.0, cell.1)));
        self.checker.start(scenario);
    }
}

/// A finished check's verdict; `None` while the check has not finished.
fn verdict_of(phase: CheckPhase) -> Option<Verdict> {
    let verdict = match phase {
        CheckPhase::Done(result) => match result.verdict() {
            "fails" => Verdict::Fails,
            "proven" => Verdict::Proven,
            _ => Verdict::Unknown,
        },
        CheckPhase::Broken(_) => Verdict::Unknown,
        _ => return None,
    };
    Some(verdict)
}

/// The rule worked out for `t` tasks, a pool of `p` and `cm` connections per task.
fn rule_summary(t: u32, p: u32, cm: u32) -> String {
    let bound = PoolSizing::bound(t, cm);
    let rule = if p >= bound {
        format!("{p} ≥ {bound}: the rule says this pool cannot be starved.")
    } else {
        format!("{p} < {bound}: the rule says every connection can be held by a task waiting for another.")
    };
    format!("Tn = {t}, Cm = {cm}: Tn × (Cm − 1) + 1 = {bound}. MaxConns = {rule}")
}

/// What the explorer says about the current setting, as (`data-verdict`, sentence).
fn explorer_words(verdict: Option<Verdict>, phase: CheckPhase) -> (&'static str, String) {
    match (verdict, phase) {
        (Some(Verdict::Fails), _) => (
            "fails",
            "The explorer: a schedule deadlocks at this setting.".to_string(),
        ),
        (Some(Verdict::Proven), _) => (
            "proven",
            "The explorer: no schedule deadlocks at this setting.".to_string(),
        ),
        (Some(Verdict::Unknown), _) => (
            "unknown",
            "The explorer: not decided within its state budget.".to_string(),
        ),
        (None, CheckPhase::Running { states, .. }) => (
            "running",
            format!("The explorer is checking… {states} states"),
        ),
        (None, _) => (
            "idle",
            "The explorer has not checked this setting.".to_string(),
        ),
    }
}

/// The drawing: tasks across, pool size up, one cell per setting; clicking a cell turns both
/// knobs to it.
fn sizing_grid(sweep: Sweep, player: Player, cm: Memo<u32>) -> impl IntoView {
    let Sweep {
        session,
        sizing,
        verdicts,
        fix,
        setting,
        ..
    } = sweep;
    let (tasks, pool) = (sizing.tasks, sizing.pool);
    let cell_size = 34.0;
    let left = 44.0;
    let top = 8.0;
    let columns = tasks.max - tasks.min + 1;
    let rows = pool.max - pool.min + 1;
    let width = left + cell_size * f64::from(columns) + 8.0;
    let height = top + cell_size * f64::from(rows) + 40.0;
    let x_of = move |t: u32| left + cell_size * f64::from(t - tasks.min);
    let y_of = move |p: u32| top + cell_size * f64::from(pool.max - p);
    let cells = move || {
        let cm_now = cm.get();
        let (now_t, now_p) = setting.get();
        let fix_now = fix.get();
        let mut out = Vec::new();
        for t in tasks.min..=tasks.max {
            for p in pool.min..=pool.max {
                let safe = PoolSizing::safe(Setting { tasks: t, pool: p }, cm_now);
                let verdict = verdicts.with(|v| v.get(&(fix_now.clone(), t, p)).copied());
                let (mark, mark_class, words) = mark_of(verdict);
                let class = format!(
                    "cell {}{}",
                    if safe { "safe" } else { "starvable" },
                    if (t, p) == (now_t, now_p) {
                        " current"
                    } else {
                        ""
                    }
                );
                let title = format!(
                    "{t} {} and {} = {p}: the rule says {}; the explorer: {words}",
                    tasks.label.to_lowercase(),
                    pool.label,
                    if safe { "safe" } else { "may starve" }
                );
                let tasks_name = tasks.name.clone();
                let pool_name = pool.name.clone();
                out.push(view! {
                    <g
                        class=class
                        on:click=move |_| {
                            set_knob(session, player, &tasks_name, t);
                            set_knob(session, player, &pool_name, p);
                        }
                    >
                        <title>{title}</title>
                        <rect x=x_of(t) y=y_of(p) width=cell_size - 2.0 height=cell_size - 2.0 rx="3"></rect>
                        <text class=mark_class x=x_of(t) + cell_size / 2.0 - 1.0 y=y_of(p) + cell_size / 2.0 + 4.0 text-anchor="middle">
                            {mark}
                        </text>
                    </g>
                });
            }
        }
        out
    };
    let bound_path = move || staircase(sizing, cm.get(), top, cell_size, x_of);
    let x_labels: Vec<AnyView> = (tasks.min..=tasks.max)
        .map(|t| {
            view! {
                <text class="axis" x=x_of(t) + cell_size / 2.0 y=top + cell_size * f64::from(rows) + 14.0 text-anchor="middle">
                    {t.to_string()}
                </text>
            }
            .into_any()
        })
        .collect();
    let y_labels: Vec<AnyView> = (pool.min..=pool.max)
        .map(|p| {
            view! {
                <text class="axis" x=left - 8.0 y=y_of(p) + cell_size / 2.0 + 4.0 text-anchor="end">
                    {p.to_string()}
                </text>
            }
            .into_any()
        })
        .collect();
    let x_title = format!("{} (Tn)", tasks.label);
    view! {
        <svg
            class="sizing-grid"
            viewBox=format!("0 0 {width} {height}")
            role="img"
            aria-label="Every setting of the two knobs: shaded below the bound, marked ✓ or ✗ once the explorer has checked it"
        >
            {cells}
            <path class="bound" d=bound_path></path>
            {x_labels}
            {y_labels}
            <text class="axis-title" x=left + cell_size * f64::from(columns) / 2.0 y=height - 6.0 text-anchor="middle">
                {x_title}
            </text>
        </svg>
    }
}

/// A cell's mark, the mark's class and the explorer's verdict in words.
fn mark_of(verdict: Option<Verdict>) -> (&'static str, &'static str, &'static str) {
    match verdict {
        Some(Verdict::Fails) => ("✗", "mark fails", "a deadlock is possible"),
        Some(Verdict::Proven) => ("✓", "mark proven", "no schedule deadlocks"),
        Some(Verdict::Unknown) => ("?", "mark unknown", "not decided within the budget"),
        None => ("", "mark", "not checked yet"),
    }
}

/// The bound as a staircase: the lowest safe pool size for each task count, as an SVG path
/// for `cm` connections per task (`x_of` places a task count's column).
fn staircase(
    sizing: PoolSizing<'static>,
    cm: u32,
    top: f64,
    cell_size: f64,
    x_of: impl Fn(u32) -> f64,
) -> String {
    let (tasks, pool) = (sizing.tasks, sizing.pool);
    let mut d = String::new();
    for t in tasks.min..=tasks.max {
        let bound = PoolSizing::bound(t, cm).clamp(pool.min, pool.max + 1);
        // The bottom edge of the lowest safe cell (the top edge when none is safe).
        let y = top + cell_size * (f64::from(pool.max) - f64::from(bound)) + cell_size - 1.0;
        let (x0, x1) = (x_of(t) - 1.0, x_of(t) + cell_size - 1.0);
        if d.is_empty() {
            d.push_str(&format!("M{x0:.0},{y:.0}"));
        } else {
            d.push_str(&format!(" L{x0:.0},{y:.0}"));
        }
        d.push_str(&format!(" L{x1:.0},{y:.0}"));
    }
    d
}
