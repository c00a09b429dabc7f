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
//! - each poll of a busy step costs 10 ms of virtual time, as the real tester's `select()`
//!   timeout does, so timers that fall due meanwhile fire in the same order as on a real server;
//! - when the tester must block on a step (its session has a step still running, or at the
//!   end of the permutation), the virtual clock jumps to the next timer — a deadlock check, a
//!   lock or statement timeout — which is what would happen while the real tester sleeps.
//!
//! [`super::run`] keeps one server and one connection per session for the whole spec, as
//! isolationtester does: the spec's setup and teardown reset the data between permutations, and
//! a transaction a permutation leaves open is still open in the next. [`PermutationRun`] (the
//! sandbox's step-by-step run) starts one permutation on a fresh server.

use super::parse::{Marker, Permutation, PermutationEntry, Spec};
use super::printed::{Printed, Report};
use super::table;
pub use super::RunOptions;
use crate::server::{Event, Pid, QueryOutcome, Server, SessionState, Settings, StatementResult};
use crate::time::{Duration, Instant};
use std::sync::Arc;

use crate::limits::SPEC_STEP_WAITS_MAX;

/// How long isolationtester waits on a busy step before checking whether it is blocked.
const POLL_INTERVAL: Duration = Duration::from_millis(10);

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

#[derive(Clone, Debug)]
pub(super) struct Tester {
    spec: Arc<Spec>,
    options: RunOptions,
    srv: Server,
    now: Instant,
    control: Pid,
    conns: Vec<Pid>,
    /// Per session: the permutation entry launched and not yet reported.
    active: Vec<Option<usize>>,
    /// Per session: the finished query's outcome, until it is reported.
    done: Vec<Option<QueryOutcome>>,
    /// The entries of the permutation launched so far.
    launched: Vec<PermutationEntry>,
    /// Indexes into `launched` of the steps reported as waiting and not yet completed.
    waiting: Vec<usize>,
    /// What the tester printed since it was last taken, piece by piece.
    printed: Vec<Printed>,
    /// What the server did, in order, since the tester started.
    pub(super) events: Vec<Event>,
}

impl Tester {
    pub(super) fn new(spec: Arc<Spec>, options: RunOptions) -> Result<Tester, String> {
        let mut srv = Server::new(Settings::default());
        let mut events = Vec::new();
        let now = Instant::START;
        let control = srv.connect(now, &mut events).map_err(|e| e.to_string())?;
        let count = spec.sessions.len();
        let mut conns = Vec::new();
        for _ in 0..count {
            conns.push(srv.connect(now, &mut events).map_err(|e| e.to_string())?);
        }
        Ok(Tester {
            spec,
            options,
            srv,
            now,
            control,
            conns,
            active: vec![None; count],
            done: vec![None; count],
            launched: Vec::new(),
            waiting: Vec::new(),
            printed: Vec::new(),
            events,
        })
    }

    /// Runs every runnable backend until none is: woken backends continue at once, as real
    /// ones would (at most [`SPEC_SETTLE_ROUNDS_MAX`](crate::limits::SPEC_SETTLE_ROUNDS_MAX)
    /// rounds).
    fn settle(&mut self) {
        for _ in 0..crate::limits::SPEC_SETTLE_ROUNDS_MAX {
            let runnable: Vec<Pid> = self
                .srv
                .sessions()
                .filter(|p| self.srv.is_runnable(*p))
                .collect();
            if runnable.is_empty() {
                break;
            }
            for pid in runnable {
                self.srv.run(pid, self.now, &mut self.events);
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
        self.now = self.now.max(at);
        self.srv.fire_timers(self.now, &mut self.events);
        self.settle();
        true
    }

    /// One poll of a busy step: isolationtester sleeps up to 10 ms in `select()` before it asks
    /// whether the step waits for a lock, and wakes early if the step finishes. Timers of every
    /// backend that fall due meanwhile fire, as they would on a real server.
    fn poll_interval(&mut self, session: usize) {
        let deadline = self.now + POLL_INTERVAL;
        for _ in 0..SPEC_STEP_WAITS_MAX {
            match self.srv.next_timer() {
                Some(at) if at <= deadline => {
                    self.now = self.now.max(at);
                    self.srv.fire_timers(self.now, &mut self.events);
                    self.settle();
                    if self.done[session].is_some() {
                        return;
                    }
                }
                _ => break,
            }
        }
        self.now = deadline;
    }

    /// PQexec on a connection that is not a test session's: runs SQL to completion.
    fn exec_blocking(&mut self, pid: Pid, sql: &str) -> Result<QueryOutcome, String> {
        self.srv.submit(pid, sql, self.now, &mut self.events);
        for _ in 0..SPEC_STEP_WAITS_MAX {
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
                self.srv.cancel(pid, self.now, &mut self.events);
            }
        }
        Err(format!("query did not finish: {sql}"))
    }

    /// Prints one piece of output and records what it reports.
    fn print(&mut self, what: Report, text: String) {
        self.printed.push(Printed { what, text });
    }

    /// Takes what the tester printed since the last call, piece by piece.
    pub(super) fn take_printed(&mut self) -> Vec<Printed> {
        std::mem::take(&mut self.printed)
    }

    /// Prints PQexec's result for a setup or teardown block: only the last statement's, and
    /// only if it returned rows.
    fn print_last_result(&mut self, outcome: &QueryOutcome) {
        if outcome.error.is_some() {
            return;
        }
        if let Some(StatementResult::Rows { columns, rows }) = outcome.results.last() {
            let text = table::format_table(columns, rows);
            if !text.is_empty() {
                self.print(Report::Rows { step: None }, text);
            }
        }
    }

    /// The start of a permutation: the global setup blocks on the control connection, then
    /// each session's setup on its own.
    pub(super) fn begin(&mut self) -> Result<(), String> {
        self.launched.clear();
        self.waiting.clear();
        for block in 0..self.setup_blocks() {
            self.setup_block(block)?;
        }
        Ok(())
    }

    /// How many setup blocks a permutation's start runs: the global ones, then those of the
    /// sessions that have one.
    pub(super) fn setup_blocks(&self) -> usize {
        let sessions = self.spec.sessions.iter().filter(|s| s.setup.is_some());
        self.spec.setup.len() + sessions.count()
    }

    /// Runs setup block `block` of [`Tester::setup_blocks`], in their order.
    pub(super) fn setup_block(&mut self, block: usize) -> Result<(), String> {
        let spec = Arc::clone(&self.spec);
        if let Some(sql) = spec.setup.get(block) {
            let control = self.control;
            let outcome = self.exec_blocking(control, sql)?;
            // The control connection's notices are not printed.
            self.srv.take_notices(control);
            if let Some(e) = &outcome.error {
                return Err(format!("setup failed: {e}"));
            }
            self.print_last_result(&outcome);
            return Ok(());
        }
        let with_setup = spec.sessions.iter().enumerate();
        let Some((i, session, sql)) = with_setup
            .filter_map(|(i, s)| s.setup.as_ref().map(|sql| (i, s, sql)))
            .nth(block - spec.setup.len())
        else {
            return Err(format!("there is no setup block {block}"));
        };
        let outcome = self.exec_blocking(self.conns[i], sql)?;
        self.print_notices(i);
        if let Some(e) = &outcome.error {
            return Err(format!("setup of session {} failed: {e}", session.name));
        }
        self.print_last_result(&outcome);
        Ok(())
    }

    /// One entry of the permutation: waits for the step's session to finish its previous step
    /// (polling the others), launches the step and reports what finished meanwhile.
    pub(super) fn launch(&mut self, entry: PermutationEntry) -> Result<(), String> {
        let spec = Arc::clone(&self.spec);
        let (si, step) = spec
            .step(&entry.step)
            .ok_or_else(|| format!("undefined step \"{}\"", entry.step))?;
        // The session is still busy with an earlier step: wait for it, polling the others.
        let mut rounds = 0;
        while let Some(old) = self.active[si] {
            rounds += 1;
            if rounds > SPEC_STEP_WAITS_MAX {
                return Err(format!(
                    "step {} never finished; the permutation cannot go on",
                    self.launched[old].step
                ));
            }
            if !self.try_complete(old, RETRY) {
                self.waiting.retain(|w| *w != old);
            }
            self.try_complete_waiting(NONBLOCK_RETRY);
        }
        let e = self.launched.len();
        self.launched.push(entry);
        self.active[si] = Some(e);
        self.done[si] = None;
        self.srv
            .submit(self.conns[si], &step.sql, self.now, &mut self.events);
        self.settle();
        let must_wait = self.try_complete(e, NONBLOCK);
        self.try_complete_waiting(NONBLOCK_RETRY);
        if must_wait {
            self.waiting.push(e);
        }
        Ok(())
    }

    /// The end of a permutation: waits for every step still running, then runs the sessions'
    /// teardown blocks.
    pub(super) fn finish(&mut self) -> Result<(), String> {
        self.try_complete_waiting(RETRY);
        if !self.waiting.is_empty() {
            return Err("failed to complete permutation due to mutually-blocking steps".into());
        }
        let spec = Arc::clone(&self.spec);
        for (i, session) in spec.sessions.iter().enumerate() {
            if let Some(sql) = &session.teardown {
                let outcome = self.exec_blocking(self.conns[i], sql)?;
                self.print_notices(i);
                self.print_last_result(&outcome);
            }
        }
        Ok(())
    }

    /// The global teardown block, on the control connection.
    pub(super) fn teardown(&mut self) -> Result<(), String> {
        if let Some(sql) = self.spec.teardown.clone() {
            // Teardown errors go to stderr upstream, never into the expected output.
            let _ = self.exec_blocking(self.control, &sql)?;
        }
        Ok(())
    }

    /// isolationtester's `try_complete_steps` over the steps reported as waiting.
    fn try_complete_waiting(&mut self, flags: Flags) {
        let waiting = std::mem::take(&mut self.waiting);
        self.waiting = self.try_complete_steps(waiting, flags);
    }

    /// Prints the notices a session's backend sent, as isolationtester's notice processor
    /// does when libpq reads them: `s1: WARNING:  message`.
    fn print_notices(&mut self, session: usize) {
        let Some(&pid) = self.conns.get(session) else {
            return;
        };
        let name = self.spec.sessions[session].name.clone();
        for notice in self.srv.take_notices(pid) {
            let text = table::notice_line(&name, &notice.severity, &notice.message);
            self.print(
                Report::Notice {
                    session: name.clone(),
                    notice,
                },
                text,
            );
        }
    }

    fn try_complete_steps(&mut self, mut waiting: Vec<usize>, flags: Flags) -> Vec<usize> {
        for _ in 0..SPEC_STEP_WAITS_MAX {
            let old = waiting.len();
            let mut have_blocker = false;
            let mut w = 0;
            while w < waiting.len() {
                let e = waiting[w];
                if self.try_complete(e, flags) {
                    if !self.launched[e].markers.is_empty() {
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

    fn has_blocker(&self, e: usize) -> bool {
        self.launched[e].markers.iter().any(|m| match m {
            Marker::After(other) | Marker::Notices(other, _) => {
                self.spec.step(other).is_some_and(|(si, _)| {
                    self.active[si].is_some_and(|a| self.launched[a].step == *other)
                })
            }
            Marker::Star => false,
        })
    }

    /// True while the step is (reported as) still waiting; false once it was reported done.
    fn try_complete(&mut self, e: usize, flags: Flags) -> bool {
        let spec = Arc::clone(&self.spec);
        let entry = self.launched[e].clone();
        let Some((si, step)) = spec.step(&entry.step) else {
            return false;
        };
        if !flags.retry && entry.markers.contains(&Marker::Star) {
            // Reported as waiting without reading the connection: notices stay unread.
            self.print_launched(&step.name, &step.sql, true);
            return true;
        }
        self.print_notices(si);
        if self.done[si].is_none() && flags.nonblock {
            self.poll_interval(si);
            self.print_notices(si);
        }
        if self.done[si].is_none() {
            if flags.nonblock {
                let blocked = matches!(
                    self.srv.state(self.conns[si]),
                    SessionState::Waiting(_) | SessionState::Active
                );
                if blocked {
                    if !flags.retry {
                        self.print_launched(&step.name, &step.sql, true);
                    }
                    return true;
                }
            } else {
                let deadline = self.now + self.options.step_wait_max;
                let mut canceled = false;
                for _ in 0..SPEC_STEP_WAITS_MAX {
                    if self.done[si].is_some() {
                        break;
                    }
                    match self.srv.next_timer() {
                        Some(at) if at <= deadline || canceled => {
                            self.let_time_pass();
                        }
                        _ if !canceled => {
                            // Nothing wakes it in time: isolationtester cancels the step.
                            self.now = deadline;
                            let seconds = self.options.step_wait_max.0 / 1_000_000;
                            self.print(
                                Report::Cancelled {
                                    step: step.name.clone(),
                                },
                                table::cancel_line(&step.name, seconds),
                            );
                            self.srv.cancel(self.conns[si], self.now, &mut self.events);
                            self.settle();
                            canceled = true;
                        }
                        _ => break,
                    }
                }
            }
        }
        self.print_notices(si);
        if self.has_blocker(e) {
            if !flags.retry {
                self.print_launched(&step.name, &step.sql, true);
            }
            return true;
        }
        if flags.retry {
            self.print(
                Report::Completed {
                    step: step.name.clone(),
                },
                table::step_completed_line(&step.name),
            );
        } else {
            self.print_launched(&step.name, &step.sql, false);
        }
        if let Some(outcome) = self.done[si].take() {
            for r in &outcome.results {
                if let StatementResult::Rows { columns, rows } = r {
                    let text = table::format_table(columns, rows);
                    if !text.is_empty() {
                        let step = Some(step.name.clone());
                        self.print(Report::Rows { step }, text);
                    }
                }
            }
            if let Some(error) = outcome.error {
                let text = format!("{}:  {}\n", error.severity, error.message);
                let step = step.name.clone();
                self.print(Report::Error { step, error }, text);
            }
        }
        self.active[si] = None;
        false
    }

    /// Prints a launched step's line: `step NAME: SQL`, with ` <waiting ...>` when it waits.
    fn print_launched(&mut self, name: &str, sql: &str, waiting: bool) {
        let text = if waiting {
            table::step_waiting_line(name, sql)
        } else {
            table::step_line(name, sql)
        };
        let step = name.to_string();
        self.print(Report::Launched { step, waiting }, text);
    }
}

/// How one session of a [`PermutationRun`] stands.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SessionProgress {
    /// No step of this session is running.
    Idle,
    /// A step was launched and isolationtester reported it as `<waiting ...>`; it has not
    /// been reported completed yet.
    Waiting {
        /// The step's name.
        step: String,
    },
}

/// One permutation run step by step on a fresh server, as isolationtester runs it: a plain
/// value (clone it to keep a snapshot), changed only by [`PermutationRun::launch`] and
/// [`PermutationRun::finish`]. The entries need not be known in advance, so a person can pick
/// each next step by hand.
#[derive(Clone, Debug)]
pub struct PermutationRun {
    tester: Tester,
    /// The output after the `starting permutation:` line.
    body: String,
    /// The same output piece by piece, with what each piece reports.
    printed: Vec<Printed>,
    finished: bool,
}

/// A permutation being started: its setup blocks run one [`Starting::run_next`] at a time.
pub struct Starting {
    tester: Tester,
    /// The next block to run.
    next: usize,
    /// Blocks in all.
    blocks: usize,
}

impl Starting {
    /// Setup blocks in all: the global ones, then the sessions'.
    pub fn blocks(&self) -> usize {
        self.blocks
    }

    /// Setup blocks run so far.
    pub fn done(&self) -> usize {
        self.next
    }

    /// Runs the next setup block; `Ok(true)` once every block has run. A failing block is an
    /// error, as it is for [`PermutationRun::start`].
    pub fn run_next(&mut self) -> Result<bool, String> {
        if self.next < self.blocks {
            self.tester.setup_block(self.next)?;
            self.next += 1;
        }
        Ok(self.next >= self.blocks)
    }

    /// The permutation, started: call once [`Starting::run_next`] has said every block ran.
    pub fn into_run(self) -> PermutationRun {
        let mut run = PermutationRun {
            tester: self.tester,
            body: String::new(),
            printed: Vec::new(),
            finished: false,
        };
        run.keep_printed();
        run
    }
}

impl PermutationRun {
    /// Connects one backend per session and runs the spec's setup blocks. The spec must be
    /// valid ([`Spec::parse`] validates); a failing setup is an error.
    pub fn start(spec: Arc<Spec>, options: RunOptions) -> Result<PermutationRun, String> {
        let mut starting = PermutationRun::starting(spec, options)?;
        while !starting.run_next()? {}
        Ok(starting.into_run())
    }

    /// [`PermutationRun::start`], one setup block at a time: for a caller that must not hold
    /// its thread for a whole setup (the sandbox page runs blocks within a frame's budget).
    pub fn starting(spec: Arc<Spec>, options: RunOptions) -> Result<Starting, String> {
        let tester = Tester::new(spec, options)?;
        let blocks = tester.setup_blocks();
        Ok(Starting {
            tester,
            next: 0,
            blocks,
        })
    }

    /// Moves what the tester printed since the last call into the body and its record.
    fn keep_printed(&mut self) {
        for piece in self.tester.take_printed() {
            self.body.push_str(&piece.text);
            self.printed.push(piece);
        }
    }

    /// The spec being run.
    pub fn spec(&self) -> &Spec {
        &self.tester.spec
    }

    /// Launches the next entry, as one word of a `permutation` line: if the step's session is
    /// still busy with an earlier step the tester first waits for that one (virtual time
    /// passes: deadlock checks and timeouts fire, and after `step_wait_max` the step is
    /// cancelled). Errors for an unknown step or after [`PermutationRun::finish`].
    pub fn launch(&mut self, entry: PermutationEntry) -> Result<(), String> {
        if self.finished {
            return Err("the permutation has ended".into());
        }
        let result = self.tester.launch(entry);
        self.keep_printed();
        result
    }

    /// Ends the permutation: waits for every step still running, then runs the sessions'
    /// teardown blocks. The global teardown is not run, so the tables stay as the permutation
    /// left them (isolationtester never prints its result).
    pub fn finish(&mut self) -> Result<(), String> {
        if self.finished {
            return Ok(());
        }
        self.finished = true;
        let result = self.tester.finish();
        self.keep_printed();
        result
    }

    /// Whether [`PermutationRun::finish`] ran.
    pub fn is_finished(&self) -> bool {
        self.finished
    }

    /// The entries launched so far.
    pub fn launched(&self) -> &[PermutationEntry] {
        &self.tester.launched
    }

    /// What isolationtester prints for this permutation so far, as in an expected file: the
    /// header, `starting permutation:` with the entries launched so far, and the step lines.
    pub fn output(&self) -> String {
        let permutation = Permutation {
            entries: self.tester.launched.clone(),
        };
        // isolationtester prints the header before it runs the setup, so any setup output
        // follows it.
        let mut out = table::spec_header(self.tester.spec.sessions.len());
        out.push_str(&table::permutation_header(&permutation));
        out.push_str(&self.body);
        out
    }

    /// What isolationtester printed after the `starting permutation:` line so far.
    pub fn body(&self) -> &str {
        &self.body
    }

    /// The same as [`PermutationRun::body`], piece by piece, with what each piece reports:
    /// the pieces' texts, in order, are the body.
    pub fn printed(&self) -> &[Printed] {
        &self.printed
    }

    /// The simulated server.
    pub fn server(&self) -> &Server {
        &self.tester.srv
    }

    /// The virtual time now.
    pub fn now(&self) -> Instant {
        self.tester.now
    }

    /// The backend of each session, in declaration order.
    pub fn session_pids(&self) -> &[Pid] {
        &self.tester.conns
    }

    /// The backend of the control connection that runs the global setup.
    pub fn control_pid(&self) -> Pid {
        self.tester.control
    }

    /// How each session stands, in declaration order.
    pub fn progress(&self) -> Vec<SessionProgress> {
        self.tester
            .active
            .iter()
            .map(|a| match a {
                Some(e) => SessionProgress::Waiting {
                    step: self.tester.launched[*e].step.clone(),
                },
                None => SessionProgress::Idle,
            })
            .collect()
    }

    /// Every server event so far (setup included), in order, since the last
    /// [`PermutationRun::take_events`].
    pub fn events(&self) -> &[Event] {
        &self.tester.events
    }

    /// Takes the events so far, so that a run kept for long (and its copies) does not carry
    /// every event since the setup.
    pub fn take_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.tester.events)
    }
}

#[cfg(test)]
#[path = "run_tests.rs"]
mod tests;
