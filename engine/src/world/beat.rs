//! Steps as a learner takes them. An engine step is one move (often one wire message); a learner
//! clicks a task's lane and expects it to do one thing they would name. So a *beat* is a task's
//! moves up to and including the first that matters to a learner: an event of
//! [`Significance::Learner`], a key moment, or a change of the run's verdict. In protocol view
//! every move is a beat of its own.
//!
//! The page's player and the challenges' search both take moves and beats here, so a schedule of
//! clicks means the same thing in the browser and in `lockstep check`.

use super::{Choice, Event, KeyMoment, Move, Significance, StepError, TaskId, Verdict, World};
use crate::limits::BEAT_MOVES_MAX;

/// One move taken, and what it means for the run.
#[derive(Clone, Debug)]
pub struct Taken {
    /// The move, as a schedule writes it.
    pub mv: Move,
    /// The events it produced.
    pub events: Vec<Event>,
    /// The key moments it brought.
    pub moments: Vec<KeyMoment>,
    /// The run's verdict after it.
    pub verdict: Verdict,
    /// Whether it ends a beat: it did something a learner would name, brought a key moment or
    /// changed the verdict.
    pub significant: bool,
}

impl World {
    /// Takes `choice` as one move of a run. `history` is every event of the run so far and
    /// `verdict_before` its verdict after the last move; `lesson_moments` names the lesson's own
    /// moments between the world before and after (the lesson's listings say what they are).
    pub fn take<'a>(
        &mut self,
        choice: Choice,
        history: impl IntoIterator<Item = &'a Event>,
        verdict_before: &Verdict,
        lesson_moments: impl FnOnce(&World, &World) -> Vec<KeyMoment>,
    ) -> Result<Taken, StepError> {
        let (after, taken) = self.taken(choice, history, verdict_before, lesson_moments)?;
        *self = after;
        Ok(taken)
    }

    /// [`World::take`] leaving this world as it was: the world after the move, and the move.
    /// The page keeps every world of a run, so it takes its moves this way, with one copy of
    /// the world per move.
    pub fn taken<'a>(
        &self,
        choice: Choice,
        history: impl IntoIterator<Item = &'a Event>,
        verdict_before: &Verdict,
        lesson_moments: impl FnOnce(&World, &World) -> Vec<KeyMoment>,
    ) -> Result<(World, Taken), StepError> {
        let mv = self.move_of(choice);
        let mut after = self.clone();
        let events = after.step(choice)?;
        let mut all: Vec<&Event> = history.into_iter().collect();
        all.extend(events.iter());
        let verdict = after.outcome(all).verdict;
        let mut moments = after.key_moments(self, &events, verdict_before, &verdict);
        moments.extend(lesson_moments(self, &after));
        let significant = !moments.is_empty()
            || verdict != *verdict_before
            || events
                .iter()
                .any(|e| e.significance() == Significance::Learner);
        let taken = Taken {
            mv,
            events,
            moments,
            verdict,
            significant,
        };
        Ok((after, taken))
    }

    /// Takes one click: `choice` once and, for a task, its next moves while the beat goes on
    /// ([`World::beat_goes_on`]), at most [`BEAT_MOVES_MAX`] of them. `history` and `verdict`
    /// are the run's so far; every move taken is returned.
    pub fn take_beat(
        &mut self,
        choice: Choice,
        history: &[&Event],
        verdict: &Verdict,
        protocol: bool,
        lesson_moments: impl Fn(&World, &World) -> Vec<KeyMoment>,
    ) -> Result<Vec<Taken>, StepError> {
        let mut taken: Vec<Taken> = Vec::new();
        for _ in 0..BEAT_MOVES_MAX {
            let before = taken.last().map_or(verdict, |t| &t.verdict).clone();
            let so_far = history
                .iter()
                .copied()
                .chain(taken.iter().flat_map(|t| t.events.iter()));
            let next = self.take(choice, so_far, &before, &lesson_moments)?;
            let goes_on = matches!(choice, Choice::Task(task)
                if self.beat_goes_on(task, next.significant, protocol));
            taken.push(next);
            if !goes_on {
                break;
            }
        }
        Ok(taken)
    }

    /// Whether a click on `task`'s lane goes on after its last move (`significant` said whether
    /// that move ended the beat): outside protocol view, while the task can still run.
    pub fn beat_goes_on(&self, task: TaskId, significant: bool, protocol: bool) -> bool {
        !protocol && !significant && self.choices().contains(&Choice::Task(task))
    }
}
