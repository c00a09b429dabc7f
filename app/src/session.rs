//! The one place engine state lives in the UI: a lesson, its fix, the start world and one
//! snapshot per step taken, so that Back is an exact undo.

use lockstep::lesson::KnobValues;
use lockstep::server::{self, Pid};
use lockstep::world::{Choice, Event, Move, Schedule, Status, TaskId, TaskState, World};
use lockstep_lessons::Lesson;
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};

/// One step taken: the move and what happened.
#[derive(Clone, Debug)]
pub struct Step {
    /// The move, as a schedule writes it.
    pub mv: Move,
    /// The events it produced.
    pub events: Vec<Event>,
    /// Unique: a redone step keeps its id, a step of a forked run or another session gets a
    /// new one, so that views can key on it and render only the steps that changed.
    pub id: u64,
}

/// A lesson being played.
#[derive(Clone, Debug)]
pub struct Session {
    /// The lesson.
    pub lesson: &'static Lesson,
    /// The applied fix, if any.
    pub fix: Option<String>,
    /// The knobs the learner turned away from the fix's setting or the default.
    pub knobs: KnobValues,
    /// `worlds[i]` is the world after `i` steps; never empty.
    worlds: Vec<World>,
    /// The steps taken, one per world after the first.
    pub steps: Vec<Step>,
    /// Steps undone by Back or the scrubber, with the world after each, the next one last:
    /// Step redoes them in order, and any other move drops them (the run forks).
    future: Vec<(World, Step)>,
    /// The lesson's default schedule, followed by Step while the learner has not diverged.
    bug_schedule: Schedule,
    /// Whether some step so far is one Step would not have taken (a lane click), so that the
    /// address must carry the moves rather than a step count.
    pub chosen: bool,
}

/// The id the next new step gets, in any session: a new session (another fix, new knobs) must
/// not reuse the ids of the one it replaces.
static NEXT_STEP_ID: AtomicU64 = AtomicU64::new(0);

/// How a run stands, in the words the status banner uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Nothing taken yet.
    Ready,
    /// Some task can run or a timer is pending.
    Running,
    /// PostgreSQL detected a deadlock and aborted a victim.
    DeadlockDetected { victims: Vec<String> },
    /// Nothing can run: a cycle nobody breaks.
    Deadlock { explanation: Vec<String> },
    /// Nothing can run, without a cycle.
    Stalled { explanation: Vec<String> },
    /// Every task ended, some with an error.
    Failed { failures: Vec<String> },
    /// Every task ended, but an invariant does not hold.
    Anomaly { violations: Vec<String> },
    /// Every task returned without error.
    Completed,
}

impl Outcome {
    /// Whether the run has ended.
    pub fn is_final(&self) -> bool {
        !matches!(self, Outcome::Ready | Outcome::Running)
    }

    /// Whether the run ended showing a bug.
    pub fn is_bug(&self) -> bool {
        self.is_final() && *self != Outcome::Completed
    }
}

impl Session {
    /// A fresh session of `lesson` with `fix` applied (an unknown fix is ignored).
    #[cfg(test)]
    pub fn new(lesson: &'static Lesson, fix: Option<&str>) -> Result<Session, String> {
        Session::with_knobs(lesson, fix, &KnobValues::new())
    }

    /// A fresh session with `fix` applied and knobs set; unknown knobs, values out of range and
    /// values equal to what the fix or the default sets anyway are dropped.
    pub fn with_knobs(
        lesson: &'static Lesson,
        fix: Option<&str>,
        knobs: &KnobValues,
    ) -> Result<Session, String> {
        let fix = fix.filter(|f| lesson.fix(f).is_some()).map(str::to_string);
        let base = lesson.knob_values(fix.as_deref());
        let knobs: KnobValues = knobs
            .iter()
            .filter(|(name, value)| {
                lesson
                    .knob(name)
                    .is_some_and(|k| (k.min..=k.max).contains(*value))
                    && base.get(*name) != Some(*value)
            })
            .map(|(name, value)| (name.clone(), *value))
            .collect();
        let scenario = lesson.scenario_at(fix.as_deref(), &knobs)?;
        let world = World::new(&scenario).map_err(|e| e.to_string())?;
        let bug_schedule = lesson
            .schedule_for(fix.as_deref())
            .parse()
            .unwrap_or_default();
        Ok(Session {
            lesson,
            fix,
            knobs,
            worlds: vec![world],
            steps: Vec::new(),
            future: Vec::new(),
            bug_schedule,
            chosen: false,
        })
    }

    /// The world now.
    pub fn world(&self) -> &World {
        self.worlds
            .last()
            .expect("a session always holds its start world")
    }

    /// Every knob's value now: the learner's, else the fix's setting, else the default.
    pub fn knob_values(&self) -> KnobValues {
        let mut values = self.lesson.knob_values(self.fix.as_deref());
        values.extend(self.knobs.iter().map(|(k, v)| (k.clone(), *v)));
        values
    }

    /// The world before the first step: what "check every schedule" explores.
    pub fn start_world(&self) -> &World {
        &self.worlds[0]
    }

    /// The schedule taken so far.
    pub fn schedule(&self) -> Schedule {
        Schedule(self.steps.iter().map(|s| s.mv.clone()).collect())
    }

    /// The choice Step takes: the next undone step while there is one (Step redoes the run),
    /// otherwise [`Session::planned_choice`].
    pub fn next_choice(&self) -> Option<Choice> {
        let world = self.world();
        if let Some((_, redo)) = self.future.last() {
            let choices = world.choices();
            let redo = match &redo.mv {
                Move::Tick => Some(Choice::Tick),
                Move::Task(name) => world.task_named(name).map(Choice::Task),
            };
            if let Some(c) = redo.filter(|c| choices.contains(c)) {
                return Some(c);
            }
        }
        self.planned_choice()
    }

    /// The choice Step takes on a fresh run: the lesson's schedule while the learner follows
    /// it and its next move is enabled, otherwise the next enabled task after the last one run
    /// (round-robin).
    fn planned_choice(&self) -> Option<Choice> {
        let world = self.world();
        let choices = world.choices();
        if choices.is_empty() {
            return None;
        }
        let taken = self.steps.len();
        let following = taken < self.bug_schedule.0.len()
            && self
                .steps
                .iter()
                .zip(&self.bug_schedule.0)
                .all(|(s, m)| s.mv == *m);
        if following {
            let planned = match &self.bug_schedule.0[taken] {
                Move::Tick => Some(Choice::Tick),
                Move::Task(name) => world.task_named(name).map(Choice::Task),
            };
            if let Some(c) = planned.filter(|c| choices.contains(c)) {
                return Some(c);
            }
        }
        let last = self.steps.iter().rev().find_map(|s| match &s.mv {
            Move::Task(name) => world.task_named(name),
            Move::Tick => None,
        });
        let after_last = choices.iter().copied().find(|c| match (c, last) {
            (Choice::Task(t), Some(l)) => *t > l,
            _ => false,
        });
        after_last.or_else(|| choices.first().copied())
    }

    /// Takes `choice`; false when it is not enabled. Taking the next undone step redoes it
    /// from its snapshot; any other move drops the undone steps.
    pub fn take(&mut self, choice: Choice) -> bool {
        let mv = self.world().move_of(choice);
        let off_plan = self.planned_choice() != Some(choice);
        if self.future.last().is_some_and(|(_, redo)| redo.mv == mv) {
            if let Some((world, step)) = self.future.pop() {
                self.chosen |= off_plan;
                self.worlds.push(world);
                self.steps.push(step);
                return true;
            }
        }
        if !self.world().choices().contains(&choice) {
            return false;
        }
        self.chosen |= off_plan;
        let mut world = self.world().clone();
        match world.step(choice) {
            Ok(events) => {
                self.future.clear();
                self.worlds.push(world);
                let id = NEXT_STEP_ID.fetch_add(1, Ordering::Relaxed);
                self.steps.push(Step { mv, events, id });
                true
            }
            Err(_) => false,
        }
    }

    /// Takes the next step Step would take; false when nothing can run.
    pub fn step(&mut self) -> bool {
        match self.next_choice() {
            Some(c) => self.take(c),
            None => false,
        }
    }

    /// Runs `task` next, if it can run.
    pub fn run_task(&mut self, task: TaskId) -> bool {
        self.world().choices().contains(&Choice::Task(task)) && self.take(Choice::Task(task))
    }

    /// Undoes the last step exactly; Step (or the scrubber) can redo it.
    pub fn back(&mut self) -> bool {
        if !self.undo() {
            return false;
        }
        self.chosen = self.diverges();
        true
    }

    fn undo(&mut self) -> bool {
        match (self.steps.pop(), self.worlds.len() > 1) {
            (Some(step), true) => {
                let world = self.worlds.pop().expect("a world per step");
                self.future.push((world, step));
                true
            }
            (Some(step), false) => {
                self.steps.push(step);
                false
            }
            (None, _) => false,
        }
    }

    /// Moves to `position` steps into the run (the steps taken plus those undone), exactly,
    /// from snapshots.
    pub fn seek(&mut self, position: usize) {
        while self.steps.len() > position && self.undo() {}
        self.chosen = self.diverges();
        while self.steps.len() < position {
            let Some(choice) = self.next_choice().filter(|_| self.undone() > 0) else {
                break;
            };
            self.take(choice);
        }
    }

    /// How long the run is: the steps taken plus those undone that Step would redo.
    pub fn run_len(&self) -> usize {
        self.steps.len() + self.future.len()
    }

    /// How many undone steps lie ahead.
    pub fn undone(&self) -> usize {
        self.future.len()
    }

    /// Back to the start, keeping the lesson and fix; the old run is forgotten.
    pub fn reset(&mut self) {
        self.worlds.truncate(1);
        self.steps.clear();
        self.future.clear();
        self.chosen = false;
    }

    /// Whether the steps taken differ from what pressing Step that often would give.
    fn diverges(&self) -> bool {
        let mut fresh = Session {
            lesson: self.lesson,
            fix: self.fix.clone(),
            knobs: self.knobs.clone(),
            worlds: vec![self.worlds[0].clone()],
            steps: Vec::new(),
            future: Vec::new(),
            bug_schedule: self.bug_schedule.clone(),
            chosen: false,
        };
        for step in &self.steps {
            if !fresh.step() || fresh.steps.last().map(|s| &s.mv) != Some(&step.mv) {
                return true;
            }
        }
        false
    }

    /// Replays moves from the start; stops at the first one that names no task or cannot
    /// run, and says how many were taken.
    pub fn replay(&mut self, schedule: &Schedule) -> usize {
        self.reset();
        for (taken, mv) in schedule.0.iter().enumerate() {
            let choice = match mv {
                Move::Tick => Some(Choice::Tick),
                Move::Task(name) => self.world().task_named(name).map(Choice::Task),
            };
            if !choice.is_some_and(|c| self.take(c)) {
                return taken;
            }
        }
        schedule.0.len()
    }

    /// Every event so far, oldest first.
    pub fn events(&self) -> impl DoubleEndedIterator<Item = &Event> {
        self.steps.iter().flat_map(|s| s.events.iter())
    }

    /// Which task each server process belongs to, for naming lock holders and waiters.
    pub fn pid_names(&self) -> BTreeMap<Pid, String> {
        let world = self.world();
        let mut names = BTreeMap::new();
        for conn in world.connections.values() {
            if let Some(task) = conn.holder.or(conn.locked_by) {
                if let Some(t) = world.tasks.get(task.0 as usize) {
                    names.insert(conn.pid, t.name.clone());
                }
            }
        }
        // A connection given back to its pool no longer names its task; the events still do.
        for step in &self.steps {
            for e in &step.events {
                if let Event::ConnectionOpened {
                    task: Some(t), pid, ..
                } = e
                {
                    if let Some(task) = world.tasks.get(t.0 as usize) {
                        names.entry(*pid).or_insert_with(|| task.name.clone());
                    }
                }
            }
        }
        names
    }

    /// The name of a task.
    pub fn task_name(&self, task: TaskId) -> String {
        self.world()
            .tasks
            .get(task.0 as usize)
            .map(|t| t.name.clone())
            .unwrap_or_else(|| task.to_string())
    }

    /// How the run stands.
    pub fn outcome(&self) -> Outcome {
        let world = self.world();
        match world.status() {
            Status::Running if self.steps.is_empty() => Outcome::Ready,
            Status::Running => Outcome::Running,
            Status::Deadlock { explanation, .. } => Outcome::Deadlock { explanation },
            Status::Stall { explanation } => Outcome::Stalled { explanation },
            Status::Finished {
                invariant_violations,
            } => {
                let failed: Vec<(String, String)> = world
                    .task_views()
                    .into_iter()
                    .filter_map(|t| match t.state {
                        // An answer the scenario expects (an invariant lists it) is no failure.
                        TaskState::Failed(e) if !world.error_is_expected(&e) => Some((t.name, e)),
                        _ => None,
                    })
                    .collect();
                let deadlock_detected = self.events().any(|e| {
                    matches!(e, Event::Server(server::Event::Error { error, .. }) if error.code == "40P01")
                });
                // The lesson's invariants decide, as they do for the explorer: a task that
                // answered an error the lesson expects, or a deadlock a retry survived, is fine.
                if invariant_violations.is_empty() {
                    return Outcome::Completed;
                }
                let only_failures = invariant_violations
                    .iter()
                    .all(|v| v.starts_with("no task fails"));
                if deadlock_detected {
                    Outcome::DeadlockDetected {
                        victims: failed.into_iter().map(|(n, _)| n).collect(),
                    }
                } else if !only_failures || failed.is_empty() {
                    Outcome::Anomaly {
                        violations: invariant_violations,
                    }
                } else {
                    Outcome::Failed {
                        failures: failed
                            .into_iter()
                            .map(|(n, e)| format!("{n}: {e}"))
                            .collect(),
                    }
                }
            }
        }
    }

    /// What the lesson calls its tasks: Python and Elixir run workers, Go serves requests.
    pub fn task_noun(&self) -> &'static str {
        match self.lesson.language.as_str() {
            "python" | "elixir" => "worker",
            _ => "task",
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn lock_order() -> &'static Lesson {
        lockstep_lessons::lesson("lock-order").expect("the lock-order lesson exists")
    }

    #[test]
    fn stepping_follows_the_bug_schedule_and_ends_in_a_detected_deadlock() {
        let mut session = Session::new(lock_order(), None).unwrap();
        while session.step() {}
        let bug = lock_order()
            .bug_schedule
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        assert!(
            session.schedule().to_string().starts_with(&bug),
            "schedule {} does not start with {bug}",
            session.schedule()
        );
        assert!(matches!(
            session.outcome(),
            Outcome::DeadlockDetected { .. }
        ));
    }

    #[test]
    fn with_the_order_by_fix_every_worker_completes() {
        let mut session = Session::new(lock_order(), Some("order-by")).unwrap();
        while session.step() {}
        assert_eq!(session.outcome(), Outcome::Completed);
    }

    /// `return-error` makes "already cancelled" an error answer (a 400): the lesson lists it as
    /// expected, so the run completes rather than fails, as the explorer says.
    #[test]
    fn an_expected_error_answer_is_not_a_failure() {
        let lesson = lockstep_lessons::lesson("leaked-transaction").unwrap();
        let mut session = Session::new(lesson, Some("return-error")).unwrap();
        while session.step() {}
        assert_eq!(session.outcome(), Outcome::Completed);
    }

    #[test]
    fn a_lane_click_off_the_plan_marks_the_session_chosen_and_back_clears_it() {
        let mut session = Session::new(lock_order(), None).unwrap();
        session.step();
        assert!(!session.chosen);
        let b = session.world().task_named("B").unwrap();
        assert!(session.run_task(b));
        assert!(session.chosen);
        let schedule = session.schedule();
        assert!(session.back());
        assert!(!session.chosen);
        assert_eq!(session.replay(&schedule), 2);
        assert_eq!(session.schedule(), schedule);
    }

    #[test]
    fn back_is_an_exact_undo() {
        let mut session = Session::new(lock_order(), None).unwrap();
        let start = session.world().clone();
        session.step();
        session.step();
        assert!(session.back());
        assert!(session.back());
        assert!(!session.back());
        assert_eq!(*session.world(), start);
    }

    #[test]
    fn seeking_back_and_forth_restores_each_step_exactly() {
        let mut session = Session::new(lock_order(), None).unwrap();
        let mut worlds = vec![session.world().clone()];
        for _ in 0..6 {
            session.step();
            worlds.push(session.world().clone());
        }
        session.seek(2);
        assert_eq!(*session.world(), worlds[2]);
        assert_eq!(session.run_len(), 6);
        session.seek(5);
        assert_eq!(*session.world(), worlds[5]);
        session.seek(0);
        assert_eq!(*session.world(), worlds[0]);
        assert!(session.step());
        assert_eq!(*session.world(), worlds[1], "Step redoes the undone run");
        assert_eq!(session.undone(), 5);
    }

    #[test]
    fn a_different_move_after_going_back_drops_the_old_future() {
        let mut session = Session::new(lock_order(), None).unwrap();
        for _ in 0..4 {
            session.step();
        }
        session.seek(1);
        let b = session.world().task_named("B").unwrap();
        assert!(session.run_task(b));
        assert_eq!(session.undone(), 0);
        assert_eq!(session.run_len(), 2);
        assert_eq!(session.schedule().to_string(), "A B");
        assert!(session.chosen);
    }

    #[test]
    fn a_lane_click_run_scrubbed_back_keeps_its_schedule_in_the_address() {
        let mut session = Session::new(lock_order(), None).unwrap();
        let b = session.world().task_named("B").unwrap();
        session.run_task(b);
        session.run_task(b);
        session.seek(0);
        assert!(!session.chosen);
        session.seek(2);
        assert!(session.chosen);
        assert_eq!(session.schedule().to_string(), "B B");
    }

    /// A small lesson with knobs: each request holds one pooled connection (unread rows) while
    /// it queries through a second.
    pub(crate) fn nested_pool_lesson() -> &'static Lesson {
        let text = r#"
slug = "nested"
title = "Nested"
summary = "Nested acquires."
language = "go"
story = "A test lesson."
bug_schedule = ""

[[listings]]
file = "h.go"
tasks = ["R"]
code = """
rows, _ := pool.Query(ctx, "SELECT id FROM t")
defer rows.Close()
for rows.Next() {
	rows.Scan(&id)
	more, _ := pool.Query(ctx, "SELECT id FROM t WHERE id = $1", id)
	more.Close()
}
"""

[scenario]
setup = "CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1);"
pools = [{ name = "db", driver = "pgxpool" }]
invariants = [{ check = "all-tasks-finished" }, { check = "no-task-failed" }]

[[scenario.tasks]]
name = "R"
program = [
  { line = 1, op = "query", on = "db", sql = "SELECT id FROM t", rows = "a" },
  { line = 2, op = "defer", body = [ { line = 2, op = "close", rows = "a" } ] },
  { line = 3, op = "next", rows = "a", done = "end", label = "loop" },
  { line = 4, op = "scan", rows = "a", into = ["id"] },
  { line = 5, op = "query", on = "db", sql = "SELECT id FROM t WHERE id = $1", args = ["$id"], rows = "b" },
  { line = 6, op = "close", rows = "b" },
  { line = 3, op = "goto", to = "loop" },
  { line = 7, op = "return", label = "end" },
]

[[knobs]]
name = "requests"
label = "Concurrent requests"
task = "R"
default = 2
min = 1
max = 4

[[knobs]]
name = "max_conns"
label = "MaxConns"
pool = "db"
default = 2
min = 1
max = 4
"#;
        Box::leak(Box::new(
            lockstep_lessons::parse("nested.toml", text).expect("the test lesson parses"),
        ))
    }

    #[test]
    fn knobs_set_the_scenario_and_only_meaningful_ones_are_kept() {
        let lesson = nested_pool_lesson();
        let knobs = KnobValues::from([
            ("requests".to_string(), 3),
            ("max_conns".to_string(), 2),
            ("nonsense".to_string(), 1),
        ]);
        let session = Session::with_knobs(lesson, None, &knobs).unwrap();
        assert_eq!(
            session.knobs,
            KnobValues::from([("requests".to_string(), 3)]),
            "the unknown knob and the one at its default are dropped"
        );
        assert_eq!(session.world().task_views().len(), 3);
        assert_eq!(session.knob_values()["max_conns"], 2);
        let too_many = KnobValues::from([("requests".to_string(), 99)]);
        let session = Session::with_knobs(lesson, None, &too_many).unwrap();
        assert!(session.knobs.is_empty(), "a value out of range is dropped");
    }
}
