//! Analyses of a lesson that run many worlds and answer a question about all of them, for the
//! page to draw: how big a pool must be ([`pool_sizing`]), and whether a challenge can be met
//! ([`challenges`]).

pub mod challenges;
pub mod pool_sizing;
