//! The visited set: fingerprint to state index, in one flat open-addressing table.
//!
//! Why not `HashMap<u64, u32>`: the search looks up one random fingerprint per transition, and
//! for large searches each lookup is a cache miss. A `HashMap` probes its control bytes and then
//! its entries (two misses, 17 bytes a bucket); this table keeps fingerprint and index together
//! in a 12-byte slot and probes linearly, so a lookup usually touches one cache line.

/// A slot: the fingerprint split in two words (so the slot packs to 12 bytes) and the state
/// index, [`EMPTY`] when free, with [`FLAG`] set if the search may have more to do there.
#[derive(Clone, Copy, Debug)]
struct Slot {
    fingerprint: [u32; 2],
    index: u32,
}

/// The index of a free slot; state indexes stay below it.
const EMPTY: u32 = u32::MAX;

/// The top bit of a slot's index: set by [`Visited::flag`] (the explorer flags states entered
/// with a non-empty sleep set), so that revisits of unflagged states need not read the state's
/// record (another cache miss).
const FLAG: u32 = 1 << 31;

/// Slots at the start: small searches stay small.
const CAPACITY_MIN: usize = 1 << 10;

/// Tables smaller than this many slots (48 MiB) grow fourfold, larger ones twofold.
const GROW_FAST_BELOW: usize = 1 << 22;

const FREE: Slot = Slot {
    fingerprint: [0, 0],
    index: EMPTY,
};

/// Fingerprint to state index. Never iterated, so its layout cannot leak into the report.
#[derive(Clone, Debug)]
pub(crate) struct Visited {
    slots: Vec<Slot>,
    len: usize,
}

// The most states a table can index: indexes below the flag bit.
const _: () = assert!(crate::limits::VISITED_STATES_MAX == (FLAG - 1) as usize);

/// What a lookup found.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Lookup {
    /// The fingerprint was new and is now recorded at this slot position.
    New(usize),
    /// The fingerprint was recorded before for this state index; `flagged` if [`Visited::flag`]
    /// was called for it.
    Seen { index: u32, flagged: bool },
}

impl Visited {
    pub fn new() -> Visited {
        Visited {
            slots: vec![FREE; CAPACITY_MIN],
            len: 0,
        }
    }

    fn split(fingerprint: u64) -> [u32; 2] {
        [fingerprint as u32, (fingerprint >> 32) as u32]
    }

    /// Looks `fingerprint` up, and records `index` for it if it is new.
    #[inline]
    pub fn get_or_insert(&mut self, fingerprint: u64, index: u32) -> Lookup {
        debug_assert!(index < FLAG);
        // Grow at three quarters full, so that probe runs stay short.
        if (self.len + 1) * 4 > self.slots.len() * 3 {
            self.grow();
        }
        let mask = self.slots.len() - 1;
        let key = Visited::split(fingerprint);
        // The top bits choose the slot; the whole fingerprint is compared.
        let mut position = (fingerprint >> 20) as usize & mask;
        loop {
            let slot = &mut self.slots[position];
            if slot.index == EMPTY {
                *slot = Slot {
                    fingerprint: key,
                    index,
                };
                self.len += 1;
                return Lookup::New(position);
            }
            if slot.fingerprint == key {
                return Lookup::Seen {
                    index: slot.index & !FLAG,
                    flagged: slot.index & FLAG != 0,
                };
            }
            position = (position + 1) & mask;
        }
    }

    /// Flags the state recorded at `position` by the [`Lookup::New`] just returned.
    pub fn flag(&mut self, position: usize) {
        self.slots[position].index |= FLAG;
    }

    /// The state index recorded for `fingerprint`, if any.
    pub fn get(&self, fingerprint: u64) -> Option<u32> {
        let mask = self.slots.len() - 1;
        let key = Visited::split(fingerprint);
        let mut position = (fingerprint >> 20) as usize & mask;
        loop {
            let slot = &self.slots[position];
            if slot.index == EMPTY {
                return None;
            }
            if slot.fingerprint == key {
                return Some(slot.index & !FLAG);
            }
            position = (position + 1) & mask;
        }
    }

    fn grow(&mut self) {
        // Quadruple while small (fewer rehashes, each touching every slot), double when large
        // (less memory left unused).
        let factor = if self.slots.len() < GROW_FAST_BELOW {
            4
        } else {
            2
        };
        let capacity = self.slots.len() * factor;
        let old = std::mem::replace(&mut self.slots, vec![FREE; capacity]);
        let mask = self.slots.len() - 1;
        for slot in old.into_iter().filter(|slot| slot.index != EMPTY) {
            let fingerprint = u64::from(slot.fingerprint[0]) | u64::from(slot.fingerprint[1]) << 32;
            let mut position = (fingerprint >> 20) as usize & mask;
            while self.slots[position].index != EMPTY {
                position = (position + 1) & mask;
            }
            self.slots[position] = slot;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Lookup, Visited};
    use crate::explore::fingerprint::fingerprint;

    #[test]
    fn the_visited_set_finds_every_fingerprint_it_recorded_across_growth() {
        let mut visited = Visited::new();
        for index in 0..100_000u32 {
            let Lookup::New(position) = visited.get_or_insert(fingerprint(&index), index) else {
                panic!("{index} is new");
            };
            if index % 3 == 0 {
                visited.flag(position);
            }
        }
        for index in 0..100_000u32 {
            assert_eq!(visited.get(fingerprint(&index)), Some(index));
            assert_eq!(
                visited.get_or_insert(fingerprint(&index), 7),
                Lookup::Seen {
                    index,
                    flagged: index % 3 == 0
                }
            );
        }
        assert_eq!(visited.get(fingerprint(&100_001u32)), None);
    }
}
