//! The run's history, so that Back is an exact undo without a copy of the run per move: the
//! tester now, the moves taken, and a copy of the tester every so many moves. Back (or any
//! earlier point) is the nearest copy at or before it with the moves after it taken again; the
//! engine is deterministic, so the replay ends in exactly the state the run had.
//!
//! The copies are bounded twice: by count ([`SNAPSHOTS_MAX`]) and by their weight together
//! ([`SNAPSHOT_WEIGHT_BUDGET`]: tuple versions and server events, what makes a copy large). When either is exceeded the interval between copies doubles and every
//! other copy is dropped, so memory stays bounded and Back replays at most one interval.

use lockstep::server::Event;
use lockstep::spec::parse::PermutationEntry;
use lockstep::spec::PermutationRun;

/// One move: a step launched, or the end of the permutation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MoveKind {
    /// A step launched, with the markers of its permutation entry.
    Launch(PermutationEntry),
    /// The end: wait for every step still running, run the sessions' teardown.
    Finish,
}

/// Moves between two kept copies of the run at first: Back replays fewer than this many moves
/// while the run is small.
pub const SNAPSHOT_INTERVAL: usize = 8;

/// The most copies kept besides the start, however small they are.
pub const SNAPSHOTS_MAX: usize = 64;

/// Tuple versions and server events the kept copies (besides the start) may hold together
/// (the copies keep no events between moves, so in practice tuple versions). Each costs
/// around a hundred bytes, so this keeps the copies to a few tens of MB; past it one copy is
/// still kept, however large.
pub const SNAPSHOT_WEIGHT_BUDGET: usize = 400_000;

/// The moves of a run and enough copies of the tester to go back to any of them.
#[derive(Clone, Debug)]
pub struct History {
    /// The tester just after the setup.
    start: PermutationRun,
    /// `(moves taken, tester then)`, in order; every index is a multiple of `interval`.
    snapshots: Vec<(usize, PermutationRun)>,
    /// Moves between two kept copies now.
    interval: usize,
    /// The tester after every move in `moves`.
    current: PermutationRun,
    /// The moves taken, in order.
    moves: Vec<MoveKind>,
}

impl History {
    /// A history with no moves yet; the setup's events are dropped (the page shows the moves').
    pub fn new(mut start: PermutationRun) -> History {
        start.take_events();
        History {
            current: start.clone(),
            start,
            snapshots: Vec::new(),
            interval: SNAPSHOT_INTERVAL,
            moves: Vec::new(),
        }
    }

    /// The tester after the last move.
    pub fn current(&self) -> &PermutationRun {
        &self.current
    }

    /// The moves taken.
    pub fn len(&self) -> usize {
        self.moves.len()
    }

    /// Whether no move was taken.
    pub fn is_empty(&self) -> bool {
        self.moves.is_empty()
    }

    /// Takes a move on the current tester and records it; returns the tester's own result and
    /// the server's events during the move (which the copies do not keep).
    pub fn take(&mut self, kind: MoveKind) -> (Result<(), String>, Vec<Event>) {
        let result = apply(&mut self.current, &kind);
        let events = self.current.take_events();
        self.moves.push(kind);
        if self.moves.len().is_multiple_of(self.interval) {
            self.snapshots
                .push((self.moves.len(), self.current.clone()));
            self.thin();
        }
        (result, events)
    }

    /// Goes back to just after the first `moves` moves, replaying from the nearest copy.
    pub fn truncate(&mut self, moves: usize) {
        if moves >= self.moves.len() {
            return;
        }
        self.moves.truncate(moves);
        self.snapshots.retain(|(at, _)| *at <= moves);
        let (from, mut run) = match self.snapshots.last() {
            Some((at, run)) => (*at, run.clone()),
            None => (0, self.start.clone()),
        };
        for kind in &self.moves[from..] {
            // The result was recorded when the move was first taken; the replay repeats it.
            let _ = apply(&mut run, kind);
            run.take_events();
        }
        self.current = run;
    }

    /// How many copies are kept besides the start, and the moves between two of them.
    pub fn snapshots(&self) -> (usize, usize) {
        (self.snapshots.len(), self.interval)
    }

    /// Tuple versions and server events the kept copies hold together.
    pub fn snapshot_weight(&self) -> usize {
        self.snapshots.iter().map(|(_, run)| weight(run)).sum()
    }

    /// Doubles the interval, dropping every other copy, while the copies are over a bound.
    fn thin(&mut self) {
        while self.snapshots.len() > SNAPSHOTS_MAX
            || (self.snapshots.len() > 1 && self.snapshot_weight() > SNAPSHOT_WEIGHT_BUDGET)
        {
            self.interval *= 2;
            let interval = self.interval;
            self.snapshots.retain(|(at, _)| at.is_multiple_of(interval));
        }
    }
}

/// What one copy of a tester costs: its tuple versions and the server events it keeps.
pub fn weight(run: &PermutationRun) -> usize {
    run.server().tuple_versions() + run.events().len()
}

/// One move on a tester.
fn apply(run: &mut PermutationRun, kind: &MoveKind) -> Result<(), String> {
    match kind {
        MoveKind::Launch(entry) => run.launch(entry.clone()),
        MoveKind::Finish => run.finish(),
    }
}
