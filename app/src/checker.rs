//! The background explorer: "check every schedule" of a world in slices, one batch per
//! animation frame, so the tab never freezes. The check panel and the pool-sizing sweep each
//! hold one; the keyboard starts and cancels the lesson's.

use leptos::prelude::*;
use lockstep::explore::world::schedule_text;
use lockstep::explore::{
    Explorer, Limits, Stop, DEPTH_MAX_DEFAULT, SLICE_STEPS_DEFAULT, STATES_MAX_DEFAULT,
};
use lockstep::world::World;

/// The most distinct states one check may record in the browser: the same bound as
/// `lockstep check`, so the page and the command line give the same verdicts. The explorer's
/// bookkeeping for this many stays within a few tens of MB.
pub const CHECK_STATES_MAX: usize = STATES_MAX_DEFAULT;

/// Milliseconds of exploring per animation frame, leaving the rest of a 60 Hz frame to the page.
const FRAME_BUDGET_MS: f64 = 10.0;

/// One failure kind the check found.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FoundFailure {
    /// What goes wrong, in words.
    pub kind: String,
    /// The shortest schedule that reaches it, as task names.
    pub schedule: String,
    /// Its length in steps.
    pub steps: usize,
}

/// How a finished check came out.
#[derive(Clone, Debug, PartialEq)]
pub struct CheckResult {
    /// Distinct states explored.
    pub states: usize,
    /// Whether every schedule was explored.
    pub complete: bool,
    /// Why the search stopped early, when it did.
    pub stop: Option<Stop>,
    /// Each failure kind, shortest schedule first.
    pub failures: Vec<FoundFailure>,
    /// Whether some schedule never ends (a task can loop forever): no proof then.
    pub never_ends: bool,
    /// End states that fail, and all end states.
    pub ends_failing: usize,
    /// All end states.
    pub ends: usize,
    /// Wall-clock time, for the user's curiosity only.
    pub millis: f64,
}

impl CheckResult {
    /// `fails`, `proven`, `never-ends` or `incomplete`: the word tests and styles key on.
    pub fn verdict(&self) -> &'static str {
        if !self.failures.is_empty() {
            "fails"
        } else if self.complete && self.never_ends {
            "never-ends"
        } else if self.complete {
            "proven"
        } else {
            "incomplete"
        }
    }
}

/// Where the check stands.
#[derive(Clone, Debug, PartialEq)]
pub enum CheckPhase {
    /// Not started (or the scenario changed since).
    Idle,
    /// Exploring.
    Running {
        /// Distinct states so far.
        states: usize,
        /// Steps taken so far.
        transitions: u64,
        /// Failure kinds found so far.
        failures: usize,
    },
    /// Cancelled by the user after this many states.
    Cancelled { states: usize },
    /// Done.
    Done(CheckResult),
}

/// The check's state, provided by context so the keyboard can start and cancel it.
#[derive(Clone, Copy)]
pub struct Checker {
    /// Where it stands.
    pub phase: RwSignal<CheckPhase>,
    /// The explorer between frames; dropped when the check ends.
    explorer: StoredValue<Option<Explorer<World>>, LocalStorage>,
    /// The start world explored, to name the failing schedule's tasks.
    root: StoredValue<Option<World>, LocalStorage>,
    /// Bumped by every start and cancel, so a frame of an older check does nothing.
    generation: StoredValue<u64>,
    /// When the current check started (ms since the epoch).
    started: StoredValue<f64>,
    /// End the search at the first failure found (the question is only whether one exists).
    first_failure: bool,
    /// The most distinct states one check may record.
    states_max: usize,
}

impl Checker {
    /// An idle checker.
    pub fn new() -> Checker {
        Checker {
            phase: RwSignal::new(CheckPhase::Idle),
            explorer: StoredValue::new_local(None),
            root: StoredValue::new_local(None),
            generation: StoredValue::new(0),
            started: StoredValue::new(0.0),
            first_failure: false,
            states_max: CHECK_STATES_MAX,
        }
    }

    /// A checker that only asks whether some schedule fails: it stops at the first failure, and
    /// at `states_max` distinct states.
    pub fn until_first_failure(states_max: usize) -> Checker {
        Checker {
            first_failure: true,
            states_max,
            ..Checker::new()
        }
    }

    /// Whether a check is running.
    pub fn running(&self) -> bool {
        matches!(self.phase.get_untracked(), CheckPhase::Running { .. })
    }

    /// Starts checking every schedule of `world`, cancelling any check in progress.
    pub fn start(self, world: World) {
        let limits = Limits {
            states_max: self.states_max,
            depth_max: DEPTH_MAX_DEFAULT,
            slice_steps: SLICE_STEPS_DEFAULT,
        };
        self.generation.update_value(|g| *g += 1);
        let generation = self.generation.get_value();
        self.explorer
            .set_value(Some(Explorer::new(world.clone(), limits)));
        self.root.set_value(Some(world));
        self.started.set_value(js_sys::Date::now());
        self.phase.set(CheckPhase::Running {
            states: 0,
            transitions: 0,
            failures: 0,
        });
        request_animation_frame(move || self.frame(generation));
    }

    /// Stops a running check, keeping how far it came.
    pub fn cancel(self) {
        if let CheckPhase::Running { states, .. } = self.phase.get_untracked() {
            self.phase.set(CheckPhase::Cancelled { states });
        }
        self.drop_search();
    }

    /// Forgets any result: the scenario it was about has changed.
    pub fn clear(self) {
        self.drop_search();
        if self.phase.get_untracked() != CheckPhase::Idle {
            self.phase.set(CheckPhase::Idle);
        }
    }

    /// Drops the search in progress without touching the phase (the page is going away).
    pub fn drop_search(self) {
        self.generation.update_value(|g| *g += 1);
        self.explorer.set_value(None);
        self.root.set_value(None);
    }

    /// One frame's worth of exploring, then the next frame, until the search ends.
    fn frame(self, generation: u64) {
        if self.generation.get_value() != generation {
            return;
        }
        let deadline = js_sys::Date::now() + FRAME_BUDGET_MS;
        let progress = self.explorer.try_update_value(|explorer| {
            let explorer = explorer.as_mut()?;
            loop {
                let mut progress = explorer.run_slice(SLICE_STEPS_DEFAULT);
                if self.first_failure && progress.failures > 0 {
                    progress.finished = true;
                }
                if progress.finished || js_sys::Date::now() >= deadline {
                    return Some(progress);
                }
            }
        });
        let Some(Some(progress)) = progress else {
            return;
        };
        if !progress.finished {
            self.phase.set(CheckPhase::Running {
                states: progress.states_unique,
                transitions: progress.transitions,
                failures: progress.failures,
            });
            request_animation_frame(move || self.frame(generation));
            return;
        }
        let millis = js_sys::Date::now() - self.started.get_value();
        let result = self.explorer.with_value(|explorer| {
            self.root.with_value(|root| {
                let (explorer, root) = (explorer.as_ref()?, root.as_ref()?);
                let report = explorer.report();
                let mut failures: Vec<FoundFailure> = report
                    .failures
                    .iter()
                    .map(|found| FoundFailure {
                        kind: found.failure.to_string(),
                        schedule: schedule_text(root, &found.schedule),
                        steps: found.schedule.len(),
                    })
                    .collect();
                failures.sort_by_key(|f| f.steps);
                Some(CheckResult {
                    states: report.states_unique,
                    complete: report.complete,
                    stop: report.stop,
                    never_ends: report.never_ends(),
                    failures,
                    ends_failing: report.terminal_states.failing,
                    ends: report.terminal_states.failing + report.terminal_states.succeeding,
                    millis,
                })
            })
        });
        self.drop_search();
        if let Some(result) = result {
            self.phase.set(CheckPhase::Done(result));
        }
    }
}

impl Default for Checker {
    fn default() -> Checker {
        Checker::new()
    }
}

/// A count with thousands separators, as people read it.
pub fn thousands(n: impl ToString) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}
