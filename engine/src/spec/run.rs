//! PostgreSQL's `isolationtester`, reimplemented on the simulated server and its virtual clock.
//!
//! The loop follows `run_permutation`, `try_complete_steps`, `try_complete_step` and
//! `step_has_blocker` in `src/test/isolation/isolationtester.c` (PG 14+), because the order of
//! `<waiting ...>` / `<... completed>` lines is exactly what the expected files pin:
//!
//! - a step is launched on its session's backend, which then runs until it finishes or waits
//!   for a heavyweight lock (the simulated server is infinitely fast, so no time passes);
//! - "seen waiting" means the backend waits for a lock (what
//!   `pg_isolation_test_session_is_blocked` reports);
//! - when the tester must block on a step (its session has a step still running, or at the
//!   end of the permutation), the virtual clock jumps to the next timer — a deadlock check, a
//!   lock or statement timeout — which is what would happen while the real tester sleeps.
//!
//! Each permutation runs on a fresh server: the spec's setup and teardown make the state the
//! same anyway, and a fresh server keeps one permutation's leftovers out of the next.

use super::parse::{Marker, Permutation, Spec};
use super::table;
use crate::server::{Pid, QueryOutcome, Server, SessionState, Settings, StatementResult};
use crate::time::Instant;

/// How many times the tester may wait for timers for one step before giving up; a limit so a
/// wrong annotation cannot loop forever.
const WAITS_MAX: usize = 10_000;

/// Parses, validates and runs a spec's text; returns the expected-file output.
pub fn run_text(text: &str) -> Result<String, String> {
    let spec = Spec::parse(text).map_err(|e| e.to_string())?;
    spec.validate()?;
    run(&spec)
}

/// Runs every permutation of `spec` and returns what isolationtester would print.
pub fn run(spec: &Spec) -> Result<String, String> {
    let mut out = table::spec_header(spec.sessions.len());
    for permutation in spec.permutations_to_run()? {
        let mut tester = Tester::new(spec);
        out.push_str(&table::permutation_header(&permutation));
        tester.run_permutation(&permutation)?;
        out.push_str(&tester.out);
    }
    Ok(out)
}

#[derive(Clone, Copy)]
struct Flags {
    nonblock: bool,
    retry: bool,
}

const NONBLOCK: Flags = Flags {
    nonblock: true,
    retry: false,
};
const RETRY: Flags = Flags {
    nonblock: false,
    retry: true,
};
const NONBLOCK_RETRY: Flags = Flags {
    nonblock: true,
    retry: true,
};

struct Tester<'a> {
    spec: &'a Spec,
    srv: Server,
    now: Instant,
    conns: Vec<Pid>,
    /// Per session: the permutation entry launched and not yet reported.
    active: Vec<Option<usize>>,
    /// Per session: the finished query's outcome, until it is reported.
    done: Vec<Option<QueryOutcome>>,
    out: String,
}

impl<'a> Tester<'a> {
    fn new(spec: &'a Spec) -> Tester<'a> {
        Tester {
            spec,
            srv: Server::new(Settings::default()),
            now: Instant::START,
            conns: Vec::new(),
            active: vec![None; spec.sessions.len()],
            done: vec![None; spec.sessions.len()],
            out: String::new(),
        }
    }

    /// Runs every runnable backend until none is: woken backends continue at once, as real
    /// ones would.
    fn settle(&mut self) {
        let mut events = Vec::new();
        loop {
            let runnable: Vec<Pid> = self
                .srv
                .sessions()
                .filter(|p| self.srv.is_runnable(*p))
                .collect();
            if runnable.is_empty() {
                break;
            }
            for pid in runnable {
                self.srv.run(pid, self.now, &mut events);
            }
        }
        for (i, pid) in self.conns.iter().enumerate() {
            if let Some(o) = self.srv.take_outcome(*pid) {
                self.done[i] = Some(o);
            }
        }
    }

    /// Lets virtual time pass until the next timer and fires it. False when no timer is
    /// pending (nothing will ever change by waiting).
    fn let_time_pass(&mut self) -> bool {
        let Some(at) = self.srv.next_timer() else {
            return false;
        };
        let mut events = Vec::new();
        self.now = self.now.max(at);
        self.srv.fire_timers(self.now, &mut events);
        self.settle();
        true
    }

    /// PQexec on a connection that is not a test session's: runs SQL to completion.
    fn exec_blocking(&mut self, pid: Pid, sql: &str) -> Result<QueryOutcome, String> {
        let mut events = Vec::new();
        self.srv.submit(pid, sql, self.now, &mut events);
        for _ in 0..WAITS_MAX {
            self.settle();
            if let Some(o) = self.srv.take_outcome(pid) {
                return Ok(o);
            }
            if let Some(i) = self.conns.iter().position(|p| *p == pid) {
                if let Some(o) = self.done[i].take() {
                    return Ok(o);
                }
            }
            if !self.let_time_pass() {
                self.srv.cancel(pid, self.now, &mut events);
            }
        }
        Err(format!("query did not finish: {sql}"))
    }

    /// Prints PQexec's result: only the last statement's, and only if it returned rows.
    fn print_last_result(&mut self, outcome: &QueryOutcome) {
        if outcome.error.is_some() {
            return;
        }
        if let Some(StatementResult::Rows { columns, rows }) = outcome.results.last() {
            self.out.push_str(&table::format_table(columns, rows));
        }
    }

    fn run_permutation(&mut self, permutation: &Permutation) -> Result<(), String> {
        let mut events = Vec::new();
        let control = self
            .srv
            .connect(self.now, &mut events)
            .map_err(|e| e.to_string())?;
        for sql in &self.spec.setup {
            let outcome = self.exec_blocking(control, sql)?;
            if let Some(e) = &outcome.error {
                return Err(format!("setup failed: {e}"));
            }
            self.print_last_result(&outcome);
        }
        for _ in &self.spec.sessions {
            let pid = self
                .srv
                .connect(self.now, &mut events)
                .map_err(|e| e.to_string())?;
            self.conns.push(pid);
        }
        for (i, session) in self.spec.sessions.iter().enumerate() {
            if let Some(sql) = &session.setup {
                let outcome = self.exec_blocking(self.conns[i], sql)?;
                if let Some(e) = &outcome.error {
                    return Err(format!("setup of session {} failed: {e}", session.name));
                }
                self.print_last_result(&outcome);
            }
        }

        let mut waiting: Vec<usize> = Vec::new();
        for (e, entry) in permutation.entries.iter().enumerate() {
            let (si, step) = self
                .spec
                .step(&entry.step)
                .ok_or_else(|| format!("undefined step \"{}\"", entry.step))?;
            // The session is still busy with an earlier step: wait for it, polling the others.
            let mut rounds = 0;
            while let Some(old) = self.active[si] {
                rounds += 1;
                if rounds > WAITS_MAX {
                    return Err(format!(
                        "step {} never finished; the permutation cannot go on",
                        permutation.entries[old].step
                    ));
                }
                if !self.try_complete(permutation, old, RETRY) {
                    waiting.retain(|w| *w != old);
                }
                waiting = self.try_complete_steps(permutation, waiting, NONBLOCK_RETRY);
            }
            self.active[si] = Some(e);
            self.done[si] = None;
            self.srv
                .submit(self.conns[si], &step.sql, self.now, &mut events);
            self.settle();
            let must_wait = self.try_complete(permutation, e, NONBLOCK);
            waiting = self.try_complete_steps(permutation, waiting, NONBLOCK_RETRY);
            if must_wait {
                waiting.push(e);
            }
        }
        let waiting = self.try_complete_steps(permutation, waiting, RETRY);
        if !waiting.is_empty() {
            return Err("failed to complete permutation due to mutually-blocking steps".into());
        }

        for (i, session) in self.spec.sessions.iter().enumerate() {
            if let Some(sql) = &session.teardown {
                let outcome = self.exec_blocking(self.conns[i], sql)?;
                self.print_last_result(&outcome);
            }
        }
        if let Some(sql) = &self.spec.teardown {
            // Teardown errors go to stderr upstream, never into the expected output.
            let _ = self.exec_blocking(control, sql)?;
        }
        Ok(())
    }

    fn try_complete_steps(
        &mut self,
        permutation: &Permutation,
        mut waiting: Vec<usize>,
        flags: Flags,
    ) -> Vec<usize> {
        for _ in 0..WAITS_MAX {
            let old = waiting.len();
            let mut have_blocker = false;
            let mut w = 0;
            while w < waiting.len() {
                let e = waiting[w];
                if self.try_complete(permutation, e, flags) {
                    if !permutation.entries[e].markers.is_empty() {
                        have_blocker = true;
                    }
                    w += 1;
                } else {
                    waiting.remove(w);
                }
            }
            if !(have_blocker && waiting.len() < old) {
                break;
            }
        }
        waiting
    }

    fn has_blocker(&self, permutation: &Permutation, e: usize) -> bool {
        permutation.entries[e].markers.iter().any(|m| match m {
            Marker::After(other) | Marker::Notices(other, _) => {
                self.spec.step(other).is_some_and(|(si, _)| {
                    self.active[si].is_some_and(|a| permutation.entries[a].step == *other)
                })
            }
            Marker::Star => false,
        })
    }

    /// True while the step is (reported as) still waiting; false once it was reported done.
    fn try_complete(&mut self, permutation: &Permutation, e: usize, flags: Flags) -> bool {
        let entry = &permutation.entries[e];
        let Some((si, step)) = self.spec.step(&entry.step) else {
            return false;
        };
        if !flags.retry && entry.markers.contains(&Marker::Star) {
            self.out
                .push_str(&table::step_waiting_line(&step.name, &step.sql));
            return true;
        }
        if self.done[si].is_none() {
            if flags.nonblock {
                let blocked = matches!(
                    self.srv.state(self.conns[si]),
                    SessionState::Waiting(_) | SessionState::Active
                );
                if blocked {
                    if !flags.retry {
                        self.out
                            .push_str(&table::step_waiting_line(&step.name, &step.sql));
                    }
                    return true;
                }
            } else {
                let mut events = Vec::new();
                for _ in 0..WAITS_MAX {
                    if self.done[si].is_some() {
                        break;
                    }
                    if !self.let_time_pass() {
                        // Nothing will ever wake it: isolationtester cancels the step after
                        // PGISOLATIONTIMEOUT.
                        self.srv.cancel(self.conns[si], self.now, &mut events);
                        self.settle();
                    }
                }
            }
        }
        if self.has_blocker(permutation, e) {
            if !flags.retry {
                self.out
                    .push_str(&table::step_waiting_line(&step.name, &step.sql));
            }
            return true;
        }
        if flags.retry {
            self.out.push_str(&table::step_completed_line(&step.name));
        } else {
            self.out.push_str(&table::step_line(&step.name, &step.sql));
        }
        if let Some(outcome) = self.done[si].take() {
            for r in &outcome.results {
                if let StatementResult::Rows { columns, rows } = r {
                    self.out.push_str(&table::format_table(columns, rows));
                }
            }
            if let Some(err) = &outcome.error {
                self.out
                    .push_str(&format!("{}:  {}\n", err.severity, err.message));
            }
        }
        self.active[si] = None;
        false
    }
}
