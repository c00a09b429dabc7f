//! "Run every permutation" in slices: the engine's [`WholeRun`] takes one piece at a time (a
//! permutation's setup, one step, its end), and each animation frame takes pieces for at most
//! [`FRAME_BUDGET_MS`], so a spec with many heavy permutations never holds the tab; the panel
//! shows how far it came and can cancel it.

use leptos::prelude::*;
use lockstep::spec::parse::Spec;
use lockstep::spec::{RunOptions, WholeRun};
use std::sync::Arc;

/// The most permutations "every permutation" runs at once: past it the output is too long to
/// read anyway, and `lockstep spec` on the command line has no limit.
pub const WHOLE_PERMUTATIONS_MAX: usize = 1_000;

/// Milliseconds of running per animation frame, leaving the rest of a 60 Hz frame to the page.
/// A single piece (one step) can take longer; the frame then ends after it.
pub const FRAME_BUDGET_MS: f64 = 12.0;

/// Where the whole run stands; each phase carries the spec text it belongs to, so a new spec
/// hides an old result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum WholePhase {
    /// Not started.
    Idle,
    /// Running: permutations ended so far, of how many.
    Running {
        text: String,
        done: usize,
        total: usize,
    },
    /// Cancelled after this many permutations.
    Cancelled {
        text: String,
        done: usize,
        total: usize,
    },
    /// Ended: the output, or why there is none.
    Done {
        text: String,
        result: Result<String, String>,
    },
}

impl WholePhase {
    /// The spec text the phase belongs to.
    pub fn text(&self) -> Option<&str> {
        match self {
            WholePhase::Idle => None,
            WholePhase::Running { text, .. }
            | WholePhase::Cancelled { text, .. }
            | WholePhase::Done { text, .. } => Some(text),
        }
    }
}

/// The whole run between frames.
#[derive(Clone, Copy)]
pub struct WholeRunner {
    /// Where it stands.
    pub phase: RwSignal<WholePhase>,
    run: StoredValue<Option<WholeRun>, LocalStorage>,
    /// Bumped by every start and cancel, so a frame of an older run does nothing.
    generation: StoredValue<u64>,
}

impl WholeRunner {
    /// An idle runner.
    pub fn new() -> WholeRunner {
        WholeRunner {
            phase: RwSignal::new(WholePhase::Idle),
            run: StoredValue::new_local(None),
            generation: StoredValue::new(0),
        }
    }

    /// Starts running every permutation of `spec` (its text is `text`), cancelling any run.
    pub fn start(self, text: String, spec: &Arc<Spec>, permutations: Result<usize, String>) {
        self.generation.update_value(|g| *g += 1);
        self.run.set_value(None);
        let total = match permutations {
            Ok(n) if n > WHOLE_PERMUTATIONS_MAX => Err(format!(
                "{n} permutations; the limit for one run here is {WHOLE_PERMUTATIONS_MAX} (the `lockstep spec` command has none)"
            )),
            Ok(n) => Ok(n),
            Err(e) => Err(e),
        };
        let started = total.and_then(|total| {
            WholeRun::start(Arc::clone(spec), RunOptions::default()).map(|run| (run, total))
        });
        match started {
            Err(e) => self.phase.set(WholePhase::Done {
                text,
                result: Err(e),
            }),
            Ok((run, total)) => {
                self.run.set_value(Some(run));
                self.phase.set(WholePhase::Running {
                    text,
                    done: 0,
                    total,
                });
                let generation = self.generation.get_value();
                request_animation_frame(move || self.frame(generation));
            }
        }
    }

    /// Stops the run, keeping how far it came.
    pub fn cancel(self) {
        self.generation.update_value(|g| *g += 1);
        self.run.set_value(None);
        if let WholePhase::Running { text, done, total } = self.phase.get_untracked() {
            self.phase.set(WholePhase::Cancelled { text, done, total });
        }
    }

    /// One frame's worth of pieces, then the next frame, until the run ends.
    fn frame(self, generation: u64) {
        if self.generation.get_value() != generation {
            return;
        }
        let deadline = js_sys::Date::now() + FRAME_BUDGET_MS;
        let step = self.run.try_update_value(|run| {
            let run = run.as_mut()?;
            loop {
                match run.advance() {
                    Ok(true) if js_sys::Date::now() < deadline => {}
                    Ok(true) => return Some((run.permutations_done(), None)),
                    Ok(false) => {
                        return Some((run.permutations_done(), Some(Ok(run.output().to_string()))))
                    }
                    Err(e) => return Some((run.permutations_done(), Some(Err(e)))),
                }
            }
        });
        let Some(Some((done, ended))) = step else {
            return;
        };
        let WholePhase::Running { text, total, .. } = self.phase.get_untracked() else {
            return;
        };
        match ended {
            None => {
                self.phase.set(WholePhase::Running { text, done, total });
                request_animation_frame(move || self.frame(generation));
            }
            Some(result) => {
                self.run.set_value(None);
                self.phase.set(WholePhase::Done { text, result });
            }
        }
    }
}

impl Default for WholeRunner {
    fn default() -> WholeRunner {
        WholeRunner::new()
    }
}
