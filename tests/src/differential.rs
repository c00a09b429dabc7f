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

/// The engine's spec runner, once the engine has one. `None` until `lockstep::spec::run`
/// exists on this branch; the differential run then compares the server with itself only.
pub fn engine_runner() -> Option<Box<EngineRunner>> {
    None
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
                Some(run) => match run(&spec) {
                    Ok(output) if output == server => Verdict::Agree,
                    Ok(output) => Verdict::Diverged {
                        first_difference: pg_tester::first_difference(&server, &output),
                        engine: output,
                    },
                    Err(message) => Verdict::Diverged {
                        first_difference: format!("engine error: {message}"),
                        engine: message,
                    },
                },
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

/// Whether the engine and a single server run disagree on `spec` (used while shrinking, where
/// a second server run per candidate would double the cost).
fn diverges(conninfo: &str, spec: &Spec, engine: &EngineRunner, options: &Options) -> bool {
    let Ok(server) = pg_tester::run_spec(conninfo, spec, options) else {
        return false;
    };
    engine(spec).map_or(true, |output| output != server)
}

/// Shrinks a diverging spec: keep one diverging permutation, then drop steps (from the
/// permutation and their session) and whole sessions while the divergence remains. Bounded by
/// `attempts_max` server runs.
pub fn shrink(
    conninfo: &str,
    spec: &Spec,
    engine: &EngineRunner,
    options: &Options,
    attempts_max: usize,
) -> Spec {
    let mut attempts = 0;
    let mut current = spec.clone();
    if current.permutations.len() > 1 {
        for permutation in &spec.permutations {
            attempts += 1;
            let candidate = Spec {
                permutations: vec![permutation.clone()],
                ..spec.clone()
            };
            if diverges(conninfo, &candidate, engine, options) {
                current = candidate;
                break;
            }
        }
    }
    loop {
        let mut smaller = None;
        for candidate in smaller_specs(&current) {
            if attempts >= attempts_max {
                return current;
            }
            attempts += 1;
            if diverges(conninfo, &candidate, engine, options) {
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
    let header = "# Found by the differential tester (tests/src/differential.rs): the engine's\n\
                  # output differed from PostgreSQL's. NAME.out is the real server's output.\n\n";
    std::fs::write(format!("{dir}/{name}.spec"), format!("{header}{spec}"))?;
    std::fs::write(format!("{dir}/{name}.out"), server_output)
}
