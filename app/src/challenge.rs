//! The open challenge: which one, how many tries, whether the hint or a solution was shown,
//! and whether it is met. The engine says when a goal is met ([`Challenge::met_by_run`],
//! [`Challenge::met_by_proof`]); this keeps the learner's side of it and starts runs from the
//! challenge's setting. Pages provide it; the challenge panels, the controls and the status
//! line read it.

use crate::checker::{CheckPhase, Checker};
use crate::player::{Player, SessionSignal};
use crate::progress;
use crate::session::Session;
use leptos::prelude::*;
use lockstep::lesson::{Challenge, NotMet, TRIES_BEFORE_HINT};
use lockstep::world::Schedule;

/// How the open challenge went, once it is over.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Met {
    /// Met by the learner's schedule of clicks.
    Clicked {
        /// The learner's clicks.
        yours: Schedule,
        /// What the run came to, in a word (deadlock, stalled, failed, anomaly).
        outcome: &'static str,
    },
    /// Met by a check that proved the learner's choice.
    Proven {
        /// What was chosen, in words ("the fix “…”", "MaxConns = 6").
        choice: String,
    },
}

/// The open challenge and the learner's progress in it.
#[derive(Clone, Copy)]
pub struct ChallengeState {
    /// The challenge open, if any.
    pub open: RwSignal<Option<&'static Challenge>>,
    /// Runs that ended, resets and checks that did not meet the goal.
    pub tries: RwSignal<u32>,
    /// Whether the learner asked for the hint.
    pub hint_shown: RwSignal<bool>,
    /// Whether the solution was shown: a goal met by replaying it is not the learner's.
    pub solution_shown: RwSignal<bool>,
    /// How it went, once met.
    pub result: RwSignal<Option<Met>>,
    /// Why the last proof did not meet the goal, in a sentence.
    pub not_met: RwSignal<Option<String>>,
    /// The id of the last step of the last run counted as a try.
    counted: StoredValue<Option<u64>>,
}

impl ChallengeState {
    /// No challenge open.
    pub fn new() -> ChallengeState {
        ChallengeState {
            open: RwSignal::new(None),
            tries: RwSignal::new(0),
            hint_shown: RwSignal::new(false),
            solution_shown: RwSignal::new(false),
            result: RwSignal::new(None),
            not_met: RwSignal::new(None),
            counted: StoredValue::new(None),
        }
    }

    /// Whether the learner is the scheduler now: a scheduling challenge is open and not met.
    pub fn scheduler_only(&self) -> bool {
        self.open
            .with(|c| c.is_some_and(|c| c.kind.is_scheduling()))
            && self.result.with(Option::is_none)
            && !self.solution_shown.get()
    }

    /// Whether a hint can be asked for.
    pub fn hint_ready(&self) -> bool {
        self.tries.get() >= TRIES_BEFORE_HINT
    }

    fn clear(&self) {
        self.tries.set(0);
        self.hint_shown.set(false);
        self.solution_shown.set(false);
        self.result.set(None);
        self.not_met.set(None);
        self.counted.set_value(None);
    }

    /// Counts a try once per run: `last` is the id of the run's last step.
    pub fn count_try(&self, last: Option<u64>) {
        if last.is_some() && self.counted.get_value() != last {
            self.counted.set_value(last);
            self.tries.update(|t| *t += 1);
        }
    }
}

impl Default for ChallengeState {
    fn default() -> ChallengeState {
        ChallengeState::new()
    }
}

/// Opens `challenge`: a fresh run from its fix and knob settings, no tries yet.
pub fn open(
    challenge: &'static Challenge,
    state: ChallengeState,
    session: SessionSignal,
    player: Player,
    checker: Checker,
) {
    player.playing.set(false);
    checker.clear();
    let lesson = session.with_untracked(|s| s.lesson);
    if let Ok(fresh) = Session::with_knobs(lesson, challenge.fix.as_deref(), &challenge.knobs) {
        session.set(fresh);
    }
    state.clear();
    state.open.set(Some(challenge));
}

/// Closes the open challenge; the run stays as it is.
pub fn leave(state: ChallengeState) {
    state.clear();
    state.open.set(None);
}

/// Replays the challenge's solution from the start, for the learner to Play (or step through).
pub fn show_solution(state: ChallengeState, session: SessionSignal, player: Player) {
    let Some(challenge) = state.open.get_untracked() else {
        return;
    };
    state.solution_shown.set(true);
    player.playing.set(false);
    if let Ok(clicks) = challenge.solution.parse::<Schedule>() {
        replay_clicks(&clicks, session, player);
    }
}

/// Loads `clicks` into the run and rewinds it, so that Play shows them one by one.
pub fn replay_clicks(clicks: &Schedule, session: SessionSignal, player: Player) {
    session.update(|s| {
        s.replay_clicks(clicks);
        s.seek(0);
    });
    player.key_paused_in_run.set(true);
    player.playing.set(true);
}

/// Watches the run and the check for the open challenge's goal, records a met challenge in
/// the course progress, and counts tries.
pub fn judge(state: ChallengeState, session: SessionSignal, checker: Checker) {
    // A scheduling goal: the run at the challenge's setting reaches a bug.
    Effect::new(move |_| {
        let Some(challenge) = state.open.get() else {
            return;
        };
        if !challenge.kind.is_scheduling() || state.result.with_untracked(Option::is_some) {
            return;
        }
        let (met, ended, last, clicks, outcome, slug) = session.with(|s| {
            let outcome = s.outcome();
            let met = challenge.met_by_run(
                s.lesson,
                s.fix.as_deref(),
                &s.knob_values(),
                &outcome.verdict,
            );
            (
                met,
                outcome.is_final(),
                s.steps.last().map(|step| step.id),
                s.clicks(),
                outcome.word(),
                s.lesson.slug.clone(),
            )
        });
        if met && !state.solution_shown.get_untracked() {
            progress::mark_solved(&slug, &challenge.id);
            state.result.set(Some(Met::Clicked {
                yours: clicks,
                outcome,
            }));
        } else if ended && !met {
            state.count_try(last);
        }
    });
    // Back at the start after some clicks (Reset, or Back all the way): that was a try.
    Effect::new(move |previous: Option<Option<u64>>| {
        let last = session.with(|s| s.steps.last().map(|step| step.id));
        let scheduling = state
            .open
            .with_untracked(|c| c.is_some_and(|c| c.kind.is_scheduling()));
        if scheduling && last.is_none() && state.result.with_untracked(Option::is_none) {
            if let Some(before) = previous.flatten() {
                state.count_try(Some(before));
            }
        }
        last
    });
    // A goal met by a proof: the check of the learner's choice finds no failing schedule.
    Effect::new(move |_| {
        let phase = checker.phase.get();
        let Some(challenge) = state.open.get_untracked() else {
            return;
        };
        if challenge.kind.is_scheduling() || state.result.with_untracked(Option::is_some) {
            return;
        }
        let CheckPhase::Done(result) = phase else {
            return;
        };
        let (lesson, fix, knobs) =
            session.with_untracked(|s| (s.lesson, s.fix.clone(), s.knob_values()));
        if result.verdict() != "proven" {
            state.not_met.set(None);
            state.tries.update(|t| *t += 1);
            return;
        }
        match challenge.met_by_proof(lesson, fix.as_deref(), &knobs) {
            Ok(()) => {
                state.not_met.set(None);
                progress::mark_solved(&lesson.slug, &challenge.id);
                let choice = match (&challenge.knob, &fix) {
                    (Some(knob), _) => {
                        let label = lesson.knob(knob).map_or(knob.as_str(), |k| &k.label);
                        format!("{label} = {}", knobs.get(knob).copied().unwrap_or_default())
                    }
                    (None, Some(fix)) => {
                        let title = lesson.fix(fix).map_or(fix.as_str(), |f| &f.title);
                        format!("the fix “{title}”")
                    }
                    (None, None) => "these settings".to_string(),
                };
                state.result.set(Some(Met::Proven { choice }));
            }
            Err(why) => {
                state.tries.update(|t| *t += 1);
                state.not_met.set(Some(match why {
                    NotMet::LoadChanged { knob, keep } => format!(
                        "Proven, but with the load changed: the load is not yours to choose. Set {knob} back to {keep}."
                    ),
                    NotMet::OtherFix => {
                        "Proven, but with another fix: this challenge sizes the code as it is."
                            .to_string()
                    }
                    NotMet::NotSmallest => {
                        "Safe, but not the smallest: a smaller value is safe too.".to_string()
                    }
                }));
            }
        }
    });
}
