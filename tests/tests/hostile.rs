//! Hostile and mistaken input: scenarios that never end or grow without bound, and names that do
//! not exist. Each test is one case, and asserts the verdict or message a user sees; the budgets
//! are small so every case ends in well under a second, and no test measures time.

use lockstep::analysis::challenges::{check_within, shortest_failing_within, Search};
use lockstep::explore::world::{check_lesson_within, explore_within};
use lockstep::explore::{Limits, Progress, Unlimited};
use lockstep::lesson::{self, KnobValues, Lesson};
use lockstep::world::World;

/// Two requests that count and insert forever: no state repeats, so no search ends by itself.
const COUNTER: &str = r#"
slug = "counter"
title = "Counter"
summary = "Counts forever."
language = "go"
story = "A test lesson."
bug_schedule = ""

[[listings]]
file = "h.go"
tasks = ["R"]
code = """
n := 0
for {
	n++
	db.Exec(ctx, "INSERT INTO t VALUES ($1)", n)
}
"""

[scenario]
setup = "CREATE TABLE t (id int PRIMARY KEY);"
pools = [{ name = "db", driver = "pgxpool" }]
invariants = [{ check = "all-tasks-finished" }]

[[scenario.tasks]]
name = "R"
count = 2
program = [
  { line = 1, op = "add", into = "n", of = ["0"] },
  { line = 3, op = "add", into = "n", of = ["$n", "1"], label = "loop" },
  { line = 4, op = "exec", on = "db", sql = "INSERT INTO t VALUES ($1)", args = ["$n"] },
  { line = 2, op = "goto", to = "loop" },
]

[[challenges]]
id = "make-it-fail"
kind = "make-it-fail"
title = "t"
prompt = "p"
hint = "h"
solution = "R1"
"#;

fn counter() -> Lesson {
    lesson::parse("counter/lesson.toml", COUNTER).expect("the counter lesson parses")
}

fn small_budget() -> Limits {
    Limits {
        states_max: 2_000,
        depth_max: 500,
        ..Limits::default()
    }
}

#[test]
fn a_scenario_whose_state_grows_forever_ends_not_finished_at_its_state_budget() {
    let checks = check_lesson_within(&counter(), small_budget(), &mut Unlimited).unwrap();
    let bug = &checks[0];
    assert!(!bug.ok && !bug.complete, "{bug}");
    assert_eq!(
        bug.to_string(),
        "FAIL bug: not finished: 2000 states explored, the state budget of 2000 states reached; \
         the scenario may not terminate"
    );
}

#[test]
fn a_search_its_caller_stops_between_slices_says_which_budget_it_reached() {
    // The command line stops a search on a wall clock; here the budget counts slices instead,
    // which is deterministic.
    let mut slices = 0;
    let mut budget = |_: &Progress| {
        slices += 1;
        (slices > 3).then(|| "the time budget of 1 s".to_string())
    };
    let checks = check_lesson_within(&counter(), Limits::default(), &mut budget).unwrap();
    let bug = &checks[0];
    assert!(!bug.ok && !bug.complete);
    assert_eq!(
        bug.budget_reached.as_deref(),
        Some("the time budget of 1 s")
    );
    assert!(bug.to_string().contains("not finished: "), "{bug}");
    assert!(!bug.to_string().contains("proven"), "{bug}");
}

#[test]
fn a_challenge_search_stopped_by_its_budget_is_not_finished_rather_than_unsolvable() {
    let lesson = counter();
    let mut budget = |progress: &Progress| {
        (progress.states_unique > 100).then(|| "the time budget of 1 s".to_string())
    };
    let search =
        shortest_failing_within(&lesson, None, &KnobValues::new(), 1_000_000, &mut budget).unwrap();
    assert!(
        matches!(&search, Search::NotFound { complete: false, reached: Some(r), .. } if r == "the time budget of 1 s"),
        "{search:?}"
    );
    let checked = check_within(
        &lesson,
        &lesson.challenges[0],
        Limits::default(),
        &mut budget,
    );
    assert!(!checked.ok);
    assert!(
        checked.says.starts_with("not finished: ")
            && checked.says.contains("the time budget of 1 s reached"),
        "{}",
        checked.says
    );
}

#[test]
fn a_knob_at_its_maximum_ends_not_finished_at_the_budget_instead_of_running_on() {
    let lesson = lockstep_lessons::lesson("pool-exhaustion").unwrap();
    let knob = lesson
        .knob("requests")
        .expect("the lesson has a requests knob");
    let values = KnobValues::from([("requests".to_string(), knob.max)]);
    let world = World::new(&lesson.scenario_at(None, &values).unwrap()).unwrap();
    let limits = Limits {
        states_max: 1_000,
        ..Limits::default()
    };
    let (report, reached) = explore_within(world, limits, &mut Unlimited);
    assert!(!report.complete && !report.proven());
    assert_eq!(reached.as_deref(), Some("the state budget of 1000 states"));
}

#[test]
fn a_task_that_jumps_to_itself_forever_is_still_reported_as_never_ending() {
    let text = COUNTER
        .replace(
            r#"{ line = 3, op = "add", into = "n", of = ["$n", "1"], label = "loop" },"#,
            r#"{ line = 3, op = "add", into = "n", of = ["1"], label = "loop" },"#,
        )
        .replace(
            r#"{ line = 4, op = "exec", on = "db", sql = "INSERT INTO t VALUES ($1)", args = ["$n"] },"#,
            "",
        );
    let lesson = lesson::parse("spin/lesson.toml", &text).unwrap();
    let checks = check_lesson_within(&lesson, small_budget(), &mut Unlimited).unwrap();
    let bug = &checks[0];
    assert!(bug.complete && bug.never_ends, "{bug}");
    assert!(bug.to_string().contains("not proven"), "{bug}");
}
