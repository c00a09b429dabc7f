//! The server's timers (deadlock checks; lock, statement and idle-in-transaction timeouts),
//! firing them, a client's cancel request, and telling woken backends they got their lock.

use super::*;

impl Server {
    /// Earliest pending timer (deadlock check, lock/statement/idle timeouts), if any.
    pub fn next_timer(&self) -> Option<Instant> {
        self.timers().into_iter().map(|(at, _, _)| at).min()
    }

    pub(super) fn timers(&self) -> Vec<(Instant, TimerKind, Pid)> {
        let mut out = Vec::new();
        for s in self.sessions.values() {
            if s.terminated.is_some() {
                continue;
            }
            if let Some(w) = &s.wait {
                if let Some(at) = w.deadlock_at {
                    out.push((at, TimerKind::DeadlockCheck, s.pid));
                }
                if let Some(at) = w.lock_timeout_at {
                    out.push((at, TimerKind::LockTimeout, s.pid));
                }
            }
            if let Some(at) = s.statement_deadline {
                if s.query.is_some() {
                    out.push((at, TimerKind::StatementTimeout, s.pid));
                }
            }
            if let Some(at) = s.idle_deadline {
                out.push((at, TimerKind::IdleInTransaction, s.pid));
            }
        }
        crate::order::sort(&mut out);
        out
    }

    /// Fires every timer due at or before `now`, earliest first (ties: deadlock checks, then
    /// lock timeouts, then statement timeouts, then lower pids).
    pub fn fire_timers(&mut self, now: Instant, events: &mut Vec<Event>) {
        for _ in 0..crate::limits::TIMERS_PER_FIRING_MAX {
            let Some((at, kind, pid)) = self.timers().into_iter().next() else {
                return;
            };
            if at > now {
                return;
            }
            self.fire(pid, kind, at, events);
            self.apply_grants(at, events);
        }
    }

    pub(super) fn fire(&mut self, pid: Pid, kind: TimerKind, at: Instant, events: &mut Vec<Event>) {
        let Some(mut s) = self.sessions.remove(&pid) else {
            return;
        };
        let after = match kind {
            TimerKind::DeadlockCheck => s.gucs.deadlock_timeout,
            TimerKind::LockTimeout => s.gucs.lock_timeout,
            TimerKind::StatementTimeout => s.gucs.statement_timeout,
            TimerKind::IdleInTransaction => s.gucs.idle_in_transaction_session_timeout,
        };
        if kind != TimerKind::DeadlockCheck {
            events.push(Event::TimeoutFired { pid, kind, after });
        }
        match kind {
            TimerKind::DeadlockCheck => {
                if let Some(w) = s.wait.as_mut() {
                    w.deadlock_at = None;
                }
                self.check_deadlock(&mut s, at, events);
            }
            TimerKind::LockTimeout => {
                self.fail_query(&mut s, PgError::lock_timeout(), at, events);
            }
            TimerKind::StatementTimeout => {
                self.fail_query(&mut s, PgError::statement_timeout(), at, events);
            }
            TimerKind::IdleInTransaction => {
                let err = PgError::idle_in_transaction_timeout();
                events.push(Event::Log {
                    pid,
                    at,
                    line: err.to_string(),
                });
                events.push(Event::Error {
                    pid,
                    error: err.clone(),
                });
                self.end_session(&mut s, at, events);
                s.terminated = Some(err);
            }
        }
        self.sessions.insert(pid, s);
    }

    /// Cancels the running query of a backend (a client's CancelRequest): 57014
    /// `canceling statement due to user request`.
    pub fn cancel(&mut self, pid: Pid, now: Instant, events: &mut Vec<Event>) {
        let Some(mut s) = self.sessions.remove(&pid) else {
            return;
        };
        if s.query.is_some() && s.terminated.is_none() {
            self.fail_query(&mut s, PgError::user_cancel(), now, events);
        }
        self.sessions.insert(pid, s);
        self.apply_grants(now, events);
    }

    /// Tells woken backends they got their lock.
    pub(super) fn apply_grants(&mut self, now: Instant, events: &mut Vec<Event>) {
        while !self.woken.is_empty() {
            let grants = std::mem::take(&mut self.woken);
            for g in grants {
                if let Some(s) = self.sessions.get_mut(&g.pid) {
                    if s.wait.as_ref().is_some_and(|w| w.tag == g.tag) {
                        s.wait = None;
                        s.granted = Some((g.tag, g.mode));
                        events.push(Event::LockAcquiredAfterWait {
                            pid: g.pid,
                            tag: g.tag,
                            mode: g.mode,
                        });
                    }
                }
            }
        }
        let _ = now;
    }
}
