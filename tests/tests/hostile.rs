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

#[test]
fn a_spec_hands_out_its_output_step_by_step_instead_of_at_the_end() {
    let mut text = "setup { CREATE TABLE t (id int); }\nsession s1\n".to_string();
    for i in 0..5 {
        text.push_str(&format!("step c{i} {{ SELECT count(*) FROM t; }}\n"));
    }
    let spec = lockstep::spec::parse::Spec::parse(&text).unwrap();
    let options = lockstep::spec::RunOptions::default();
    let mut pieces: Vec<String> = Vec::new();
    lockstep::spec::run_into(&spec, &options, &mut |piece| pieces.push(piece.to_string())).unwrap();
    for i in 0..5 {
        let step = format!("step c{i}: SELECT count(*) FROM t;");
        let holding = pieces.iter().filter(|p| p.contains(&step)).count();
        assert_eq!(holding, 1, "{pieces:#?}");
    }
    // Each step's lines come in a piece of their own.
    assert!(
        pieces.iter().all(|p| p.matches("step c").count() <= 1),
        "{pieces:#?}"
    );
    assert_eq!(
        pieces.concat(),
        lockstep::spec::run_with(&spec, &options).unwrap()
    );
}

#[test]
fn an_endless_spec_stream_is_refused_after_spec_bytes_max_bytes() {
    let err = lockstep::spec::read_text(std::io::repeat(b'#')).unwrap_err();
    assert_eq!(
        err,
        "the spec is longer than SPEC_BYTES_MAX (1048576 bytes)"
    );
    let fits = "#".repeat(lockstep::limits::SPEC_BYTES_MAX);
    assert_eq!(lockstep::spec::read_text(fits.as_bytes()).unwrap(), fits);
}

#[test]
fn a_step_timeout_too_large_to_count_is_refused_rather_than_overflowing() {
    let err = lockstep::spec::RunOptions::with_timeout("18446744073709551615").unwrap_err();
    assert_eq!(
        err,
        "PGISOLATIONTIMEOUT=18446744073709551615: give whole seconds from 0 to \
         STEP_WAIT_SECONDS_MAX (31536000)"
    );
    assert!(lockstep::spec::RunOptions::with_timeout("soon").is_err());
    let options = lockstep::spec::RunOptions::with_timeout("5").unwrap();
    assert_eq!(
        options.step_wait_max,
        lockstep::time::Duration::from_secs(5)
    );
    // The clock's own constructors saturate instead of wrapping.
    assert_eq!(lockstep::time::Duration::from_secs(u64::MAX).0, u64::MAX);
}

#[test]
fn an_unknown_fix_is_refused_with_the_fixes_there_are() {
    let lesson = lockstep_lessons::lesson("lock-order").unwrap();
    assert_eq!(
        lesson.fix_named("nope").unwrap_err(),
        "the lesson has no fix `nope`; its fixes are order-by, retry"
    );
    assert!(lesson.fix_named("order-by").is_ok());
}

#[test]
fn an_unknown_knob_is_refused_with_the_knobs_there_are() {
    let lesson = lockstep_lessons::lesson("pool-exhaustion").unwrap();
    let err = lesson
        .scenario_at(None, &KnobValues::from([("cpus".to_string(), 2)]))
        .unwrap_err();
    assert_eq!(
        err,
        "the lesson has no knob `cpus`; its knobs are requests, max_conns"
    );
}

#[test]
fn an_unknown_task_in_a_schedule_is_refused_with_the_tasks_there_are() {
    let lesson = lockstep_lessons::lesson("lock-order").unwrap();
    let schedule: lockstep::world::Schedule = "A Z".parse().unwrap();
    let err = World::replay(&lesson.scenario(None), &schedule).unwrap_err();
    assert_eq!(
        err.to_string(),
        "move 2: no task named `Z`; the tasks are A, B"
    );
}

#[test]
fn a_move_that_cannot_run_names_its_task_not_an_index() {
    // R1's first operation fails (`x` is not a number), so R1 has finished when asked again.
    let text = COUNTER.replace(r#"of = ["0"] },"#, r#"of = ["x"] },"#);
    let broken = lesson::parse("counter/lesson.toml", &text).unwrap();
    let schedule: lockstep::world::Schedule = "R1 R1 R1".parse().unwrap();
    let err = World::replay(&broken.scenario(None), &schedule).unwrap_err();
    assert_eq!(
        err.to_string(),
        "move 2: R1 cannot run now (it waits or has finished)"
    );
}

#[test]
fn result_tables_align_by_characters_not_bytes() {
    let columns = vec!["名前".to_string(), "n".to_string()];
    let rows = vec![
        vec![Some("café".to_string()), Some("1".to_string())],
        vec![Some("tea".to_string()), Some("22".to_string())],
    ];
    assert_eq!(
        lockstep::spec::table::format_table(&columns, &rows),
        "名前  | n\n----+--\ncafé| 1\ntea |22\n(2 rows)\n\n"
    );
}

#[test]
fn a_lesson_whose_slug_differs_from_its_folder_is_refused() {
    let err = lesson::check_folder(&counter(), "counting").unwrap_err();
    assert_eq!(
        err,
        "slug `counter` differs from its folder `counting`: they must be the same"
    );
    assert!(lesson::check_folder(&counter(), "counter").is_ok());
}

#[test]
fn a_lesson_in_an_unknown_listing_language_is_refused() {
    let text = COUNTER.replace(r#"language = "go""#, r#"language = "cobol""#);
    let err = lesson::parse("counter/lesson.toml", &text).unwrap_err();
    assert_eq!(
        err.message,
        "language `cobol` is not one of go, python, elixir"
    );
}

#[test]
fn an_invariant_that_changes_data_is_refused_only_a_select_may_check() {
    let cases = [
        ("DROP TABLE t", "it is not a query"),
        ("INSERT INTO t VALUES (1)", "it is not a query"),
        ("UPDATE t SET id = 2", "it is not a query"),
        ("SELECT id FROM t FOR UPDATE", "it locks rows"),
        (
            "SELECT 1; DELETE FROM t",
            "it must be exactly one statement",
        ),
    ];
    for (query, why) in cases {
        let text = COUNTER.replace(
            r#"invariants = [{ check = "all-tasks-finished" }]"#,
            &format!(r#"invariants = [{{ check = "sql", query = "{query}", equals = "1" }}]"#),
        );
        let err = lesson::parse("counter/lesson.toml", &text).unwrap_err();
        assert_eq!(
            err.message,
            format!("invariant `{query}`: {why}; only a SELECT may check"),
        );
    }
    let text = COUNTER.replace(
        r#"invariants = [{ check = "all-tasks-finished" }]"#,
        r#"invariants = [{ check = "sql", query = "SELECT count(*) FROM t", equals = "1" }]"#,
    );
    assert!(lesson::parse("counter/lesson.toml", &text).is_ok());
}
