//! The world as a model for the explorer, and the check of a lesson: the bug is found from
//! scratch, every real fix is proven over every schedule, every partial fix fails.

use super::{Budget, Explorer, Limits, Model, Report, Stop, Unlimited};
use crate::lesson::{KnobValues, Lesson};
use crate::world::{Choice, Schedule, Status, World};
use serde::Serialize;
use std::fmt;

/// What kind of failure a schedule reaches; pids, xids and times are left out on purpose, so
/// each kind is reported once with its shortest schedule.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum Failure {
    /// Nothing can run, no timer is pending, and the wait-for graph has a cycle.
    Deadlock,
    /// Nothing can run and no timer is pending: everyone waits forever.
    Stall,
    /// The invariants that do not hold once every task has finished, sorted.
    Invariants(Vec<String>),
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::Deadlock => write!(f, "deadlock (every task waits, none can move)"),
            Failure::Stall => write!(f, "stall (nothing can run and no timer is pending)"),
            Failure::Invariants(v) => write!(f, "{}", v.join("; ")),
        }
    }
}

impl Model for World {
    type Choice = Choice;
    type Failure = Failure;

    fn choices(&self, choices: &mut Vec<Choice>) {
        if matches!(self.status(), Status::Running) {
            choices.extend(World::choices(self));
        }
    }

    fn step(&mut self, choice: &Choice) {
        // The world listed this choice itself, so an error is an engine bug.
        World::step(self, *choice).expect("an enabled choice steps");
    }

    fn failure(&self) -> Option<Failure> {
        match self.status() {
            Status::Running => None,
            Status::Finished {
                mut invariant_violations,
            } => {
                if invariant_violations.is_empty() {
                    None
                } else {
                    invariant_violations.sort();
                    Some(Failure::Invariants(invariant_violations))
                }
            }
            Status::Deadlock { .. } => Some(Failure::Deadlock),
            Status::Stall { .. } => Some(Failure::Stall),
        }
    }

    /// A task's next step is local when it touches only the task itself (a jump, a scan, a
    /// sum) or is private to the task, its connection and that connection's backend
    /// ([`World::next_step_is_private`], which explains why that is sound). `Tick` is enabled
    /// only when no task can run, so it is never local.
    fn local(&self, choice: &Choice) -> bool {
        match choice {
            Choice::Task(task) => {
                self.next_step_is_local(*task) || self.next_step_is_private(*task)
            }
            Choice::Tick => false,
        }
    }

    /// Two task steps commute when either is local: a local step commutes with every step any
    /// other task can take (that is its contract). `Tick` is never enabled together with a task,
    /// so the question never pairs it with one. Steps that both touch shared things (a pool, the
    /// server) are treated as dependent, which is always sound.
    fn independent(&self, a: &Choice, b: &Choice) -> bool {
        a != b && (self.cheap_local(a) || self.cheap_local(b))
    }

    /// Identical requests (a task with `count` > 1) are interchangeable.
    const SYMMETRY: bool = true;

    /// See [`World::canonical_fingerprint`].
    fn canonical_fingerprint(&self) -> u64 {
        World::canonical_fingerprint(self)
    }
}

/// Explores one scenario of a lesson (the bug, or one fix) within `limits`.
pub fn explore(world: World, limits: Limits) -> Report<Choice, Failure> {
    Explorer::new(world, limits).run()
}

/// Explores one scenario within `limits` and `budget`. Returns the report and, when the search
/// did not finish, the budget it reached, in words ("the state budget of 1000000 states").
pub fn explore_within(
    world: World,
    limits: Limits,
    budget: &mut dyn Budget,
) -> (Report<Choice, Failure>, Option<String>) {
    let mut explorer = Explorer::new(world, limits);
    let spent = explorer.run_within(budget);
    let report = explorer.report();
    let reached = spent.or_else(|| match report.stop {
        Some(Stop::StatesMax) => Some(format!("the state budget of {} states", limits.states_max)),
        Some(Stop::DepthMax) => Some(format!("the depth budget of {} steps", limits.depth_max)),
        Some(Stop::Paused) | None => None,
    });
    (report, reached)
}

/// Prints an explored schedule (choices) as task names, the way URLs and tests spell it.
///
/// The schedule is replayed from `world`, because goroutines started by `spawn` exist (and have
/// names) only once the step that starts them has run.
pub fn schedule_text(world: &World, choices: &[Choice]) -> String {
    let mut world = world.clone();
    let moves = choices
        .iter()
        .map(|c| {
            let name = world.move_of(*c);
            World::step(&mut world, *c).expect("an explored choice steps");
            name
        })
        .collect();
    Schedule(moves).to_string()
}

/// The verdict on one scenario of a lesson.
#[derive(Clone, Debug, Serialize)]
pub struct ScenarioCheck {
    /// `None` for the bug, or the fix's slug.
    pub fix: Option<String>,
    /// The knob settings asked for on top of the fix's (one of its `fails_at`); empty for the
    /// lesson's own settings.
    pub at: KnobValues,
    /// Every knob's value in the explored scenario.
    pub knobs: KnobValues,
    /// What the lesson promises: a failure (the bug, a partial fix) or a proof (a real fix).
    pub expect_failure: bool,
    /// Whether the exploration was complete.
    pub complete: bool,
    /// When it was not: the budget it reached ("the time budget of 60 s").
    #[serde(skip_serializing_if = "Option::is_none")]
    pub budget_reached: Option<String>,
    /// Distinct states explored.
    pub states: usize,
    /// The longest schedule the search followed, in steps.
    pub depth: usize,
    /// Each failure kind found, with the shortest schedule reaching it.
    pub failures: Vec<(String, String)>,
    /// Whether some schedule ends with every task waiting for good (a deadlock or a stall), as
    /// opposed to failures found only once every task has finished (broken invariants).
    pub stuck: bool,
    /// Whether some schedule never ends (a task can loop forever), which rules out a proof.
    pub never_ends: bool,
    /// Terminal states that fail and that succeed.
    pub terminal_failing: usize,
    /// Terminal states that succeed.
    pub terminal_succeeding: usize,
    /// Whether the outcome is what the lesson promises.
    pub ok: bool,
}

impl fmt::Display for ScenarioCheck {
    /// `ok  ` or `FAIL`, then what the check found: the line `lockstep check` prints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mark = if self.ok { "ok  " } else { "FAIL" };
        write!(f, "{mark} {}", self.says())
    }
}

impl ScenarioCheck {
    /// What the check found, in a sentence that starts with the scenario ("fix order-by at
    /// requests = 5: proven: ...").
    pub fn says(&self) -> String {
        let mut what = self
            .fix
            .as_deref()
            .map_or("bug".to_string(), |s| format!("fix {s}"));
        if !self.at.is_empty() {
            let at: Vec<String> = self.at.iter().map(|(k, v)| format!("{k} = {v}")).collect();
            what = format!("{what} at {}", at.join(", "));
        }
        if let Some((kind, schedule)) = self.failures.first() {
            format!(
                "{what}: fails: {kind}; shortest schedule `{schedule}`; {} of {} end states fail{} ({} states{})",
                self.terminal_failing,
                self.terminal_failing + self.terminal_succeeding,
                // A partial fix that still fails, but never hangs, is worth saying so.
                if self.complete && !self.stuck { ", none hangs" } else { "" },
                self.states,
                if self.complete { ", complete" } else { ", incomplete" }
            )
        } else if self.complete && self.never_ends {
            format!(
                "{what}: not proven: no schedule fails, but some never end, a task can run forever ({} states, complete)",
                self.states
            )
        } else if self.complete && self.expect_failure {
            format!(
                "{what}: no schedule fails ({} states, complete), but a failure is promised",
                self.states
            )
        } else if self.complete {
            format!(
                "{what}: proven: no schedule fails ({} states, complete)",
                self.states
            )
        } else {
            format!(
                "{what}: not finished: {} states explored, {} reached; the scenario may not terminate",
                self.states,
                self.budget_reached.as_deref().unwrap_or("a budget")
            )
        }
    }
}

/// Checks the bug and every fix of a lesson, and every fix again at each knob setting where it is
/// known to fail (its `fails_at`).
pub fn check_lesson(lesson: &Lesson, limits: Limits) -> Result<Vec<ScenarioCheck>, String> {
    check_lesson_within(lesson, limits, &mut Unlimited)
}

/// [`check_lesson`], each exploration also within `budget`: a search it stops is reported as
/// not finished, never as proven.
pub fn check_lesson_within(
    lesson: &Lesson,
    limits: Limits,
    budget: &mut dyn Budget,
) -> Result<Vec<ScenarioCheck>, String> {
    let mut runs: Vec<(Option<&crate::lesson::Fix>, KnobValues)> = vec![(None, KnobValues::new())];
    for fix in &lesson.fixes {
        runs.push((Some(fix), KnobValues::new()));
        runs.extend(fix.fails_at.iter().map(|at| (Some(fix), at.clone())));
    }
    let mut out = Vec::new();
    for (fix, at) in runs {
        let slug = fix.map(|f| f.slug.as_str());
        let scenario = lesson.scenario_at(slug, &at)?;
        let mut knobs = lesson.knob_values(slug);
        knobs.extend(at.iter().map(|(k, &v)| (k.clone(), v)));
        let world = World::new(&scenario).map_err(|e| e.to_string())?;
        budget.begin(&what(lesson, slug, &at));
        let (report, budget_reached) = explore_within(world.clone(), limits, budget);
        let expect_failure = !at.is_empty() || fix.is_none_or(|f| !f.proven);
        let failures: Vec<(String, String)> = report
            .failures
            .iter()
            .map(|found| {
                (
                    found.failure.to_string(),
                    schedule_text(&world, &found.schedule),
                )
            })
            .collect();
        let stuck = report
            .failures
            .iter()
            .any(|found| matches!(found.failure, Failure::Deadlock | Failure::Stall));
        let ok = if expect_failure {
            !failures.is_empty()
        } else {
            report.proven()
        };
        out.push(ScenarioCheck {
            fix: fix.map(|f| f.slug.clone()),
            at,
            knobs,
            expect_failure,
            complete: report.complete,
            budget_reached,
            states: report.states_unique,
            depth: report.depth_max,
            failures,
            stuck,
            never_ends: report.never_ends(),
            terminal_failing: report.terminal_states.failing,
            terminal_succeeding: report.terminal_states.succeeding,
            ok,
        });
    }
    Ok(out)
}

/// "lock-order fix order-by at requests = 5": a scenario of a lesson, for progress lines.
fn what(lesson: &Lesson, fix: Option<&str>, at: &KnobValues) -> String {
    let mut what = format!(
        "{} {}",
        lesson.slug,
        fix.map_or("bug".into(), |f| format!("fix {f}"))
    );
    for (knob, value) in at {
        what.push_str(&format!(" {knob} = {value}"));
    }
    what
}

impl World {
    fn cheap_local(&self, choice: &Choice) -> bool {
        matches!(choice, Choice::Task(t) if self.next_step_is_local(*t))
    }
}
