//! The heavyweight lock manager: lock tags, the eight lock modes and their conflict table,
//! holders and FIFO wait queues with PostgreSQL's queue-jumping and wake-up rules
//! (`LockAcquire`, `JoinWaitQueue`, `ProcLockWakeup` in `lock.c`/`proc.c`).
//!
//! Row locks are not kept here: like PostgreSQL, they live in the tuples' xmax (see
//! [`super::storage`]). What lives here are table locks, the per-tuple locks that order row-lock
//! waiters, transaction-id locks (what a row-lock waiter actually sleeps on) and advisory locks.

use super::{Pid, Xid, DATABASE_OID};
use crate::sql::TableLockMode;
use litemap::LiteMap;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::fmt;

/// A heavyweight lock mode. The eight modes are the table-lock modes; transaction, tuple and
/// advisory locks use the same modes.
pub type LockMode = TableLockMode;

/// Every lock mode, weakest first.
pub const ALL_MODES: [LockMode; 8] = [
    LockMode::AccessShare,
    LockMode::RowShare,
    LockMode::RowExclusive,
    LockMode::ShareUpdateExclusive,
    LockMode::Share,
    LockMode::ShareRowExclusive,
    LockMode::Exclusive,
    LockMode::AccessExclusive,
];

/// A set of lock modes as a bit mask (bit `mode as u8`).
pub type ModeMask = u16;

/// The bit of one mode.
pub fn bit(mode: LockMode) -> ModeMask {
    1 << (mode as u8)
}

/// The modes that conflict with `mode` (PostgreSQL's `LockConflicts` table, "Table 13.2
/// Conflicting Lock Modes").
pub fn conflict_mask(mode: LockMode) -> ModeMask {
    use TableLockMode::*;
    let list: &[LockMode] = match mode {
        AccessShare => &[AccessExclusive],
        RowShare => &[Exclusive, AccessExclusive],
        RowExclusive => &[Share, ShareRowExclusive, Exclusive, AccessExclusive],
        ShareUpdateExclusive => &[
            ShareUpdateExclusive,
            Share,
            ShareRowExclusive,
            Exclusive,
            AccessExclusive,
        ],
        Share => &[
            RowExclusive,
            ShareUpdateExclusive,
            ShareRowExclusive,
            Exclusive,
            AccessExclusive,
        ],
        ShareRowExclusive => &[
            RowExclusive,
            ShareUpdateExclusive,
            Share,
            ShareRowExclusive,
            Exclusive,
            AccessExclusive,
        ],
        Exclusive => &[
            RowShare,
            RowExclusive,
            ShareUpdateExclusive,
            Share,
            ShareRowExclusive,
            Exclusive,
            AccessExclusive,
        ],
        AccessExclusive => &ALL_MODES,
    };
    list.iter().fold(0, |m, x| m | bit(*x))
}

/// True when a request for `requested` conflicts with `held`.
pub fn conflicts(requested: LockMode, held: LockMode) -> bool {
    conflict_mask(requested) & bit(held) != 0
}

/// The mode's name as PostgreSQL prints it (`GetLockmodeName`): `ShareLock`, `AccessExclusiveLock`.
pub fn mode_name(mode: LockMode) -> &'static str {
    match mode {
        LockMode::AccessShare => "AccessShareLock",
        LockMode::RowShare => "RowShareLock",
        LockMode::RowExclusive => "RowExclusiveLock",
        LockMode::ShareUpdateExclusive => "ShareUpdateExclusiveLock",
        LockMode::Share => "ShareLock",
        LockMode::ShareRowExclusive => "ShareRowExclusiveLock",
        LockMode::Exclusive => "ExclusiveLock",
        LockMode::AccessExclusive => "AccessExclusiveLock",
    }
}

/// What a heavyweight lock protects (PostgreSQL's `LOCKTAG`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum LockTag {
    /// A table, by OID.
    Relation {
        /// The table's OID.
        rel: u32,
    },
    /// One tuple slot of a table: orders the waiters for a row lock.
    Tuple {
        /// The table's OID.
        rel: u32,
        /// Heap block.
        block: u32,
        /// Line pointer within the block (1-based).
        offset: u16,
    },
    /// A transaction id: its owner holds it in ExclusiveLock until it ends.
    Transaction(Xid),
    /// An advisory lock on a bigint key.
    Advisory {
        /// The key.
        key: i64,
    },
}

impl LockTag {
    /// The lock type's name, as `pg_locks.locktype` shows it (and `pg_stat_activity.wait_event`
    /// while a backend waits for a lock of that type).
    pub fn type_name(&self) -> &'static str {
        match self {
            LockTag::Relation { .. } => "relation",
            LockTag::Tuple { .. } => "tuple",
            LockTag::Transaction(_) => "transactionid",
            LockTag::Advisory { .. } => "advisory",
        }
    }
}

impl fmt::Display for LockTag {
    /// The text of `DescribeLockTag` in `lmgr.c`, as used in deadlock DETAIL lines.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LockTag::Relation { rel } => {
                write!(f, "relation {rel} of database {DATABASE_OID}")
            }
            LockTag::Tuple { rel, block, offset } => write!(
                f,
                "tuple ({block},{offset}) of relation {rel} of database {DATABASE_OID}"
            ),
            LockTag::Transaction(xid) => write!(f, "transaction {xid}"),
            LockTag::Advisory { key } => {
                let k = *key as u64;
                write!(
                    f,
                    "advisory lock [{DATABASE_OID},{},{},1]",
                    k >> 32,
                    k & 0xffff_ffff
                )
            }
        }
    }
}

/// Who a held lock belongs to, which decides when it is released.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Owner {
    /// Held until the session ends or unlocks it (session-level advisory locks).
    Session,
    /// Held by the transaction at this subtransaction depth (0 = top level); released at its
    /// end, or when that subtransaction is rolled back.
    Xact(u32),
}

/// One granted hold: a mode, its owner and how many times it was taken.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Hold {
    /// The mode held.
    pub mode: LockMode,
    /// Who owns it.
    pub owner: Owner,
    /// How many times it was acquired (advisory locks count).
    pub count: u32,
}

/// One backend's holds on one lock (PostgreSQL's `PROCLOCK`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ProcLock {
    /// The backend.
    pub pid: Pid,
    /// What it holds.
    pub holds: Vec<Hold>,
}

impl ProcLock {
    fn mask(&self) -> ModeMask {
        self.holds.iter().fold(0, |m, h| m | bit(h.mode))
    }
}

/// A backend waiting in a lock's queue.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Waiter {
    /// The backend.
    pub pid: Pid,
    /// The mode it asked for.
    pub mode: LockMode,
    /// Who will own the lock once granted.
    pub owner: Owner,
}

/// One lockable object's state.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Lock {
    /// Backends holding (or waiting for) the lock, in the order they first asked for it;
    /// deadlock search visits hard blockers in this order, as PostgreSQL walks `procLocks`.
    pub procs: Vec<ProcLock>,
    /// The wait queue, first come first served except for PostgreSQL's queue-jumping rule.
    pub queue: VecDeque<Waiter>,
}

impl Lock {
    /// Modes held by `pid`.
    pub fn held_by(&self, pid: Pid) -> ModeMask {
        self.procs
            .iter()
            .find(|p| p.pid == pid)
            .map_or(0, ProcLock::mask)
    }

    /// Modes held by everyone except `pid`.
    pub fn held_by_others(&self, pid: Pid) -> ModeMask {
        self.procs
            .iter()
            .filter(|p| p.pid != pid)
            .fold(0, |m, p| m | p.mask())
    }

    /// Modes requested by the waiters.
    pub fn wait_mask(&self) -> ModeMask {
        self.queue.iter().fold(0, |m, w| m | bit(w.mode))
    }

    fn grant(&mut self, pid: Pid, mode: LockMode, owner: Owner) {
        let idx = match self.procs.iter().position(|p| p.pid == pid) {
            Some(i) => i,
            None => {
                self.procs.push(ProcLock {
                    pid,
                    holds: Vec::new(),
                });
                self.procs.len() - 1
            }
        };
        let pl = &mut self.procs[idx];
        match pl
            .holds
            .iter_mut()
            .find(|h| h.mode == mode && h.owner == owner)
        {
            Some(h) => h.count += 1,
            None => pl.holds.push(Hold {
                mode,
                owner,
                count: 1,
            }),
        }
    }

    fn ensure_proc(&mut self, pid: Pid) {
        if !self.procs.iter().any(|p| p.pid == pid) {
            self.procs.push(ProcLock {
                pid,
                holds: Vec::new(),
            });
        }
    }

    fn tidy(&mut self) {
        let queue = &self.queue;
        self.procs
            .retain(|p| !p.holds.is_empty() || queue.iter().any(|w| w.pid == p.pid));
    }

    /// True when nobody holds or waits for the lock.
    pub fn is_unused(&self) -> bool {
        self.procs.is_empty() && self.queue.is_empty()
    }
}

/// What happened to a lock request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Acquire {
    /// The lock is held now.
    Granted,
    /// The backend joined the wait queue.
    Waiting,
    /// NOWAIT was asked and the lock is not available.
    WouldBlock,
    /// `JoinWaitQueue` found a simple deadlock with this earlier waiter: the requester already
    /// holds a lock that the waiter needs, and the waiter holds one the requester needs.
    SimpleDeadlock(Pid),
}

/// A lock granted to a waiter by a release or a queue rearrangement.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Grant {
    /// The backend that stops waiting.
    pub pid: Pid,
    /// The lock.
    pub tag: LockTag,
    /// The mode granted.
    pub mode: LockMode,
}

/// One request for a heavyweight lock: what to lock, in which mode, for whom, whether to fail
/// instead of waiting (NOWAIT, SKIP LOCKED, `pg_try_advisory_lock`), and the CONTEXT line an
/// error raised while waiting reports.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LockRequest {
    pub tag: LockTag,
    pub mode: LockMode,
    pub owner: Owner,
    pub nowait: bool,
    pub context: Option<String>,
}

/// All heavyweight locks.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct LockManager {
    /// Every lock that someone holds or waits for.
    #[serde(with = "super::seq_map")]
    pub locks: LiteMap<LockTag, Lock>,
    /// What each waiting backend waits for (a backend waits for at most one lock).
    #[serde(with = "super::seq_map")]
    pub waiting: LiteMap<Pid, (LockTag, LockMode)>,
}

impl LockManager {
    /// Requests `mode` on `tag` for `pid` (PostgreSQL's `LockAcquire` + `JoinWaitQueue`).
    pub fn acquire(
        &mut self,
        pid: Pid,
        tag: LockTag,
        mode: LockMode,
        owner: Owner,
        nowait: bool,
    ) -> Acquire {
        let lock = self.locks.entry(tag).or_default();
        let my_held = lock.held_by(pid);
        // Already holding this very mode: just count it again, no queue involved.
        if my_held & bit(mode) != 0 {
            lock.grant(pid, mode, owner);
            return Acquire::Granted;
        }
        let conflict = conflict_mask(mode);
        let must_wait =
            conflict & lock.wait_mask() != 0 || conflict & lock.held_by_others(pid) != 0;
        if !must_wait {
            lock.grant(pid, mode, owner);
            return Acquire::Granted;
        }
        // JoinWaitQueue: a backend that already holds locks on this object goes ahead of the
        // first waiter that would have to wait for it, or even gets the lock at once.
        let mut insert_at = lock.queue.len();
        if my_held != 0 {
            let mut ahead: ModeMask = 0;
            for (i, w) in lock.queue.iter().enumerate() {
                if conflict_mask(w.mode) & my_held != 0 {
                    if conflict & lock.held_by(w.pid) != 0 {
                        let other = w.pid;
                        lock.tidy();
                        return Acquire::SimpleDeadlock(other);
                    }
                    if conflict & ahead == 0 && conflict & lock.held_by_others(pid) == 0 {
                        lock.grant(pid, mode, owner);
                        return Acquire::Granted;
                    }
                    insert_at = i;
                    break;
                }
                ahead |= bit(w.mode);
            }
        }
        if nowait {
            if lock.is_unused() {
                self.locks.remove(&tag);
            }
            return Acquire::WouldBlock;
        }
        lock.ensure_proc(pid);
        lock.queue.insert(insert_at, Waiter { pid, mode, owner });
        self.waiting.insert(pid, (tag, mode));
        Acquire::Waiting
    }

    /// Releases one hold of `mode` on `tag` owned by `owner`; returns the waiters it wakes.
    /// Returns `None` when no such hold exists.
    pub fn release(
        &mut self,
        pid: Pid,
        tag: LockTag,
        mode: LockMode,
        owner: Owner,
    ) -> Option<Vec<Grant>> {
        let lock = self.locks.get_mut(&tag)?;
        let pl = lock.procs.iter_mut().find(|p| p.pid == pid)?;
        let i = pl
            .holds
            .iter()
            .position(|h| h.mode == mode && h.owner == owner)?;
        pl.holds[i].count -= 1;
        if pl.holds[i].count == 0 {
            pl.holds.remove(i);
        }
        Some(self.wake(tag))
    }

    /// Releases one hold of `mode` on `tag` whatever its owner (the innermost first).
    pub fn release_any(&mut self, pid: Pid, tag: LockTag, mode: LockMode) -> Option<Vec<Grant>> {
        let owner = self
            .locks
            .get(&tag)?
            .procs
            .iter()
            .find(|p| p.pid == pid)?
            .holds
            .iter()
            .filter(|h| h.mode == mode)
            .map(|h| h.owner)
            .max()?;
        self.release(pid, tag, mode, owner)
    }

    /// Releases every hold of `pid` whose owner matches, and wakes whoever can go.
    pub fn release_where(&mut self, pid: Pid, pred: impl Fn(Owner) -> bool) -> Vec<Grant> {
        let mut touched = Vec::new();
        for (tag, lock) in self.locks.iter_mut() {
            if let Some(pl) = lock.procs.iter_mut().find(|p| p.pid == pid) {
                let before = pl.holds.len();
                pl.holds.retain(|h| !pred(h.owner));
                if pl.holds.len() != before {
                    touched.push(*tag);
                }
            }
        }
        let mut woken = Vec::new();
        for tag in touched {
            woken.extend(self.wake(tag));
        }
        woken
    }

    /// Drops every hold of `pid` on `tag`, whatever the mode or owner, and wakes whoever can go.
    pub fn release_tag(&mut self, pid: Pid, tag: LockTag) -> Vec<Grant> {
        let Some(lock) = self.locks.get_mut(&tag) else {
            return Vec::new();
        };
        if let Some(pl) = lock.procs.iter_mut().find(|p| p.pid == pid) {
            pl.holds.clear();
        }
        self.wake(tag)
    }

    /// Moves holds owned by subtransaction levels deeper than `level` to `level` (RELEASE
    /// SAVEPOINT: the subtransaction's locks now belong to its parent).
    pub fn reassign_to_level(&mut self, pid: Pid, level: u32) {
        for (_, lock) in self.locks.iter_mut() {
            if let Some(pl) = lock.procs.iter_mut().find(|p| p.pid == pid) {
                let mut merged: Vec<Hold> = Vec::new();
                for h in pl.holds.drain(..) {
                    let owner = match h.owner {
                        Owner::Xact(l) if l > level => Owner::Xact(level),
                        o => o,
                    };
                    match merged
                        .iter_mut()
                        .find(|m| m.mode == h.mode && m.owner == owner)
                    {
                        Some(m) => m.count += h.count,
                        None => merged.push(Hold {
                            mode: h.mode,
                            owner,
                            count: h.count,
                        }),
                    }
                }
                pl.holds = merged;
            }
        }
    }

    /// Takes `pid` out of the queue it waits in (its wait was cancelled) and wakes whoever
    /// can go now (`RemoveFromWaitQueue` + `ProcLockWakeup`).
    pub fn cancel_wait(&mut self, pid: Pid) -> Vec<Grant> {
        let Some((tag, _)) = self.waiting.remove(&pid) else {
            return Vec::new();
        };
        if let Some(lock) = self.locks.get_mut(&tag) {
            lock.queue.retain(|w| w.pid != pid);
        }
        self.wake(tag)
    }

    /// `ProcLockWakeup`: grants, in queue order, every waiter whose request conflicts neither
    /// with granted locks nor with the requests of earlier waiters that stay asleep.
    pub fn wake(&mut self, tag: LockTag) -> Vec<Grant> {
        let mut granted = Vec::new();
        let Some(lock) = self.locks.get_mut(&tag) else {
            return granted;
        };
        let mut ahead: ModeMask = 0;
        let mut i = 0;
        while i < lock.queue.len() {
            let w = lock.queue[i].clone();
            let conflict = conflict_mask(w.mode);
            if conflict & ahead == 0 && conflict & lock.held_by_others(w.pid) == 0 {
                lock.queue.remove(i);
                lock.grant(w.pid, w.mode, w.owner);
                self.waiting.remove(&w.pid);
                granted.push(Grant {
                    pid: w.pid,
                    tag,
                    mode: w.mode,
                });
            } else {
                ahead |= bit(w.mode);
                i += 1;
            }
        }
        lock.tidy();
        if lock.is_unused() {
            self.locks.remove(&tag);
        }
        granted
    }

    /// Replaces a lock's wait queue with a new order of the same waiters and wakes whoever can
    /// go (the deadlock detector's soft-deadlock resolution).
    pub fn reorder_queue(&mut self, tag: LockTag, order: &[Pid]) -> Vec<Grant> {
        if let Some(lock) = self.locks.get_mut(&tag) {
            let mut queue = VecDeque::new();
            for pid in order {
                if let Some(w) = lock.queue.iter().find(|w| w.pid == *pid) {
                    queue.push_back(w.clone());
                }
            }
            if queue.len() == lock.queue.len() {
                lock.queue = queue;
            }
        }
        self.wake(tag)
    }

    /// True when `pid` holds some mode on `tag`.
    pub fn holds(&self, pid: Pid, tag: &LockTag) -> bool {
        self.locks.get(tag).is_some_and(|l| l.held_by(pid) != 0)
    }

    /// How many times `pid` holds `mode` on `tag` with owner `owner`.
    pub fn hold_count(&self, pid: Pid, tag: &LockTag, mode: LockMode, owner: Owner) -> u32 {
        self.locks
            .get(tag)
            .and_then(|l| l.procs.iter().find(|p| p.pid == pid))
            .and_then(|p| p.holds.iter().find(|h| h.mode == mode && h.owner == owner))
            .map_or(0, |h| h.count)
    }

    /// The backends that hold a mode on `tag` conflicting with `mode`, other than `pid`.
    pub fn hard_blockers(&self, pid: Pid, tag: &LockTag, mode: LockMode) -> Vec<Pid> {
        let conflict = conflict_mask(mode);
        self.locks.get(tag).map_or(Vec::new(), |l| {
            l.procs
                .iter()
                .filter(|p| p.pid != pid && p.mask() & conflict != 0)
                .map(|p| p.pid)
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use TableLockMode::*;

    #[test]
    fn the_conflict_table_is_postgresqls() {
        // Rows = requested, columns = held, in ALL_MODES order; 'X' = conflict.
        let table = [
            ".......X", "......XX", "....XXXX", "...XXXXX", "..XX.XXX", "..XXXXXX", ".XXXXXXX",
            "XXXXXXXX",
        ];
        for (i, row) in table.iter().enumerate() {
            for (j, c) in row.chars().enumerate() {
                assert_eq!(
                    conflicts(ALL_MODES[i], ALL_MODES[j]),
                    c == 'X',
                    "{:?} vs {:?}",
                    ALL_MODES[i],
                    ALL_MODES[j]
                );
            }
        }
        assert!(
            (0..8)
                .all(|i| (0..8).all(|j| conflicts(ALL_MODES[i], ALL_MODES[j])
                    == conflicts(ALL_MODES[j], ALL_MODES[i]))),
            "the table is symmetric"
        );
    }

    #[test]
    fn lock_tags_print_like_describe_lock_tag() {
        assert_eq!(
            LockTag::Transaction(Xid(741)).to_string(),
            "transaction 741"
        );
        assert_eq!(
            LockTag::Tuple {
                rel: 16384,
                block: 0,
                offset: 2
            }
            .to_string(),
            format!("tuple (0,2) of relation 16384 of database {DATABASE_OID}")
        );
        assert_eq!(
            LockTag::Relation { rel: 16384 }.to_string(),
            format!("relation 16384 of database {DATABASE_OID}")
        );
    }

    #[test]
    fn waiters_are_granted_in_order_and_a_later_compatible_request_does_not_jump_the_queue() {
        let mut lm = LockManager::default();
        let t = LockTag::Relation { rel: 1 };
        let o = Owner::Xact(0);
        assert_eq!(
            lm.acquire(Pid(1), t, AccessShare, o, false),
            Acquire::Granted
        );
        assert_eq!(
            lm.acquire(Pid(2), t, AccessExclusive, o, false),
            Acquire::Waiting
        );
        // AccessShare is compatible with the holder but conflicts with the waiter ahead.
        assert_eq!(
            lm.acquire(Pid(3), t, AccessShare, o, false),
            Acquire::Waiting
        );
        let woken = lm.release(Pid(1), t, AccessShare, o).unwrap();
        assert_eq!(
            woken.iter().map(|g| g.pid).collect::<Vec<_>>(),
            vec![Pid(2)]
        );
        let woken = lm.release(Pid(2), t, AccessExclusive, o).unwrap();
        assert_eq!(
            woken.iter().map(|g| g.pid).collect::<Vec<_>>(),
            vec![Pid(3)]
        );
    }

    #[test]
    fn two_upgraders_on_one_table_make_a_simple_deadlock_at_once() {
        let mut lm = LockManager::default();
        let t = LockTag::Relation { rel: 1 };
        let o = Owner::Xact(0);
        lm.acquire(Pid(1), t, AccessShare, o, false);
        lm.acquire(Pid(2), t, AccessShare, o, false);
        assert_eq!(
            lm.acquire(Pid(1), t, AccessExclusive, o, false),
            Acquire::Waiting
        );
        assert_eq!(
            lm.acquire(Pid(2), t, AccessExclusive, o, false),
            Acquire::SimpleDeadlock(Pid(1))
        );
    }

    #[test]
    fn a_holder_asking_nowait_for_a_weaker_mode_is_granted_ahead_of_a_waiter() {
        let mut lm = LockManager::default();
        let t = LockTag::Relation { rel: 1 };
        let o = Owner::Xact(0);
        lm.acquire(Pid(1), t, AccessExclusive, o, false);
        assert_eq!(lm.acquire(Pid(2), t, Exclusive, o, false), Acquire::Waiting);
        assert_eq!(
            lm.acquire(Pid(1), t, ShareRowExclusive, o, true),
            Acquire::Granted
        );
    }
}
