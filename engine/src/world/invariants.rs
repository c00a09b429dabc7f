//! Checking a scenario's invariants at the end of a run.

use super::scenario::Invariant;
use super::task::Life;
use super::World;
use crate::server::StatementResult;

impl World {
    /// The invariants that do not hold now, one sentence each.
    pub fn invariant_violations(&self) -> Vec<String> {
        let mut violations = Vec::new();
        for invariant in &self.scenario().invariants {
            if let Some(why) = self.check(invariant) {
                violations.push(format!("{invariant}: {why}"));
            }
        }
        violations
    }

    /// Whether a task ending with this error text is an answer the scenario expects (a
    /// `no-task-failed` invariant lists it, e.g. a handler answering 400) rather than a failure.
    pub fn error_is_expected(&self, text: &str) -> bool {
        self.scenario().invariants.iter().any(
            |i| matches!(i, Invariant::NoTaskFailed { expected } if expected.iter().any(|e| e == text)),
        )
    }

    /// Emits one event per broken invariant (at the step that finishes the last task).
    pub(super) fn report_invariants(&self, events: &mut Vec<super::Event>) {
        for invariant in &self.scenario().invariants {
            if let Some(explanation) = self.check(invariant) {
                events.push(super::Event::InvariantViolated {
                    invariant: invariant.to_string(),
                    explanation,
                });
            }
        }
    }

    fn check(&self, invariant: &Invariant) -> Option<String> {
        match invariant {
            Invariant::AllTasksFinished => {
                let running: Vec<&str> = self
                    .tasks
                    .iter()
                    .filter(|t| matches!(t.life, Life::Running))
                    .map(|t| t.name.as_str())
                    .collect();
                (!running.is_empty()).then(|| format!("{} never finished", running.join(", ")))
            }
            Invariant::NoTaskFailed { expected } => {
                let failed: Vec<String> = self
                    .tasks
                    .iter()
                    .filter_map(|t| match &t.life {
                        // The headline only: a driver's error can go on with DETAIL, HINT and
                        // CONTEXT lines, which the task's own state keeps in full.
                        Life::Finished { error: Some(e) } if !expected.contains(&e.text) => {
                            let headline = e.text.lines().next().unwrap_or_default();
                            Some(format!("{} failed: {headline}", t.name))
                        }
                        _ => None,
                    })
                    .collect();
                (!failed.is_empty()).then(|| failed.join("; "))
            }
            Invariant::NoWorkRolledBack => {
                match self.server.transactions_rolled_back_after_work() {
                    0 => None,
                    1 => Some(
                        "1 was: its row locks and writes were thrown away (wasted work)".into(),
                    ),
                    n => Some(format!(
                        "{n} were: their row locks and writes were thrown away (wasted work)"
                    )),
                }
            }
            Invariant::Sql { query, equals } => {
                let actual = self.query_value(query);
                match actual {
                    Ok(v) if v.as_deref().unwrap_or("NULL") == equals => None,
                    Ok(v) => Some(format!("it is {}", v.as_deref().unwrap_or("NULL"))),
                    Err(e) => Some(format!("the query failed: {e}")),
                }
            }
            Invariant::Recorded { task, var, equals } => {
                let records: Vec<_> = self
                    .records
                    .iter()
                    .filter(|r| (task == "*" || &r.task == task) && &r.var == var)
                    .collect();
                if records.is_empty() {
                    return Some("nothing was recorded".into());
                }
                let wrong: Vec<String> = records
                    .iter()
                    .filter(|r| r.value.as_deref().unwrap_or("NULL") != equals)
                    .map(|r| {
                        format!(
                            "{} recorded {}",
                            r.task,
                            r.value.as_deref().unwrap_or("NULL")
                        )
                    })
                    .collect();
                (!wrong.is_empty()).then(|| wrong.join("; "))
            }
        }
    }

    /// Runs a query on a copy of the server (a fresh session) and returns the first column of
    /// the first row.
    pub fn query_value(&self, sql: &str) -> Result<Option<String>, String> {
        let mut server = self.server.clone();
        let mut events = Vec::new();
        let pid = server
            .connect(self.now, &mut events)
            .map_err(|e| format!("{}:  {}", e.severity, e.message))?;
        server.submit(pid, sql, self.now, &mut events);
        server.run(pid, self.now, &mut events);
        let outcome = server
            .take_outcome(pid)
            .ok_or("the query did not finish (it waits for a lock)")?;
        if let Some(e) = outcome.error {
            return Err(format!("{}:  {}", e.severity, e.message));
        }
        for result in outcome.results {
            if let StatementResult::Rows { rows, .. } = result {
                return Ok(rows.first().and_then(|r| r.first().cloned().flatten()));
            }
        }
        Ok(None)
    }
}
