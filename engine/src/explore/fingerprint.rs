//! State fingerprints: 64-bit hashes that stand for whole states in the visited set.
//!
//! The hasher has fixed keys, so fingerprints are the same on every run (never `RandomState`),
//! and it hashes `usize` as 64 bits, so they are the same on 32-bit WebAssembly as natively. Two
//! distinct states could share a fingerprint; with 64 well-mixed bits and at most
//! [`STATES_MAX_DEFAULT`](super::STATES_MAX_DEFAULT) states the chance is below one in ten
//! million per search, the trade every explicit-state model checker makes (stateright hashes
//! states to 64 bits the same way). Fingerprints never reach the report: they only decide
//! "seen before?".
//!
//! Why not `DefaultHasher` (SipHash-1-3): it is built to resist chosen inputs, which states are
//! not, and costs a few times more per state than the multiply-fold mixing below (the same
//! construction as aHash's and foldhash's portable fallbacks). Hashing is a large share of the
//! explorer's time per state.

use std::hash::{Hash, Hasher};

/// The fingerprint of a state.
pub fn fingerprint<T: Hash>(value: &T) -> u64 {
    let mut hasher = Fingerprinter::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// Multiplier for each word (the 64-bit golden ratio, odd).
const MULTIPLIER: u64 = 0x9E37_79B9_7F4A_7C15;
/// Fixed seed: any constant will do, as long as it never changes between runs.
const SEED: u64 = 0x243F_6A88_85A3_08D3;
/// Second multiplier for the final avalanche.
const FINISH: u64 = 0xD6E8_FEB8_6659_FD93;

/// The full 128-bit product of two words, folded to 64 bits: every input bit reaches many
/// output bits, in one multiplication.
#[inline(always)]
const fn folded_multiply(a: u64, b: u64) -> u64 {
    let product = (a as u128).wrapping_mul(b as u128);
    (product as u64) ^ ((product >> 64) as u64)
}

/// A fast, fixed-key hasher for fingerprints.
#[derive(Clone, Copy, Debug)]
pub struct Fingerprinter {
    state: u64,
}

impl Fingerprinter {
    /// A hasher with the fixed seed.
    pub const fn new() -> Fingerprinter {
        Fingerprinter { state: SEED }
    }

    #[inline(always)]
    fn mix(&mut self, word: u64) {
        self.state = folded_multiply(self.state ^ word, MULTIPLIER);
    }
}

impl Default for Fingerprinter {
    fn default() -> Fingerprinter {
        Fingerprinter::new()
    }
}

impl Hasher for Fingerprinter {
    #[inline]
    fn finish(&self) -> u64 {
        folded_multiply(self.state, FINISH).rotate_left(23) ^ self.state
    }

    #[inline]
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.mix(u64::from_le_bytes(word));
        }
        let tail = chunks.remainder();
        if !tail.is_empty() {
            // The tail's length goes into the top byte so that "ab" and "ab\0" differ.
            let mut word = [0u8; 8];
            word[..tail.len()].copy_from_slice(tail);
            self.mix(u64::from_le_bytes(word) ^ ((tail.len() as u64) << 56));
        }
    }

    #[inline]
    fn write_u8(&mut self, value: u8) {
        self.mix(u64::from(value));
    }

    #[inline]
    fn write_u16(&mut self, value: u16) {
        self.mix(u64::from(value));
    }

    #[inline]
    fn write_u32(&mut self, value: u32) {
        self.mix(u64::from(value));
    }

    #[inline]
    fn write_u64(&mut self, value: u64) {
        self.mix(value);
    }

    #[inline]
    fn write_u128(&mut self, value: u128) {
        self.mix(value as u64);
        self.mix((value >> 64) as u64);
    }

    #[inline]
    fn write_usize(&mut self, value: usize) {
        // As 64 bits everywhere, so that wasm32 and native agree.
        self.mix(value as u64);
    }
}

#[cfg(test)]
mod tests {
    use super::fingerprint;

    const FINGERPRINT_PINNED: u64 = 4_040_067_136_004_631_371;

    #[test]
    fn a_fingerprint_is_the_same_on_every_run_and_platform() {
        // Pinned: a change here means the hasher is no longer fixed-key, or hashes differently.
        assert_eq!(fingerprint(&(1u8, 2u32)), FINGERPRINT_PINNED);
        assert_eq!(fingerprint(&vec![1u8, 2]), fingerprint(&vec![1u8, 2]));
    }

    #[test]
    fn fingerprints_tell_apart_values_that_differ_in_order_length_or_one_bit() {
        assert_ne!(fingerprint(&(1u8, 2u32)), fingerprint(&(2u8, 1u32)));
        assert_ne!(fingerprint(&vec![0u8; 3]), fingerprint(&vec![0u8; 4]));
        assert_ne!(fingerprint(&"ab"), fingerprint(&"ab\0"));
        assert_ne!(fingerprint(&[0u64, 0]), fingerprint(&[0u64, 1]));
    }

    #[test]
    fn a_million_small_states_get_a_million_fingerprints() {
        let mut seen = std::collections::HashSet::new();
        for a in 0..100u16 {
            for b in 0..100u8 {
                for c in 0..100u8 {
                    assert!(seen.insert(fingerprint(&(a, [b, c], c % 7))));
                }
            }
        }
    }
}
