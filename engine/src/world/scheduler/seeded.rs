//! A pseudo-random enabled move from a seed.

use super::Scheduler;
use crate::world::rng::SplitMix64;
use crate::world::{Choice, Move, World};

/// Picks uniformly among the enabled choices with splitmix64 ([`SplitMix64`]): integer
/// arithmetic only, so a seed gives the same schedule natively and in WASM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Seeded {
    rng: SplitMix64,
}

impl Seeded {
    /// The schedule this seed picks.
    pub fn new(seed: u64) -> Seeded {
        Seeded {
            rng: SplitMix64::new(seed),
        }
    }
}

impl Scheduler for Seeded {
    fn next(&mut self, world: &World, _taken: &[Move]) -> Option<Choice> {
        let choices = world.choices();
        if choices.is_empty() {
            return None;
        }
        Some(choices[self.rng.below(choices.len())])
    }
}
