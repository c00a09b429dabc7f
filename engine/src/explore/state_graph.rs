//! What a search records, and its report reads: one [`Record`] per distinct state and one
//! [`Edge`] per explored transition.

/// What the explorer remembers about one distinct state: 16 bytes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Record {
    /// The sleep set the state was entered with (intersected over later visits), as a mask over
    /// the state's choice positions: choices that may still need exploring from here.
    pub sleep: u64,
    /// The shallowest depth at which the state was entered (only used when the depth limit has
    /// been met, to re-expand a state met again closer to the start).
    pub depth: u32,
    /// The failure kind's index plus one (zero for none), and [`TERMINAL`] if the state has no
    /// choices.
    outcome: u32,
}

/// The bit of [`Record::outcome`] that marks a terminal state.
const TERMINAL: u32 = 1 << 31;

impl Record {
    /// The record of a state first entered with `sleep` at `depth`.
    pub(super) fn new(sleep: u64, depth: u32, failure: u32, terminal: bool) -> Record {
        debug_assert!(failure < TERMINAL);
        let terminal = if terminal { TERMINAL } else { 0 };
        Record {
            sleep,
            depth,
            outcome: failure | terminal,
        }
    }

    /// The failure kind's index plus one; zero for none.
    pub fn failure(&self) -> u32 {
        self.outcome & !TERMINAL
    }

    /// No choices: every schedule through here ends here.
    pub fn terminal(&self) -> bool {
        self.outcome & TERMINAL != 0
    }
}

/// One explored transition: `from` stepped with its choice at position `choice` gives `to`.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Edge {
    pub from: u32,
    pub to: u32,
    pub choice: u32,
}
