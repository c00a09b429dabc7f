//! The lesson's schedule, then round-robin.

use super::round_robin::next_after_last;
use super::{enabled, Scheduler};
use crate::world::{Choice, Move, Schedule, World};

/// The lesson's own schedule while the moves taken follow it and its next move is enabled;
/// round-robin ([`super::RoundRobin`]) from the first move that leaves it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LessonPlan<'a> {
    schedule: &'a Schedule,
}

impl<'a> LessonPlan<'a> {
    /// A plan that starts with `schedule`.
    pub fn new(schedule: &'a Schedule) -> LessonPlan<'a> {
        LessonPlan { schedule }
    }

    /// Whether `taken` has followed the schedule so far and the schedule goes on.
    pub fn following(&self, taken: &[Move]) -> bool {
        taken.len() < self.schedule.0.len()
            && taken.iter().zip(&self.schedule.0).all(|(a, b)| a == b)
    }
}

impl Scheduler for LessonPlan<'_> {
    fn next(&mut self, world: &World, taken: &[Move]) -> Option<Choice> {
        let choices = world.choices();
        if choices.is_empty() {
            return None;
        }
        if self.following(taken) {
            if let Some(c) = enabled(world, &choices, &self.schedule.0[taken.len()]) {
                return Some(c);
            }
        }
        next_after_last(world, &choices, taken)
    }
}
