//! Runs isolation specs against a real PostgreSQL server the way PostgreSQL's `isolationtester`
//! does, and prints the same output (`expected/NAME.out` format).
//!
//! One connection per session plus a control connection. A step's SQL is sent without waiting
//! for the answer; the tester then polls every 10 ms until the step finishes or the control
//! connection's `pg_isolation_test_session_is_blocked(pid, '{other pids}')` says it waits on a
//! heavyweight lock. The loop below follows `run_permutation`, `try_complete_step(s)` and
//! `step_has_blocker` in `src/test/isolation/isolationtester.c` step for step, because the
//! order of `<waiting ...>` / `<... completed>` lines is what the expected files pin.
//!
//! Why `tokio-postgres` and a thread per connection: each connection lives on its own thread
//! with a single-threaded runtime, so the tester's main loop stays plain synchronous code that
//! waits on channels with timeouts, like the original's `select()`. The sync `postgres` crate's
//! `simple_query` returns all of a query string's results or only an error, but a step such as
//! `SELECT ...; UPDATE ...` must print the SELECT's table before the UPDATE's error;
//! `tokio-postgres`'s `simple_query_raw` streams each statement's result as libpq's
//! `PQgetResult` loop does, and its connection object hands us NOTICEs in order.

use futures_util::StreamExt;
use lockstep::spec::parse::{Marker, PermutationEntry, Spec};
use lockstep::spec::table;
use std::fmt;
use std::sync::mpsc;
use std::time::{Duration, Instant};
use tokio_postgres::{AsyncMessage, NoTls, SimpleQueryMessage};

/// How often a running step is checked for a lock wait, as in isolationtester.
const POLL_INTERVAL: Duration = Duration::from_millis(10);

/// Limits for one run.
#[derive(Clone, Debug)]
pub struct Options {
    /// How long one step may run before it is cancelled (isolationtester's
    /// `PGISOLATIONTIMEOUT`, 300 s upstream); after twice this the run gives up.
    pub step_wait_max: Duration,
}

impl Default for Options {
    fn default() -> Options {
        let seconds = std::env::var("PGISOLATIONTIMEOUT")
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(60);
        Options {
            step_wait_max: Duration::from_secs(seconds),
        }
    }
}

/// Why a run stopped early. The output printed so far is kept, as isolationtester's stdout
/// would be when it exits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HarnessError {
    /// What went wrong.
    pub message: String,
    /// The output up to the failure.
    pub output: String,
}

impl fmt::Display for HarnessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for HarnessError {}

/// The connection string for the test server: `LOCKSTEP_PG`, else the file that
/// `tests/pg/start.sh` writes (`target/pg/conninfo` at the workspace root). `None` when neither
/// is there.
pub fn conninfo_from_env() -> Option<String> {
    if let Ok(conninfo) = std::env::var("LOCKSTEP_PG") {
        if !conninfo.trim().is_empty() {
            return Some(conninfo.trim().to_string());
        }
    }
    let file = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/pg/conninfo");
    std::fs::read_to_string(file)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// One result of one statement, as libpq's `PQgetResult` would give it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Outcome {
    /// A statement that returned rows (`PGRES_TUPLES_OK`).
    Table { columns: Vec<String>, rows: Rows },
    /// A statement without rows (`PGRES_COMMAND_OK`, `PGRES_EMPTY_QUERY`).
    Command,
    /// An error: the text printed for it (`ERROR:  message`).
    Error(String),
}

impl Outcome {
    fn print(&self, out: &mut String) {
        match self {
            Outcome::Table { columns, rows } => out.push_str(&table::format_table(columns, rows)),
            Outcome::Command => {}
            Outcome::Error(text) => {
                out.push_str(text);
                out.push('\n');
            }
        }
    }
}

/// Rows of a result set as text, NULL as `None`.
type Rows = Vec<Vec<Option<String>>>;

/// What a connection thread reports to the tester.
enum Reply {
    /// A NOTICE (or WARNING) as libpq's notice processor receives it, ending in a newline.
    Notice(String),
    /// The query finished; these are its results in order.
    Finished(Vec<Outcome>),
}

/// One connection to the server, served by its own thread.
struct Connection {
    /// The session's name, or "control connection".
    name: String,
    /// The backend's pid, for the lock-wait query.
    pid: i32,
    requests: tokio::sync::mpsc::UnboundedSender<String>,
    replies: mpsc::Receiver<Reply>,
    cancel: tokio_postgres::CancelToken,
    /// NOTICEs received so far, for `step(other notices N)` markers.
    total_notices: u32,
    /// The permutation index of the step running on this connection, if any.
    active: Option<usize>,
    /// Results of the active step that finished but have not been reported yet.
    finished: Option<Vec<Outcome>>,
}

/// Opens a connection on a new thread and waits (bounded) until it is ready.
fn connect(conninfo: &str, name: &str) -> Result<Connection, String> {
    let (request_tx, mut request_rx) = tokio::sync::mpsc::unbounded_channel::<String>();
    let (reply_tx, reply_rx) = mpsc::channel::<Reply>();
    let (ready_tx, ready_rx) =
        mpsc::channel::<Result<(i32, tokio_postgres::CancelToken), String>>();
    let conninfo = conninfo.to_string();
    let application_name = format!("lockstep-pg-isolation/{name}");
    std::thread::Builder::new()
        .name(format!("pg {name}"))
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(runtime) => runtime,
                Err(e) => {
                    let _ = ready_tx.send(Err(format!("runtime: {e}")));
                    return;
                }
            };
            runtime.block_on(async move {
                let (client, mut connection) = match tokio_postgres::connect(&conninfo, NoTls).await
                {
                    Ok(pair) => pair,
                    Err(e) => {
                        let _ = ready_tx.send(Err(format!("connect: {e}")));
                        return;
                    }
                };
                // Drive the connection and forward NOTICEs in the order they arrive; they
                // are read before the results that follow them, so ordering is kept.
                let notices = reply_tx.clone();
                tokio::spawn(async move {
                    let mut messages =
                        futures_util::stream::poll_fn(move |cx| connection.poll_message(cx));
                    while let Some(message) = messages.next().await {
                        match message {
                            Ok(AsyncMessage::Notice(notice)) => {
                                let _ = notices.send(Reply::Notice(notice_text(&notice)));
                            }
                            Ok(_) => {}
                            Err(_) => break,
                        }
                    }
                });
                let setup = format!(
                    "SET application_name = '{}'; SELECT pg_backend_pid()",
                    application_name.replace('\'', "''")
                );
                let pid = match client.simple_query(&setup).await {
                    Ok(messages) => messages.iter().find_map(|m| match m {
                        SimpleQueryMessage::Row(row) => row.get(0).and_then(|p| p.parse().ok()),
                        _ => None,
                    }),
                    Err(e) => {
                        let _ = ready_tx.send(Err(format!("pg_backend_pid: {e}")));
                        return;
                    }
                };
                let Some(pid) = pid else {
                    let _ = ready_tx.send(Err("pg_backend_pid returned nothing".into()));
                    return;
                };
                if ready_tx.send(Ok((pid, client.cancel_token()))).is_err() {
                    return;
                }
                // Serve queries until the tester drops its sender.
                while let Some(sql) = request_rx.recv().await {
                    let outcomes = run_query(&client, &sql).await;
                    if reply_tx.send(Reply::Finished(outcomes)).is_err() {
                        break;
                    }
                }
            });
        })
        .map_err(|e| format!("thread: {e}"))?;
    let (pid, cancel) = ready_rx
        .recv_timeout(Duration::from_secs(30))
        .map_err(|_| format!("{name}: connecting timed out"))??;
    Ok(Connection {
        name: name.to_string(),
        pid,
        requests: request_tx,
        replies: reply_rx,
        cancel,
        total_notices: 0,
        active: None,
        finished: None,
    })
}

/// Runs one simple-protocol query string and collects each statement's result, stopping at
/// the first error as the server does.
async fn run_query(client: &tokio_postgres::Client, sql: &str) -> Vec<Outcome> {
    let mut outcomes = Vec::new();
    let stream = match client.simple_query_raw(sql).await {
        Ok(stream) => stream,
        Err(e) => {
            outcomes.push(Outcome::Error(error_text(&e)));
            return outcomes;
        }
    };
    let mut stream = std::pin::pin!(stream);
    // The result set being received: column names and rows so far.
    let mut current: Option<(Vec<String>, Rows)> = None;
    while let Some(message) = stream.next().await {
        match message {
            Ok(SimpleQueryMessage::RowDescription(columns)) => {
                let names = columns.iter().map(|c| c.name().to_string()).collect();
                current = Some((names, Vec::new()));
            }
            Ok(SimpleQueryMessage::Row(row)) => {
                if let Some((_, rows)) = current.as_mut() {
                    rows.push(
                        (0..row.len())
                            .map(|i| row.get(i).map(str::to_string))
                            .collect(),
                    );
                }
            }
            Ok(SimpleQueryMessage::CommandComplete(_)) => match current.take() {
                Some((columns, rows)) => outcomes.push(Outcome::Table { columns, rows }),
                None => outcomes.push(Outcome::Command),
            },
            Ok(_) => {}
            Err(e) => {
                // libpq drops the rows of a result cut short by an error and reports the error.
                outcomes.push(Outcome::Error(error_text(&e)));
                break;
            }
        }
    }
    outcomes
}

/// `SEVERITY:  primary message`, what isolationtester prints for an error (DETAIL, HINT and
/// CONTEXT may hold xids and are left out).
fn error_text(error: &tokio_postgres::Error) -> String {
    match error.as_db_error() {
        Some(db) => format!("{}:  {}", db.severity(), db.message()),
        None => error.to_string(),
    }
}

/// A notice as libpq's default verbosity formats it for a notice processor.
fn notice_text(notice: &tokio_postgres::error::DbError) -> String {
    let mut text = format!("{}:  {}\n", notice.severity(), notice.message());
    if let Some(detail) = notice.detail() {
        text.push_str(&format!("DETAIL:  {detail}\n"));
    }
    if let Some(hint) = notice.hint() {
        text.push_str(&format!("HINT:  {hint}\n"));
    }
    text
}

/// `try_complete_step` flag: return as soon as the step waits for a lock.
const STEP_NONBLOCK: u8 = 1;
/// `try_complete_step` flag: this is a retry of a step already reported as launched.
const STEP_RETRY: u8 = 2;

/// A permutation entry resolved against the spec.
struct PlannedStep {
    name: String,
    sql: String,
    session: usize,
    markers: Vec<Marker>,
    /// For `Marker::Notices`, the notice count to reach; set when the step is launched.
    notice_targets: Vec<u32>,
}

/// Runs every permutation of `spec` on the server and returns isolationtester's output.
pub fn run_spec(conninfo: &str, spec: &Spec, options: &Options) -> Result<String, HarnessError> {
    let mut tester = Tester {
        out: table::spec_header(spec.sessions.len()),
        options: options.clone(),
        control: None,
        sessions: Vec::new(),
        lock_wait_query: String::new(),
        any_new_notice: false,
        cancel_runtime: None,
    };
    match tester.run(conninfo, spec) {
        Ok(()) => Ok(tester.out),
        Err(message) => Err(HarnessError {
            message,
            output: tester.out,
        }),
    }
}

/// Parses `.spec` text and runs it with [`run_spec`].
pub fn run_spec_text(
    conninfo: &str,
    text: &str,
    options: &Options,
) -> Result<String, HarnessError> {
    let spec = Spec::parse(text).map_err(|e| HarnessError {
        message: format!("spec: {e}"),
        output: String::new(),
    })?;
    run_spec(conninfo, &spec, options)
}

struct Tester {
    out: String,
    options: Options,
    control: Option<Connection>,
    sessions: Vec<Connection>,
    lock_wait_query: String,
    any_new_notice: bool,
    /// Built on first use: cancelling a query is an async call.
    cancel_runtime: Option<tokio::runtime::Runtime>,
}

impl Tester {
    fn run(&mut self, conninfo: &str, spec: &Spec) -> Result<(), String> {
        self.control = Some(connect(conninfo, "control connection")?);
        for session in &spec.sessions {
            self.sessions.push(connect(conninfo, &session.name)?);
        }
        let pids: Vec<String> = self.sessions.iter().map(|c| c.pid.to_string()).collect();
        self.lock_wait_query = format!(
            "SELECT pg_catalog.pg_isolation_test_session_is_blocked({{pid}}, '{{{}}}')",
            pids.join(",")
        );
        for permutation in spec.permutations_to_run()? {
            let steps = permutation
                .entries
                .iter()
                .map(|entry| plan(spec, entry))
                .collect::<Result<Vec<_>, _>>()?;
            self.out.push_str(&table::permutation_header(&permutation));
            self.run_permutation(spec, steps)?;
        }
        Ok(())
    }

    fn run_permutation(&mut self, spec: &Spec, mut steps: Vec<PlannedStep>) -> Result<(), String> {
        for sql in &spec.setup {
            let outcomes = self.exec(None, sql)?;
            match outcomes.last() {
                Some(Outcome::Error(text)) => return Err(format!("setup failed: {text}")),
                Some(outcome) => outcome.print(&mut self.out),
                None => {}
            }
        }
        for (index, session) in spec.sessions.iter().enumerate() {
            if let Some(sql) = &session.setup {
                let outcomes = self.exec(Some(index), sql)?;
                match outcomes.last() {
                    Some(Outcome::Error(text)) => {
                        return Err(format!("setup of session {} failed: {text}", session.name))
                    }
                    Some(outcome) => outcome.print(&mut self.out),
                    None => {}
                }
            }
        }

        let mut waiting: Vec<usize> = Vec::new();
        for i in 0..steps.len() {
            let session = steps[i].session;
            // A session still busy with an earlier step must finish it first.
            if self.sessions[session].active.is_some() {
                let start = Instant::now();
                while let Some(old) = self.sessions[session].active {
                    if !self.try_complete_step(&steps, old, STEP_RETRY)? {
                        waiting.retain(|&w| w != old);
                    }
                    waiting =
                        self.try_complete_steps(&steps, waiting, STEP_NONBLOCK | STEP_RETRY)?;
                    if self.sessions[session].active.is_some()
                        && start.elapsed() > 2 * self.options.step_wait_max
                    {
                        return Err(format!("step {} timed out", steps[old].name));
                    }
                }
            }
            self.sessions[session]
                .requests
                .send(steps[i].sql.clone())
                .map_err(|_| format!("session {} is gone", self.sessions[session].name))?;
            self.sessions[session].active = Some(i);
            steps[i].notice_targets = steps[i]
                .markers
                .iter()
                .map(|marker| match marker {
                    Marker::Notices(blocker, n) => {
                        let blocker_session = spec.step(blocker).map_or(session, |(s, _)| s);
                        n.saturating_add(self.sessions[blocker_session].total_notices)
                    }
                    _ => 0,
                })
                .collect();
            let must_wait = self.try_complete_step(&steps, i, STEP_NONBLOCK)?;
            waiting = self.try_complete_steps(&steps, waiting, STEP_NONBLOCK | STEP_RETRY)?;
            if must_wait {
                waiting.push(i);
            }
        }
        let waiting = self.try_complete_steps(&steps, waiting, STEP_RETRY)?;
        if !waiting.is_empty() {
            return Err("failed to complete permutation due to mutually-blocking steps".into());
        }

        // Teardown errors go to stderr upstream, so they never reach the output.
        for (index, session) in spec.sessions.iter().enumerate() {
            if let Some(sql) = &session.teardown {
                if let Some(outcome @ Outcome::Table { .. }) = self.exec(Some(index), sql)?.last() {
                    outcome.print(&mut self.out);
                }
            }
        }
        if let Some(sql) = &spec.teardown {
            if let Some(outcome @ Outcome::Table { .. }) = self.exec(None, sql)?.last() {
                outcome.print(&mut self.out);
            }
        }
        Ok(())
    }

    fn connection(&mut self, session: Option<usize>) -> &mut Connection {
        match session {
            Some(index) => &mut self.sessions[index],
            None => self.control.as_mut().expect("connected before use"),
        }
    }

    /// Runs SQL and waits for all of it, like `PQexec` (bounded by twice the step limit).
    /// Notices on session connections are printed; the control connection's are dropped.
    fn exec(&mut self, session: Option<usize>, sql: &str) -> Result<Vec<Outcome>, String> {
        let limit = 2 * self.options.step_wait_max;
        let connection = self.connection(session);
        connection
            .requests
            .send(sql.to_string())
            .map_err(|_| format!("{} is gone", connection.name))?;
        let start = Instant::now();
        loop {
            let left = limit.saturating_sub(start.elapsed());
            let connection = self.connection(session);
            match connection.replies.recv_timeout(left) {
                Ok(Reply::Finished(outcomes)) => return Ok(outcomes),
                Ok(Reply::Notice(text)) => {
                    if let Some(index) = session {
                        self.note_notice(index, &text);
                    }
                }
                Err(_) => {
                    let name = connection.name.clone();
                    return Err(format!("{name}: query did not finish: {sql}"));
                }
            }
        }
    }

    fn note_notice(&mut self, session: usize, text: &str) {
        let connection = &mut self.sessions[session];
        self.out.push_str(&format!("{}: {text}", connection.name));
        connection.total_notices += 1;
        self.any_new_notice = true;
    }

    /// Asks the control connection whether `session`'s backend waits on a heavyweight lock
    /// held or awaited by one of the other sessions.
    fn is_blocked(&mut self, session: usize) -> Result<bool, String> {
        let sql = self
            .lock_wait_query
            .replace("{pid}", &self.sessions[session].pid.to_string());
        match self.exec(None, &sql)?.last() {
            Some(Outcome::Table { rows, .. }) if rows.len() == 1 => {
                Ok(rows[0].first().cloned().flatten().as_deref() == Some("t"))
            }
            other => Err(format!("lock wait query failed: {other:?}")),
        }
    }

    /// `try_complete_steps`: polls the waiting steps in the order they started waiting; the
    /// pass repeats while steps with blocker markers remain and something completed or a
    /// notice arrived.
    fn try_complete_steps(
        &mut self,
        steps: &[PlannedStep],
        mut waiting: Vec<usize>,
        flags: u8,
    ) -> Result<Vec<usize>, String> {
        loop {
            self.any_new_notice = false;
            let before = waiting.len();
            let mut have_blocker = false;
            let mut w = 0;
            while w < waiting.len() {
                if self.try_complete_step(steps, waiting[w], flags)? {
                    if !steps[waiting[w]].markers.is_empty() {
                        have_blocker = true;
                    }
                    w += 1;
                } else {
                    waiting.remove(w);
                }
            }
            if !(have_blocker && (waiting.len() < before || self.any_new_notice)) {
                return Ok(waiting);
            }
        }
    }

    /// `try_complete_step`: waits for step `i` to finish or (with `STEP_NONBLOCK`) to be seen
    /// waiting on a lock. Returns true if it is not complete (waiting, or held back by a
    /// marker), false once it has been reported.
    fn try_complete_step(
        &mut self,
        steps: &[PlannedStep],
        i: usize,
        flags: u8,
    ) -> Result<bool, String> {
        let step = &steps[i];
        let session = step.session;
        if flags & STEP_RETRY == 0 && step.markers.contains(&Marker::Star) {
            self.out
                .push_str(&table::step_waiting_line(&step.name, &step.sql));
            return Ok(true);
        }
        let start = Instant::now();
        let mut canceled = false;
        while self.sessions[session].finished.is_none() {
            match self.sessions[session].replies.recv_timeout(POLL_INTERVAL) {
                Ok(Reply::Finished(outcomes)) => self.sessions[session].finished = Some(outcomes),
                Ok(Reply::Notice(text)) => self.note_notice(session, &text),
                Err(mpsc::RecvTimeoutError::Disconnected) => {
                    return Err(format!(
                        "session {} disconnected",
                        self.sessions[session].name
                    ))
                }
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    if flags & STEP_NONBLOCK != 0 && self.is_blocked(session)? {
                        // Like PQconsumeInput after the check: take what arrived meanwhile.
                        while let Ok(reply) = self.sessions[session].replies.try_recv() {
                            match reply {
                                Reply::Finished(outcomes) => {
                                    self.sessions[session].finished = Some(outcomes)
                                }
                                Reply::Notice(text) => self.note_notice(session, &text),
                            }
                        }
                        if self.sessions[session].finished.is_some() {
                            break;
                        }
                        if flags & STEP_RETRY == 0 {
                            self.out
                                .push_str(&table::step_waiting_line(&step.name, &step.sql));
                        }
                        return Ok(true);
                    }
                    let waited = start.elapsed();
                    if waited > self.options.step_wait_max && !canceled {
                        self.cancel(session)?;
                        self.out.push_str(&format!(
                            "isolationtester: canceling step {} after {} seconds\n",
                            step.name,
                            waited.as_secs()
                        ));
                        canceled = true;
                    }
                    if waited > 2 * self.options.step_wait_max {
                        return Err(format!(
                            "step {} timed out after {} seconds",
                            step.name,
                            waited.as_secs()
                        ));
                    }
                }
            }
        }
        if self.step_has_blocker(steps, i) {
            if flags & STEP_RETRY == 0 {
                self.out
                    .push_str(&table::step_waiting_line(&step.name, &step.sql));
            }
            return Ok(true);
        }
        if flags & STEP_RETRY != 0 {
            self.out.push_str(&table::step_completed_line(&step.name));
        } else {
            self.out.push_str(&table::step_line(&step.name, &step.sql));
        }
        let outcomes = self.sessions[session].finished.take().unwrap_or_default();
        for outcome in &outcomes {
            outcome.print(&mut self.out);
        }
        self.sessions[session].active = None;
        Ok(false)
    }

    /// `step_has_blocker`: a `(other)` marker holds while `other` is the active step of its
    /// session; a `(other notices N)` marker holds until that session sent N more notices.
    fn step_has_blocker(&self, steps: &[PlannedStep], i: usize) -> bool {
        let step = &steps[i];
        step.markers
            .iter()
            .enumerate()
            .any(|(m, marker)| match marker {
                Marker::Star => false,
                Marker::After(other) => self.sessions.iter().any(|connection| {
                    connection
                        .active
                        .is_some_and(|active| steps[active].name == *other)
                }),
                Marker::Notices(other, _) => {
                    steps.iter().find(|s| s.name == *other).is_some_and(|s| {
                        self.sessions[s.session].total_notices < step.notice_targets[m]
                    })
                }
            })
    }

    fn cancel(&mut self, session: usize) -> Result<(), String> {
        if self.cancel_runtime.is_none() {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .map_err(|e| format!("runtime: {e}"))?;
            self.cancel_runtime = Some(runtime);
        }
        let token = self.sessions[session].cancel.clone();
        let runtime = self.cancel_runtime.as_ref().expect("built above");
        let result = runtime.block_on(async {
            tokio::time::timeout(Duration::from_secs(10), token.cancel_query(NoTls)).await
        });
        match result {
            Ok(Ok(())) => Ok(()),
            Ok(Err(e)) => Err(format!("cancel failed: {e}")),
            Err(_) => Err("cancel timed out".into()),
        }
    }
}

fn plan(spec: &Spec, entry: &PermutationEntry) -> Result<PlannedStep, String> {
    let (session, step) = spec
        .step(&entry.step)
        .ok_or_else(|| format!("undefined step \"{}\" specified in permutation", entry.step))?;
    Ok(PlannedStep {
        name: step.name.clone(),
        sql: step.sql.clone(),
        session,
        markers: entry.markers.clone(),
        notice_targets: Vec::new(),
    })
}

/// The result of checking a directory of specs against their expected files.
#[derive(Clone, Debug, Default)]
pub struct CheckReport {
    /// One line per spec: `ok NAME`, `FAIL NAME: ...` or `skip NAME`.
    pub lines: Vec<String>,
    /// Specs whose output equals `NAME.out` byte for byte.
    pub passed: usize,
    /// Specs whose output differs or that could not run.
    pub failed: usize,
    /// Specs named in `skip`.
    pub skipped: usize,
}

/// Runs every `*.spec` in `specs_dir` (sorted by name) and compares the output byte for byte
/// with `expected_dir/NAME.out` only: the `NAME_1.out` alternatives are for other default
/// isolation levels. Each actual output is also written to `target/pg/out/NAME.out`.
pub fn check_directory(
    conninfo: &str,
    specs_dir: &str,
    expected_dir: &str,
    skip: &[String],
    options: &Options,
) -> CheckReport {
    let mut report = CheckReport::default();
    let mut names: Vec<String> = match std::fs::read_dir(specs_dir) {
        Ok(entries) => entries
            .filter_map(Result::ok)
            .filter_map(|e| {
                let name = e.file_name().to_string_lossy().to_string();
                name.strip_suffix(".spec").map(str::to_string)
            })
            .collect(),
        Err(e) => {
            report.lines.push(format!("FAIL {specs_dir}: {e}"));
            report.failed += 1;
            return report;
        }
    };
    names.sort();
    let out_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../target/pg/out");
    let _ = std::fs::create_dir_all(out_dir);
    for name in names {
        if skip.contains(&name) {
            report.lines.push(format!("skip {name}"));
            report.skipped += 1;
            continue;
        }
        let spec_text = std::fs::read_to_string(format!("{specs_dir}/{name}.spec"));
        let expected = std::fs::read_to_string(format!("{expected_dir}/{name}.out"));
        let (spec_text, expected) = match (spec_text, expected) {
            (Ok(s), Ok(e)) => (s, e),
            (Err(e), _) | (_, Err(e)) => {
                report.lines.push(format!("FAIL {name}: {e}"));
                report.failed += 1;
                continue;
            }
        };
        let started = Instant::now();
        let (actual, error) = match run_spec_text(conninfo, &spec_text, options) {
            Ok(output) => (output, None),
            Err(e) => (e.output.clone(), Some(e.message)),
        };
        let _ = std::fs::write(format!("{out_dir}/{name}.out"), &actual);
        let seconds = started.elapsed().as_secs_f64();
        if actual == expected && error.is_none() {
            report.lines.push(format!("ok {name} ({seconds:.1}s)"));
            report.passed += 1;
        } else {
            let why = error.unwrap_or_else(|| first_difference(&expected, &actual));
            report.lines.push(format!("FAIL {name}: {why}"));
            report.failed += 1;
        }
    }
    report
}

/// Where two outputs first differ, as one line for a report.
pub fn first_difference(expected: &str, actual: &str) -> String {
    let expected_lines: Vec<&str> = expected.split_inclusive('\n').collect();
    let actual_lines: Vec<&str> = actual.split_inclusive('\n').collect();
    for index in 0..expected_lines.len().max(actual_lines.len()) {
        let e = expected_lines.get(index).copied();
        let a = actual_lines.get(index).copied();
        if e != a {
            return format!(
                "line {}: expected {:?}, got {:?}",
                index + 1,
                e.unwrap_or("<end>"),
                a.unwrap_or("<end>")
            );
        }
    }
    "outputs are equal".to_string()
}
