//! The sandbox's one piece of engine state: a parsed spec, the plan being followed (one of its
//! permutations, or steps picked by hand), and the run's [`History`] (the tester now and
//! periodic copies of it), so that Back is an exact undo within bounded memory.

use super::examples::{Check, Expect};
use super::history::History;
pub use super::history::MoveKind;
use litemap::LiteMap;
use lockstep::server::{self, Pid, SessionState, StatementResult};
use lockstep::spec::parse::{Permutation, PermutationEntry, Spec, SpecError};
use lockstep::spec::{
    table, PermutationRun, Printed, Report, RunOptions, SessionProgress, Starting,
};
use lockstep::time::Instant;
use std::sync::Arc;

/// The most moves one run may take: a permutation line is short, but a person clicking steps
/// by hand could go on for ever.
pub const MOVES_MAX: usize = 500;

/// What is followed when Step is pressed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Plan {
    /// The permutation with this index in [`Sandbox::permutations`].
    Permutation(usize),
    /// Steps picked by hand; Step takes each session's next step in turn.
    ByHand,
}

/// One move taken and what it produced.
#[derive(Clone, Debug)]
pub struct Move {
    /// The move.
    pub kind: MoveKind,
    /// The lines isolationtester printed for it.
    pub output: String,
    /// The same lines piece by piece, with what each piece reports (a step launched, waiting,
    /// completed, failed or cancelled): what the page reads to know what happened.
    pub printed: Vec<Printed>,
    /// The server's events during it.
    pub events: Vec<server::Event>,
    /// The tester's own error, if the move could not be completed.
    pub error: Option<String>,
    /// After the move, each session that waits for a lock and the sessions it waits for.
    pub waits: Vec<(usize, Vec<usize>)>,
}

/// Why a spec cannot be run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// The text is not a valid spec: line, column, message.
    Spec(SpecError),
    /// The spec's setup failed on the server.
    Setup(String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Spec(e) => write!(f, "{e}"),
            LoadError::Setup(e) => write!(f, "{e}"),
        }
    }
}

/// How a run stands, in the words the status line uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing taken yet.
    Ready,
    /// Steps taken, the permutation not ended.
    Running,
    /// PostgreSQL detected a deadlock and aborted these sessions' transactions.
    DeadlockDetected { victims: Vec<String> },
    /// A step never finished (the tester cancelled it, or the steps block each other).
    Stalled { why: String },
    /// The permutation ended; these steps failed (`session: message`).
    Failed { failures: Vec<String> },
    /// The permutation ended without errors, but the example's rule does not hold.
    Anomaly { why: String },
    /// The permutation ended; every step succeeded (and the rule holds, if there is one).
    Completed,
}

impl Outcome {
    /// The one word the status element and the tests use.
    pub fn word(&self) -> &'static str {
        match self {
            Outcome::Ready => "ready",
            Outcome::Running => "running",
            Outcome::DeadlockDetected { .. } => "deadlock",
            Outcome::Stalled { .. } => "stalled",
            Outcome::Failed { .. } => "failed",
            Outcome::Anomaly { .. } => "anomaly",
            Outcome::Completed => "completed",
        }
    }

    /// Whether the run has ended.
    pub fn is_final(&self) -> bool {
        !matches!(self, Outcome::Ready | Outcome::Running)
    }
}

/// How one session stands, for its lane.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Lane {
    /// The session's name.
    pub name: String,
    /// Its backend.
    pub pid: Pid,
    /// Its steps' names, in declaration order.
    pub steps: Vec<String>,
    /// The step Step would launch next for this session when picking by hand.
    pub next: Option<String>,
    /// The step reported `<waiting ...>` and not completed yet.
    pub waiting_step: Option<String>,
    /// The backend's state in words (`idle in transaction`, `waiting`).
    pub state: String,
    /// Whether the session can do nothing but roll back or reconnect: its transaction was
    /// aborted by an error, or the server terminated its backend.
    pub failed: bool,
    /// Why it waits, in one sentence, while it waits for a lock.
    pub why: Option<String>,
    /// The sessions holding what it waits for.
    pub blockers: Vec<usize>,
}

/// A spec being played.
#[derive(Clone, Debug)]
pub struct Sandbox {
    /// The spec's text as loaded.
    pub text: String,
    /// The parsed spec.
    pub spec: Arc<Spec>,
    /// The permutations to pick from: the spec's own lines, or every interleaving; an error
    /// when there are too many to list.
    pub permutations: Result<Vec<Permutation>, String>,
    /// What Step follows.
    pub plan: Plan,
    /// The correctness rule, for examples that have one.
    pub check: Option<Check>,
    /// The tester after the moves, and copies to go back to.
    history: History,
    /// The moves taken, one per run after the first.
    pub moves: Vec<Move>,
}

/// A spec being loaded: parsed, its permutations listed, its setup run block by block
/// ([`Loading::run_next`]), so a heavy setup need not hold the page for its whole length.
pub struct Loading {
    text: String,
    spec: Arc<Spec>,
    permutations: Result<Vec<Permutation>, String>,
    check: Option<Check>,
    starting: Starting,
}

impl Loading {
    /// Setup blocks in all.
    pub fn blocks(&self) -> usize {
        self.starting.blocks()
    }

    /// Setup blocks run so far.
    pub fn done(&self) -> usize {
        self.starting.done()
    }

    /// Runs the next setup block; `Ok(true)` once every block has run.
    pub fn run_next(&mut self) -> Result<bool, LoadError> {
        self.starting.run_next().map_err(LoadError::Setup)
    }

    /// The sandbox, loaded: call once [`Loading::run_next`] has said every block ran. It
    /// follows the first permutation when there is one.
    pub fn into_sandbox(self) -> Sandbox {
        let plan = match &self.permutations {
            Ok(list) if !list.is_empty() => Plan::Permutation(0),
            _ => Plan::ByHand,
        };
        Sandbox {
            text: self.text,
            spec: self.spec,
            permutations: self.permutations,
            plan,
            check: self.check,
            history: History::new(self.starting.into_run()),
            moves: Vec::new(),
        }
    }
}

impl Sandbox {
    /// Parses `text` and runs its setup; follows the first permutation when there is one.
    pub fn new(text: &str, check: Option<Check>) -> Result<Sandbox, LoadError> {
        let mut loading = Sandbox::begin(text, check)?;
        while !loading.run_next()? {}
        Ok(loading.into_sandbox())
    }

    /// Parses `text` and lists its permutations; the setup is still to run ([`Loading`]).
    pub fn begin(text: &str, check: Option<Check>) -> Result<Loading, LoadError> {
        let spec = Arc::new(Spec::parse(text).map_err(LoadError::Spec)?);
        let permutations = spec.permutations_to_run();
        let starting = PermutationRun::starting(Arc::clone(&spec), RunOptions::default())
            .map_err(LoadError::Setup)?;
        Ok(Loading {
            text: text.to_string(),
            spec,
            permutations,
            check,
            starting,
        })
    }

    /// The tester now.
    pub fn run(&self) -> &PermutationRun {
        self.history.current()
    }

    /// The run's history: how many copies it keeps, for the bounds' tests.
    pub fn history(&self) -> &History {
        &self.history
    }

    /// Follows another plan, from the start.
    pub fn set_plan(&mut self, plan: Plan) {
        self.plan = plan;
        self.reset();
    }

    /// The permutation the plan follows, if it follows one.
    pub fn permutation(&self) -> Option<&Permutation> {
        match (&self.plan, &self.permutations) {
            (Plan::Permutation(i), Ok(list)) => list.get(*i),
            _ => None,
        }
    }

    /// The move Step takes, if any is left.
    pub fn next_move(&self) -> Option<MoveKind> {
        let run = self.run();
        if run.is_finished() {
            return None;
        }
        if self.moves.len() >= MOVES_MAX {
            return Some(MoveKind::Finish);
        }
        let launched = run.launched().len();
        match self.permutation() {
            Some(p) => match p.entries.get(launched) {
                Some(entry) => Some(MoveKind::Launch(entry.clone())),
                None => Some(MoveKind::Finish),
            },
            None => {
                // Round-robin over the sessions, from the one after the last step launched.
                let count = self.spec.sessions.len();
                let after = run
                    .launched()
                    .last()
                    .and_then(|e| self.spec.step(&e.step))
                    .map_or(0, |(s, _)| s + 1);
                (0..count)
                    .map(|k| (after + k) % count)
                    .find_map(|s| self.next_step_of(s))
                    .map(|step| {
                        MoveKind::Launch(PermutationEntry {
                            step,
                            markers: Vec::new(),
                        })
                    })
                    .or(Some(MoveKind::Finish))
            }
        }
    }

    /// A session's next step by hand: the one after its last step launched, in declaration
    /// order; none once its last step was launched.
    fn next_step_of(&self, session: usize) -> Option<String> {
        let steps = &self.spec.sessions[session].steps;
        let last = self
            .run()
            .launched()
            .iter()
            .rev()
            .find_map(|e| steps.iter().position(|s| s.name == e.step));
        let next = last.map_or(0, |i| i + 1);
        steps.get(next).map(|s| s.name.clone())
    }

    /// Takes a move; false when the run has ended, or when it is a launch and the run has
    /// reached [`MOVES_MAX`] (it can still be ended).
    pub fn take(&mut self, kind: MoveKind) -> bool {
        let full = self.moves.len() >= MOVES_MAX && kind != MoveKind::Finish;
        if self.run().is_finished() || full {
            return false;
        }
        let body_before = self.run().body().len();
        let printed_before = self.run().printed().len();
        let (result, events) = self.history.take(kind.clone());
        let output = self.run().body()[body_before..].to_string();
        let printed = self.run().printed()[printed_before..].to_vec();
        let waits = self
            .lanes()
            .into_iter()
            .enumerate()
            .filter(|(_, lane)| lane.why.is_some())
            .map(|(i, lane)| (i, lane.blockers))
            .collect();
        self.moves.push(Move {
            kind,
            output,
            printed,
            events,
            error: result.err(),
            waits,
        });
        true
    }

    /// Takes the move Step would take; false when nothing is left.
    pub fn step(&mut self) -> bool {
        match self.next_move() {
            Some(kind) => self.take(kind),
            None => false,
        }
    }

    /// Launches a step chosen by hand; if it is not what the plan would launch next, the plan
    /// becomes [`Plan::ByHand`] (keeping the moves so far).
    pub fn launch_by_hand(&mut self, step: &str) -> bool {
        if self.spec.step(step).is_none() || self.moves.len() >= MOVES_MAX {
            return false;
        }
        let planned = matches!(self.next_move(), Some(MoveKind::Launch(e)) if e.step == step);
        if planned {
            return self.step();
        }
        self.plan = Plan::ByHand;
        self.take(MoveKind::Launch(PermutationEntry {
            step: step.to_string(),
            markers: Vec::new(),
        }))
    }

    /// Ends the permutation now.
    pub fn finish(&mut self) -> bool {
        self.take(MoveKind::Finish)
    }

    /// Undoes the last move exactly.
    pub fn back(&mut self) -> bool {
        if self.moves.is_empty() {
            return false;
        }
        self.moves.pop();
        self.history.truncate(self.moves.len());
        true
    }

    /// Back to just after the setup.
    pub fn reset(&mut self) {
        self.history.truncate(0);
        self.moves.clear();
    }

    /// What isolationtester prints for this run so far: the permutation header names the whole
    /// permutation when one is followed (as the tester prints it before running it), or the
    /// steps launched so far when they are picked by hand.
    pub fn output(&self) -> String {
        let run = self.run();
        let launched = Permutation {
            entries: run.launched().to_vec(),
        };
        let following = self
            .permutation()
            .filter(|p| p.entries.starts_with(run.launched()));
        let mut out = table::spec_header(self.spec.sessions.len());
        out.push_str(&table::permutation_header(following.unwrap_or(&launched)));
        out.push_str(run.body());
        out
    }

    /// The session's name for each backend; the control connection that runs the global
    /// setup is `setup`.
    pub fn pid_names(&self) -> LiteMap<Pid, String> {
        let run = self.run();
        let mut names = LiteMap::new_vec();
        for (pid, s) in run.session_pids().iter().zip(&self.spec.sessions) {
            names.insert(*pid, s.name.clone());
        }
        names.insert(run.control_pid(), "setup".to_string());
        names
    }

    /// The session a step belongs to.
    pub fn session_of(&self, step: &str) -> Option<usize> {
        self.spec.step(step).map(|(s, _)| s)
    }

    /// Every session's lane.
    pub fn lanes(&self) -> Vec<Lane> {
        let run = self.run();
        let server = run.server();
        let names = self.pid_names();
        let progress = run.progress();
        let pids = run.session_pids();
        let by_hand = self.plan == Plan::ByHand;
        self.spec
            .sessions
            .iter()
            .enumerate()
            .map(|(i, session)| {
                let pid = pids[i];
                let state = server.state(pid);
                let (why, blockers) = match &state {
                    SessionState::Waiting(reason) => {
                        let holders: Vec<String> = reason
                            .blockers
                            .iter()
                            .map(|p| names.get(p).cloned().unwrap_or_else(|| p.to_string()))
                            .collect();
                        let mut why = format!(
                            "waits for {} on {}",
                            lockstep::server::locks::mode_name(reason.mode),
                            reason.tag
                        );
                        if let Some((table, ctid)) = &reason.row {
                            why.push_str(&format!(" (row ({},{}) of {table})", ctid.0, ctid.1));
                        }
                        if holders.is_empty() {
                            why.push_str(", queued behind earlier waiters");
                        } else {
                            why.push_str(&format!(", held by {}", holders.join(", ")));
                        }
                        let blockers = reason
                            .blockers
                            .iter()
                            .filter_map(|p| pids.iter().position(|q| q == p))
                            .collect();
                        (Some(why), blockers)
                    }
                    _ => (None, Vec::new()),
                };
                let state_text = match &state {
                    SessionState::Idle => "idle".to_string(),
                    SessionState::Active => "active".to_string(),
                    SessionState::IdleInTransaction => "idle in transaction".to_string(),
                    SessionState::IdleInTransactionAborted => {
                        "idle in transaction (aborted)".to_string()
                    }
                    SessionState::Waiting(_) => "waiting".to_string(),
                    SessionState::Terminated(e) => format!("terminated: {}", e.message),
                };
                let failed = matches!(
                    state,
                    SessionState::IdleInTransactionAborted | SessionState::Terminated(_)
                );
                Lane {
                    name: session.name.clone(),
                    pid,
                    steps: session.steps.iter().map(|s| s.name.clone()).collect(),
                    next: if by_hand { self.next_step_of(i) } else { None },
                    waiting_step: match &progress[i] {
                        SessionProgress::Waiting { step } => Some(step.clone()),
                        SessionProgress::Idle => None,
                    },
                    state: state_text,
                    failed,
                    why,
                    blockers,
                }
            })
            .collect()
    }

    /// The PostgreSQL errors the sessions got so far: `(session, error)`.
    pub fn errors(&self) -> Vec<(String, server::PgError)> {
        let names = self.pid_names();
        self.moves
            .iter()
            .flat_map(|m| m.events.iter())
            .filter_map(|e| match e {
                server::Event::Error { pid, error } => Some((
                    names.get(pid).cloned().unwrap_or_else(|| pid.to_string()),
                    error.clone(),
                )),
                _ => None,
            })
            .collect()
    }

    /// Runs the example's check on a copy of the server; `Err` names what is wrong. `None`
    /// without a check or before the permutation has ended.
    pub fn check_result(&self) -> Option<Result<(), String>> {
        let check = self.check?;
        let run = self.run();
        if !run.is_finished() {
            return None;
        }
        let mut server = run.server().clone();
        let mut events = Vec::new();
        let now: Instant = run.now();
        let pid = match server.connect(now, &mut events) {
            Ok(pid) => pid,
            Err(e) => return Some(Err(format!("the check could not connect: {e}"))),
        };
        server.submit(pid, check.sql, now, &mut events);
        server.run(pid, now, &mut events);
        let Some(outcome) = server.take_outcome(pid) else {
            return Some(Err(format!("the check `{}` did not finish", check.sql)));
        };
        if let Some(e) = outcome.error {
            return Some(Err(format!("the check `{}` failed: {e}", check.sql)));
        }
        let rows: Vec<Vec<String>> = match outcome.results.last() {
            Some(StatementResult::Rows { rows, .. }) => rows
                .iter()
                .map(|r| {
                    r.iter()
                        .map(|v| v.clone().unwrap_or_else(|| "NULL".into()))
                        .collect()
                })
                .collect(),
            _ => Vec::new(),
        };
        let shown = if rows.is_empty() {
            "no rows".to_string()
        } else {
            rows.iter()
                .map(|r| r.join(", "))
                .collect::<Vec<_>>()
                .join("; ")
        };
        let holds = match check.expect {
            Expect::Rows(expected) => {
                rows.len() == expected.len()
                    && rows.iter().zip(expected).all(|(row, want)| {
                        row.len() == want.len() && row.iter().zip(want.iter()).all(|(a, b)| a == b)
                    })
            }
            Expect::SomeRow => !rows.is_empty(),
        };
        Some(if holds {
            Ok(())
        } else {
            Err(format!("{} returns {shown}, but {}", check.sql, check.rule))
        })
    }

    /// How the run stands.
    pub fn outcome(&self) -> Outcome {
        if self.moves.is_empty() {
            return Outcome::Ready;
        }
        let errors = self.errors();
        let victims: Vec<String> = errors
            .iter()
            .filter(|(_, e)| e.is_deadlock_detected())
            .map(|(who, _)| who.clone())
            .collect();
        let run = self.run();
        if !run.is_finished() {
            return Outcome::Running;
        }
        if let Some(why) = self.moves.iter().find_map(|m| m.error.clone()) {
            return Outcome::Stalled { why };
        }
        let cancelled = self
            .moves
            .iter()
            .flat_map(|m| m.printed.iter())
            .find(|p| matches!(p.what, Report::Cancelled { .. }));
        if let Some(piece) = cancelled {
            return Outcome::Stalled {
                why: format!(
                    "{}: it waited for a lock that was never released",
                    piece.text.trim_end()
                ),
            };
        }
        if !victims.is_empty() {
            return Outcome::DeadlockDetected { victims };
        }
        let failures: Vec<String> = errors
            .iter()
            .map(|(who, e)| format!("{who}: {}", e.message))
            .collect();
        if let Some(Err(why)) = self.check_result() {
            if failures.is_empty() {
                return Outcome::Anomaly { why };
            }
            return Outcome::Anomaly {
                why: format!("{why} (errors: {})", failures.join("; ")),
            };
        }
        if !failures.is_empty() {
            return Outcome::Failed { failures };
        }
        Outcome::Completed
    }

    /// One sentence for the status element: the outcome, or what the last move did.
    pub fn narration(&self) -> String {
        let outcome = self.outcome();
        match &outcome {
            Outcome::Ready => {
                "ready — press Step to follow the permutation, or click a session's step to run it"
                    .to_string()
            }
            Outcome::Running if self.moves.len() >= MOVES_MAX => format!(
                "running — the run has taken {MOVES_MAX} moves, its limit: Step ends the permutation"
            ),
            Outcome::Running => {
                let last = self
                    .moves
                    .last()
                    .map(|m| self.describe(m))
                    .unwrap_or_default();
                let deadlock = self
                    .moves
                    .last()
                    .into_iter()
                    .flat_map(|m| m.events.iter())
                    .any(|e| matches!(e, server::Event::Error { error, .. } if error.is_deadlock_detected()));
                if deadlock {
                    format!("running — {last}; deadlock detected, PostgreSQL aborted a transaction")
                } else {
                    format!("running — {last}")
                }
            }
            Outcome::DeadlockDetected { victims } => format!(
                "deadlock detected — PostgreSQL aborted the transaction of {}",
                victims.join(", ")
            ),
            Outcome::Stalled { why } => format!("stalled — {why}"),
            Outcome::Failed { failures } => format!("failed — {}", failures.join("; ")),
            Outcome::Anomaly { why } => format!("anomaly — every step succeeded, yet {why}"),
            Outcome::Completed => match self.check {
                Some(check) => format!("completed — every step succeeded and {}", check.rule),
                None => "completed — every step succeeded".to_string(),
            },
        }
    }

    /// A move in words: `s1 ran s1a`, `s2a is <waiting ...>`.
    pub fn describe(&self, m: &Move) -> String {
        match &m.kind {
            MoveKind::Finish => "the permutation ends".to_string(),
            MoveKind::Launch(entry) => {
                let session = self
                    .session_of(&entry.step)
                    .map(|s| self.spec.sessions[s].name.clone())
                    .unwrap_or_default();
                let waiting = m.printed.iter().any(|p| {
                    matches!(&p.what, Report::Launched { step, waiting: true } if *step == entry.step)
                });
                if waiting {
                    format!("{session} launched {} and it is <waiting ...>", entry.step)
                } else {
                    format!("{session} ran {}", entry.step)
                }
            }
        }
    }
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
