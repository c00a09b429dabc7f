//! What a task's next beat does, in the few kinds a learner can predict ("what happens if B
//! runs now?"): the page asks at a key moment, offers the kinds the engine finds by trying
//! every task that can run, and checks the answer by playing it.

use super::{BlockReason, TaskId, TaskState, World};

/// The kinds of thing a beat does to the task that takes it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Guess {
    /// It runs on and waits for nothing.
    GoesOn,
    /// It waits for a lock another transaction holds.
    WaitsForLock,
    /// It waits in the pool's queue for a connection.
    WaitsForConnection,
    /// It waits for something else (a reply, the clock, another goroutine).
    Waits,
    /// It ends with an error.
    Fails,
    /// It returns.
    Finishes,
}

impl Guess {
    /// Every kind, in the order the page offers them.
    pub const ALL: [Guess; 6] = [
        Guess::GoesOn,
        Guess::WaitsForLock,
        Guess::WaitsForConnection,
        Guess::Waits,
        Guess::Fails,
        Guess::Finishes,
    ];

    /// What `task` does, in a few words.
    pub fn says(self, task: &str) -> String {
        match self {
            Guess::GoesOn => format!("{task} goes on without waiting"),
            Guess::WaitsForLock => format!("{task} waits for a lock another transaction holds"),
            Guess::WaitsForConnection => format!("{task} waits for a connection from the pool"),
            Guess::Waits => format!("{task} waits"),
            Guess::Fails => format!("{task} fails with an error"),
            Guess::Finishes => format!("{task} finishes"),
        }
    }

    /// What the beat did to `task`, judged on the world after it.
    pub fn of(after: &World, task: TaskId) -> Guess {
        match after.task_state(task) {
            TaskState::Runnable => Guess::GoesOn,
            TaskState::Blocked(BlockReason::Lock { .. }) => Guess::WaitsForLock,
            TaskState::Blocked(BlockReason::PoolSlot { .. }) => Guess::WaitsForConnection,
            TaskState::Blocked(_) => Guess::Waits,
            TaskState::Failed(_) => Guess::Fails,
            TaskState::Finished => Guess::Finishes,
        }
    }
}
