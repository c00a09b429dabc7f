//! Each task in turn.

use super::Scheduler;
use crate::world::{Choice, Move, World};

/// The first enabled task after the last task that moved (in task order, wrapping round);
/// the first enabled choice when no task has moved yet, or when only the clock can move.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RoundRobin;

impl Scheduler for RoundRobin {
    fn next(&mut self, world: &World, taken: &[Move]) -> Option<Choice> {
        next_after_last(world, &world.choices(), taken)
    }
}

/// Round-robin over `choices` (the world's enabled ones).
pub(super) fn next_after_last(world: &World, choices: &[Choice], taken: &[Move]) -> Option<Choice> {
    let last = taken.iter().rev().find_map(|mv| match mv {
        Move::Task(name) => world.task_named(name),
        Move::Tick => None,
    });
    let after_last = choices.iter().copied().find(|c| match (c, last) {
        (Choice::Task(t), Some(l)) => *t > l,
        _ => false,
    });
    after_last.or_else(|| choices.first().copied())
}
