//! A given schedule, move by move.

use super::{enabled, Scheduler};
use crate::world::{Choice, Move, Schedule, World};

/// Takes the schedule's moves in order; stops at its end or at a move that is not enabled.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Replay {
    schedule: Schedule,
}

impl Replay {
    /// A replay of `schedule`.
    pub fn new(schedule: Schedule) -> Replay {
        Replay { schedule }
    }
}

impl Scheduler for Replay {
    fn next(&mut self, world: &World, taken: &[Move]) -> Option<Choice> {
        let mv = self.schedule.0.get(taken.len())?;
        enabled(world, &world.choices(), mv)
    }
}
