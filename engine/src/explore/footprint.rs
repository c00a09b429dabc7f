//! Footprints: what one step reads and writes, a cheap and conservative way to answer
//! [`Model::independent`](super::Model::independent).

/// The resources one step reads and writes, folded into 64 slots. Two steps whose footprints do
/// not [conflict](Footprint::conflicts) commute, provided each step's *enabledness* also depends
/// only on what it reads (a lock acquire reads and writes the lock it waits for).
///
/// Resources are numbered by the model (a row, a table, a pool, a connection); numbers are
/// folded modulo 64, and two resources sharing a slot only make steps look dependent more often,
/// which costs reduction, never soundness.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Footprint {
    reads: u64,
    writes: u64,
}

impl Footprint {
    /// A step that touches nothing shared (e.g. local computation).
    pub const NONE: Footprint = Footprint {
        reads: 0,
        writes: 0,
    };

    /// A step that touches everything: dependent on every other step.
    pub const ALL: Footprint = Footprint {
        reads: u64::MAX,
        writes: u64::MAX,
    };

    /// This footprint, also reading `resource`.
    #[must_use]
    pub const fn read(self, resource: u64) -> Footprint {
        Footprint {
            reads: self.reads | slot(resource),
            writes: self.writes,
        }
    }

    /// This footprint, also writing `resource` (a write implies a read).
    #[must_use]
    pub const fn write(self, resource: u64) -> Footprint {
        Footprint {
            reads: self.reads | slot(resource),
            writes: self.writes | slot(resource),
        }
    }

    /// Everything either footprint touches: e.g. the sum of a program's remaining steps, to
    /// decide [`Model::local`](super::Model::local).
    #[must_use]
    pub const fn union(self, other: Footprint) -> Footprint {
        Footprint {
            reads: self.reads | other.reads,
            writes: self.writes | other.writes,
        }
    }

    /// Whether the two steps may not commute: one writes what the other touches.
    pub const fn conflicts(&self, other: &Footprint) -> bool {
        self.writes & (other.reads | other.writes) != 0 || other.writes & self.reads != 0
    }
}

const fn slot(resource: u64) -> u64 {
    1 << (resource % 64)
}

#[cfg(test)]
mod tests {
    use super::Footprint;

    #[test]
    fn two_reads_of_one_resource_do_not_conflict() {
        let a = Footprint::NONE.read(3);
        assert!(!a.conflicts(&Footprint::NONE.read(3)));
    }

    #[test]
    fn a_write_conflicts_with_a_read_or_write_of_the_same_resource_only() {
        let write = Footprint::NONE.write(3);
        assert!(write.conflicts(&Footprint::NONE.read(3)));
        assert!(Footprint::NONE.read(3).conflicts(&write));
        assert!(write.conflicts(&Footprint::NONE.write(3)));
        assert!(!write.conflicts(&Footprint::NONE.write(4).read(5)));
    }

    #[test]
    fn a_union_conflicts_with_whatever_either_part_conflicts_with() {
        let future = Footprint::NONE.read(1).union(Footprint::NONE.write(2));
        assert!(future.conflicts(&Footprint::NONE.write(1)));
        assert!(future.conflicts(&Footprint::NONE.read(2)));
        assert!(!future.conflicts(&Footprint::NONE.read(1)));
    }

    #[test]
    fn resources_sharing_a_slot_conflict_which_is_conservative() {
        assert!(Footprint::NONE
            .write(1)
            .conflicts(&Footprint::NONE.read(65)));
    }
}
