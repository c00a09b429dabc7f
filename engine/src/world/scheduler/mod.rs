//! Who moves next. The world says which moves are enabled ([`World::choices`]); a
//! [`Scheduler`] picks one of them, given the moves taken so far. One file per policy:
//!
//! - [`Replay`]: a given schedule, move by move (a shared link, a failing schedule found by
//!   the explorer);
//! - [`RoundRobin`]: the next task after the last one that moved, in task order;
//! - [`LessonPlan`]: the lesson's own schedule while the run follows it, then round-robin
//!   (what Step takes on a lesson page, and what `step=N` in its address counts);
//! - [`Seeded`]: a pseudo-random enabled move from a seed, the same sequence natively and in
//!   the browser (`lockstep run … --seed N`).
//!
//! [`run`] drives a world with any of them.

mod lesson_plan;
mod replay;
mod round_robin;
mod seeded;

pub use lesson_plan::LessonPlan;
pub use replay::Replay;
pub use round_robin::RoundRobin;
pub use seeded::Seeded;

use super::{Choice, Event, Move, Schedule, StepError, World};

/// A policy that picks the next move.
pub trait Scheduler {
    /// The next move among `world`'s enabled choices, given the moves `taken` so far from the
    /// start; `None` when the policy stops (a replay at its end) or nothing can run.
    fn next(&mut self, world: &World, taken: &[Move]) -> Option<Choice>;
}

/// How [`run`] ended.
#[derive(Clone, Debug, PartialEq)]
pub struct Run {
    /// The moves taken.
    pub schedule: Schedule,
    /// Every event, in order.
    pub events: Vec<Event>,
}

/// Takes moves that `scheduler` picks from `world` until it stops, nothing can run, or
/// `steps_max` moves were taken.
pub fn run(
    world: &mut World,
    scheduler: &mut dyn Scheduler,
    steps_max: usize,
) -> Result<Run, StepError> {
    let mut taken = Vec::new();
    let mut events = Vec::new();
    while taken.len() < steps_max {
        let Some(choice) = scheduler.next(world, &taken) else {
            break;
        };
        let mv = world.move_of(choice);
        events.extend(world.step(choice)?);
        taken.push(mv);
    }
    Ok(Run {
        schedule: Schedule(taken),
        events,
    })
}

/// The enabled choice that `mv` names, if any.
fn enabled(world: &World, choices: &[Choice], mv: &Move) -> Option<Choice> {
    let choice = match mv {
        Move::Tick => Some(Choice::Tick),
        Move::Task(name) => world.task_named(name).map(Choice::Task),
    };
    choice.filter(|c| choices.contains(c))
}

#[cfg(test)]
mod tests;
