//! Differential testing: run generated scenarios on the real server and on the engine, report
//! the first divergence, shrink it to a minimal spec and keep it as a regression.
//!
//! The real server is the judge. Before a scenario is compared, it runs twice on the server;
//! if the two outputs differ, the scenario depends on wall-clock timing and is set aside as
//! unstable instead of being blamed on the engine.

use crate::pg_tester::{self, Options};
use crate::scenario;
use lockstep::spec::parse::{Permutation, Spec};

/// Something that runs a spec and prints isolationtester's output: the engine's spec runner.
pub type EngineRunner = dyn Fn(&Spec) -> Result<String, String>;

/// The engine's spec runner (`lockstep::spec::run`). An `Option` so a branch without a runner
/// could still run the server side alone.
pub fn engine_runner() -> Option<Box<EngineRunner>> {
    Some(Box::new(lockstep::spec::run))
}

/// What happened to one scenario.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Server and engine printed the same output.
    Agree,
    /// The server gave different outputs on two runs: timing decides, so it is not compared.
    Unstable,
    /// The server run failed (harness error); the message says why.
    ServerFailed(String),
    /// The engine printed something else; `first_difference` says where.
    Diverged {
        /// The engine's output (or its error message).
        engine: String,
        /// Where the outputs first differ.
        first_difference: String,
        /// The two lines at the first difference, without their position (see [`signature`]).
        signature: String,
    },
    /// No engine runner yet: only the server ran (twice, consistently).
    ServerOnly,
}

/// One compared scenario.
#[derive(Clone, Debug)]
pub struct Comparison {
    /// The scenario's seed (regenerate it with [`scenario::generate`]).
    pub seed: u64,
    /// The scenario.
    pub spec: Spec,
    /// The real server's output.
    pub server: String,
    /// The outcome.
    pub verdict: Verdict,
}

/// Runs `spec` on the server twice; `Ok(output)` when both runs agree, else the verdict.
pub fn run_on_server(conninfo: &str, spec: &Spec, options: &Options) -> Result<String, Verdict> {
    let first = pg_tester::run_spec(conninfo, spec, options)
        .map_err(|e| Verdict::ServerFailed(e.message))?;
    let second = pg_tester::run_spec(conninfo, spec, options)
        .map_err(|e| Verdict::ServerFailed(e.message))?;
    if first == second {
        Ok(first)
    } else {
        Err(Verdict::Unstable)
    }
}

/// How many more server runs confirm a divergence.
const CONFIRMATION_RUNS: usize = 3;

/// Whether [`CONFIRMATION_RUNS`] more server runs all print `expected`.
pub fn server_repeats(conninfo: &str, spec: &Spec, expected: &str, options: &Options) -> bool {
    (0..CONFIRMATION_RUNS).all(|_| {
        pg_tester::run_spec(conninfo, spec, options).is_ok_and(|output| output == expected)
    })
}

/// Compares one spec on the server and, if there is one, the engine.
pub fn compare(
    conninfo: &str,
    seed: u64,
    spec: Spec,
    engine: Option<&EngineRunner>,
    options: &Options,
) -> Comparison {
    let (server, verdict) = match run_on_server(conninfo, &spec, options) {
        Err(verdict) => (String::new(), verdict),
        Ok(server) => {
            let verdict = match engine {
                None => Verdict::ServerOnly,
                Some(run) => {
                    let result = run(&spec);
                    match signature(&server, &result) {
                        None => Verdict::Agree,
                        // A race inside PostgreSQL (say, two waiters woken by one ROLLBACK)
                        // can give the same output twice by chance; before blaming the
                        // engine, make sure the server really always says this.
                        Some(_) if !server_repeats(conninfo, &spec, &server, options) => {
                            Verdict::Unstable
                        }
                        Some(signature) => Verdict::Diverged {
                            first_difference: match &result {
                                Ok(output) => pg_tester::first_difference(&server, output),
                                Err(message) => format!("engine error: {message}"),
                            },
                            engine: result.unwrap_or_else(|message| message),
                            signature,
                        },
                    }
                }
            };
            (server, verdict)
        }
    };
    Comparison {
        seed,
        spec,
        server,
        verdict,
    }
}

/// What a divergence looks like, without where it is: the server's and the engine's lines at
/// the first difference, step lines reduced to their kind. Shrinking keeps a candidate only if its signature is unchanged, so it
/// cannot wander off to a different bug.
pub fn signature(server: &str, engine: &Result<String, String>) -> Option<String> {
    match engine {
        Ok(output) if output == server => None,
        Ok(output) => {
            let server_lines: Vec<&str> = server.lines().collect();
            let engine_lines: Vec<&str> = output.lines().collect();
            let at = (0..)
                .find(|&i| server_lines.get(i) != engine_lines.get(i))
                .unwrap_or(0);
            Some(format!(
                "server: {} / engine: {}",
                line_kind(server_lines.get(at).copied()),
                line_kind(engine_lines.get(at).copied())
            ))
        }
        Err(message) => Some(format!("engine error: {message}")),
    }
}

/// A line of output with what varies between specs taken out: which step it is, and its SQL.
/// Result rows and errors stay as they are.
fn line_kind(line: Option<&str>) -> String {
    // Lines that only say "the next thing happened": a missing ERROR or table shows up as one
    // of these on the other side, whichever step follows in a given spec.
    const NEXT: &str = "(next step, permutation or end)";
    let Some(line) = line else {
        return NEXT.to_string();
    };
    if line.starts_with("step ") {
        if line.ends_with("<waiting ...>") {
            "step ... <waiting ...>".to_string()
        } else if line.ends_with("<... completed>") {
            "step ... <... completed>".to_string()
        } else {
            NEXT.to_string()
        }
    } else if line.is_empty() || line.starts_with("starting permutation:") {
        NEXT.to_string()
    } else {
        line.to_string()
    }
}

/// The signature of `spec`'s divergence on one server run, if it diverges (used while
/// shrinking, where a second server run per candidate would double the cost).
fn divergence(
    conninfo: &str,
    spec: &Spec,
    engine: &EngineRunner,
    options: &Options,
) -> Option<String> {
    let server = pg_tester::run_spec(conninfo, spec, options).ok()?;
    signature(&server, &engine(spec))
}

/// Shrinks a diverging spec: keep one permutation that shows the same divergence, then drop
/// steps (from the permutation and their session) and whole sessions while it remains.
/// Bounded by `attempts_max` server runs.
pub fn shrink(
    conninfo: &str,
    spec: &Spec,
    engine: &EngineRunner,
    options: &Options,
    attempts_max: usize,
) -> Spec {
    let Some(wanted) = divergence(conninfo, spec, engine, options) else {
        return spec.clone();
    };
    let same = |candidate: &Spec| {
        divergence(conninfo, candidate, engine, options).as_ref() == Some(&wanted)
    };
    let mut attempts = 1;
    let mut current = spec.clone();
    if current.permutations.len() > 1 {
        for permutation in &spec.permutations {
            attempts += 1;
            let candidate = Spec {
                permutations: vec![permutation.clone()],
                ..spec.clone()
            };
            if same(&candidate) {
                current = candidate;
                break;
            }
        }
    }
    // Each candidate ran once on the server; a smaller spec can expose a race inside
    // PostgreSQL that the bigger one hid (say, two waiters woken by one ROLLBACK). Keep only
    // results the server repeats.
    let stable = |candidate: &Spec| {
        pg_tester::run_spec(conninfo, candidate, options)
            .is_ok_and(|output| server_repeats(conninfo, candidate, &output, options))
    };
    if !stable(&current) {
        current = spec.clone();
    }
    loop {
        let mut smaller = None;
        for candidate in smaller_specs(&current) {
            if attempts >= attempts_max {
                return current;
            }
            attempts += 1;
            if same(&candidate) && stable(&candidate) {
                smaller = Some(candidate);
                break;
            }
        }
        match smaller {
            Some(spec) => current = spec,
            None => return current,
        }
    }
}

/// Specs one step or one session smaller than `spec` (which has one permutation).
fn smaller_specs(spec: &Spec) -> Vec<Spec> {
    let mut out = Vec::new();
    if spec.sessions.len() > 1 {
        for s in 0..spec.sessions.len() {
            let names: Vec<String> = spec.sessions[s]
                .steps
                .iter()
                .map(|step| step.name.clone())
                .collect();
            let mut candidate = spec.clone();
            candidate.sessions.remove(s);
            retain_steps(&mut candidate, |name| !names.iter().any(|n| n == name));
            out.push(candidate);
        }
    }
    for session in &spec.sessions {
        // A transaction's last step stays: without it the session would keep its locks past
        // the permutation, and the control connection's teardown would wait on them.
        for step in session.steps.iter().filter(|s| !ends_transaction(&s.sql)) {
            let mut candidate = spec.clone();
            for session in &mut candidate.sessions {
                session.steps.retain(|s| s.name != step.name);
            }
            candidate.sessions.retain(|s| !s.steps.is_empty());
            if candidate.sessions.is_empty() {
                continue;
            }
            retain_steps(&mut candidate, |name| name != step.name);
            out.push(candidate);
        }
    }
    out.retain(|candidate| {
        candidate
            .permutations
            .iter()
            .all(|p: &Permutation| !p.entries.is_empty())
            && candidate.validate().is_ok()
    });
    out
}

fn ends_transaction(sql: &str) -> bool {
    let sql = sql.trim_end_matches(';').trim().to_ascii_uppercase();
    matches!(sql.as_str(), "COMMIT" | "ROLLBACK" | "ABORT" | "END")
}

fn retain_steps(spec: &mut Spec, keep: impl Fn(&str) -> bool) {
    for permutation in &mut spec.permutations {
        permutation.entries.retain(|entry| keep(&entry.step));
    }
}

/// The result of a batch.
#[derive(Clone, Debug, Default)]
pub struct BatchReport {
    /// Every scenario run, in order.
    pub comparisons: Vec<Comparison>,
}

impl BatchReport {
    /// Scenarios whose output was compared (server and engine both ran, server stable).
    pub fn compared(&self) -> usize {
        self.count(|v| matches!(v, Verdict::Agree | Verdict::Diverged { .. }))
    }

    /// Scenarios where the engine diverged.
    pub fn diverged(&self) -> Vec<&Comparison> {
        self.comparisons
            .iter()
            .filter(|c| matches!(c.verdict, Verdict::Diverged { .. }))
            .collect()
    }

    /// Count of comparisons whose verdict satisfies `f`.
    pub fn count(&self, f: impl Fn(&Verdict) -> bool) -> usize {
        self.comparisons.iter().filter(|c| f(&c.verdict)).count()
    }

    /// One summary line: `differential: N compared, N agreed, N diverged, N unstable, ...`.
    pub fn summary(&self) -> String {
        format!(
            "differential: {} scenarios, {} compared, {} agreed, {} diverged, {} unstable on the server, {} server-only, {} server errors",
            self.comparisons.len(),
            self.compared(),
            self.count(|v| *v == Verdict::Agree),
            self.diverged().len(),
            self.count(|v| *v == Verdict::Unstable),
            self.count(|v| *v == Verdict::ServerOnly),
            self.count(|v| matches!(v, Verdict::ServerFailed(_))),
        )
    }
}

/// Generates `count` scenarios from `seed` and compares each. With `stop_at_first`, stops
/// after the first divergence.
pub fn run_batch(
    conninfo: &str,
    seed: u64,
    count: u64,
    engine: Option<&EngineRunner>,
    options: &Options,
    stop_at_first: bool,
) -> BatchReport {
    let mut report = BatchReport::default();
    for index in 0..count {
        let scenario_seed = scenario::scenario_seed(seed, index);
        let spec = scenario::generate(scenario_seed);
        let comparison = compare(conninfo, scenario_seed, spec, engine, options);
        let diverged = matches!(comparison.verdict, Verdict::Diverged { .. });
        report.comparisons.push(comparison);
        if diverged && stop_at_first {
            break;
        }
    }
    report
}

/// Writes `dir/NAME.spec` and the server's output as `dir/NAME.out`.
pub fn write_regression(
    dir: &str,
    name: &str,
    spec: &Spec,
    server_output: &str,
) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let header = format!(
        "# Found by the differential tester (tests/src/differential.rs): the engine's\n\
         # output differed from PostgreSQL's. {name}.out is the real server's output.\n\n"
    );
    std::fs::write(format!("{dir}/{name}.spec"), format!("{header}{spec}"))?;
    std::fs::write(format!("{dir}/{name}.out"), server_output)
}

/// Where regression specs live: `tests/pg/regressions/`.
pub const REGRESSIONS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/pg/regressions");

/// Names in `REGRESSIONS_DIR/known-divergences.txt`: regressions whose engine fix is pending.
pub fn known_divergences() -> Vec<String> {
    std::fs::read_to_string(format!("{REGRESSIONS_DIR}/known-divergences.txt"))
        .unwrap_or_default()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect()
}

/// The signatures of the regression specs the engine still diverges on (every regression,
/// listed as known or not): a generated scenario that diverges the same way is the same bug.
pub fn regression_signatures(engine: &EngineRunner) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(REGRESSIONS_DIR) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().to_string();
            name.strip_suffix(".spec").map(str::to_string)
        })
        .collect();
    names.sort();
    names
        .iter()
        .filter_map(|name| {
            let text = std::fs::read_to_string(format!("{REGRESSIONS_DIR}/{name}.spec")).ok()?;
            let expected = std::fs::read_to_string(format!("{REGRESSIONS_DIR}/{name}.out")).ok()?;
            let spec = Spec::parse(&text).ok()?;
            signature(&expected, &engine(&spec))
        })
        .collect()
}
