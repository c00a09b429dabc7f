//! A whole spec run as isolationtester runs it: every permutation in order on one server, with
//! one connection per session for the whole spec. [`WholeRun`] takes it one piece at a time (a
//! permutation's setup, one of its steps, its end), so a caller with a frame budget — the
//! sandbox page — can spread a long run over many frames; [`run`] takes it all at once.

use super::parse::{Permutation, Spec};
use super::run::Tester;
use super::table;
use super::RunOptions;
use std::sync::Arc;

/// Parses, validates and runs a spec's text; returns the expected-file output.
pub fn run_text(text: &str) -> Result<String, String> {
    let spec = Spec::parse(text).map_err(|e| e.to_string())?;
    spec.validate()?;
    run(&spec)
}

/// Runs every permutation of `spec` and returns what isolationtester would print.
pub fn run(spec: &Spec) -> Result<String, String> {
    run_with(spec, &RunOptions::default())
}

/// [`run`] with explicit settings.
pub fn run_with(spec: &Spec, options: &RunOptions) -> Result<String, String> {
    let mut out = String::new();
    run_into(spec, options, &mut |text| out.push_str(text))?;
    Ok(out)
}

/// [`run_with`], handing the output to `write` as it is made: the header, then each
/// permutation's header and each of its steps' lines as soon as the step is reported, so a long
/// spec shows its progress (the command line prints each piece at once).
pub fn run_into(
    spec: &Spec,
    options: &RunOptions,
    write: &mut dyn FnMut(&str),
) -> Result<(), String> {
    let mut whole = WholeRun::start(Arc::new(spec.clone()), options.clone())?;
    let mut written = 0;
    loop {
        let more = whole.advance();
        write(&whole.output[written..]);
        written = whole.output.len();
        if !more? {
            return Ok(());
        }
    }
}

/// Where a [`WholeRun`] stands inside the current permutation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Stage {
    /// The permutation's setup is next.
    Setup,
    /// Its step with this index is next.
    Step(usize),
    /// Its end (waiting steps, session teardowns, the global teardown) is next.
    End,
}

/// Every permutation of a spec, run one piece per [`WholeRun::advance`]: a plain value, changed
/// only by `advance`, whose output is the same as [`run`]'s.
#[derive(Clone, Debug)]
pub struct WholeRun {
    tester: Tester,
    permutations: Vec<Permutation>,
    /// The permutation being run; `permutations.len()` once every one has ended.
    current: usize,
    stage: Stage,
    output: String,
}

impl WholeRun {
    /// Connects the sessions and lists the permutations; nothing runs yet.
    pub fn start(spec: Arc<Spec>, options: RunOptions) -> Result<WholeRun, String> {
        let output = table::spec_header(spec.sessions.len());
        let tester = Tester::new(Arc::clone(&spec), options)?;
        let permutations = spec.permutations_to_run()?;
        Ok(WholeRun {
            tester,
            permutations,
            current: 0,
            stage: Stage::Setup,
            output,
        })
    }

    /// Takes the next piece: a permutation's setup, one of its steps, or its end. `Ok(true)`
    /// while something is left; an error stops the run, as it stops isolationtester.
    pub fn advance(&mut self) -> Result<bool, String> {
        let Some(permutation) = self.permutations.get(self.current) else {
            return Ok(false);
        };
        let result = match self.stage {
            Stage::Setup => {
                self.output
                    .push_str(&table::permutation_header(permutation));
                self.stage = Stage::Step(0);
                self.tester.begin()
            }
            Stage::Step(i) => match permutation.entries.get(i) {
                Some(entry) => {
                    self.stage = Stage::Step(i + 1);
                    self.tester.launch(entry.clone())
                }
                None => {
                    self.stage = Stage::End;
                    Ok(())
                }
            },
            Stage::End => {
                self.current += 1;
                self.stage = Stage::Setup;
                let result = self.tester.finish().and_then(|()| self.tester.teardown());
                self.tester.events.clear();
                result
            }
        };
        for piece in self.tester.take_printed() {
            self.output.push_str(&piece.text);
        }
        result.map(|()| self.current < self.permutations.len())
    }

    /// Permutations that have ended.
    pub fn permutations_done(&self) -> usize {
        self.current
    }

    /// Permutations in all.
    pub fn permutations_total(&self) -> usize {
        self.permutations.len()
    }

    /// What isolationtester printed so far.
    pub fn output(&self) -> &str {
        &self.output
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_whole_run_taken_piece_by_piece_prints_what_run_prints() {
        let text = "setup { CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 0); }\n\
                    teardown { DROP TABLE t; }\n\
                    session s1\nstep w1 { BEGIN; UPDATE t SET v = 1 WHERE id = 1; }\nstep c1 { COMMIT; }\n\
                    session s2\nstep w2 { UPDATE t SET v = 2 WHERE id = 1; }\n";
        let spec = Spec::parse(text).unwrap();
        let all = run(&spec).unwrap();
        let mut whole = WholeRun::start(Arc::new(spec), RunOptions::default()).unwrap();
        assert_eq!(whole.permutations_total(), 3);
        let mut pieces = 0;
        while whole.advance().unwrap() {
            pieces += 1;
        }
        // Per permutation: its setup, its three steps, the step after the last, its end.
        assert_eq!(pieces + 1, 3 * 6);
        assert_eq!(whole.permutations_done(), 3);
        assert_eq!(whole.output(), all);
        assert!(!whole.advance().unwrap());
    }
}
