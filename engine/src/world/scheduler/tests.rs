use super::*;
use crate::world::Scenario;
use serde_json::json;

/// Two tasks that each update two rows, in opposite orders: some schedules deadlock.
fn crossing_updates() -> World {
    let update = |first: u32, second: u32| {
        json!([
            { "line": 1, "op": "begin", "on": "db", "tx": "tx" },
            { "line": 2, "op": "exec", "on": "tx", "sql": format!("UPDATE t SET v = v + 1 WHERE id = {first}") },
            { "line": 3, "op": "exec", "on": "tx", "sql": format!("UPDATE t SET v = v + 1 WHERE id = {second}") },
            { "line": 4, "op": "commit", "tx": "tx" },
        ])
    };
    let scenario: Scenario = serde_json::from_value(json!({
        "setup": "CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 0), (2, 0);",
        "pools": [{ "name": "db", "driver": "pgxpool", "max_conns": 4 }],
        "tasks": [
            { "name": "A", "program": update(1, 2) },
            { "name": "B", "program": update(2, 1) },
        ],
        "invariants": [{ "check": "all-tasks-finished" }],
    }))
    .expect("scenario");
    World::new(&scenario).expect("world")
}

fn schedule(text: &str) -> Schedule {
    text.parse().expect("schedule")
}

#[test]
fn round_robin_takes_each_task_in_turn() {
    let mut world = crossing_updates();
    let run = run(&mut world, &mut RoundRobin, 4).unwrap();
    assert_eq!(run.schedule.to_string(), "A B A B");
}

#[test]
fn replay_takes_the_schedule_and_stops_at_its_end() {
    let mut world = crossing_updates();
    let run = run(&mut world, &mut Replay::new(schedule("A A B")), 100).unwrap();
    assert_eq!(run.schedule.to_string(), "A A B");
}

#[test]
fn replay_stops_at_a_move_that_is_not_enabled() {
    let mut world = crossing_updates();
    let run = run(&mut world, &mut Replay::new(schedule("A C B")), 100).unwrap();
    assert_eq!(run.schedule.to_string(), "A");
}

#[test]
fn a_lesson_plan_follows_its_schedule_then_goes_round_robin() {
    let plan = schedule("B B");
    let mut world = crossing_updates();
    let run = run(&mut world, &mut LessonPlan::new(&plan), 4).unwrap();
    // After B B, round-robin goes on from B: A is the next task (wrapping round).
    assert_eq!(run.schedule.to_string(), "B B A B");
    assert!(LessonPlan::new(&plan).following(&schedule("B").0));
    assert!(!LessonPlan::new(&plan).following(&schedule("A").0));
}

#[test]
fn a_seed_gives_one_schedule_and_different_seeds_differ() {
    let runs: Vec<String> = (0..8)
        .map(|seed| {
            let mut world = crossing_updates();
            run(&mut world, &mut Seeded::new(seed), 1000)
                .unwrap()
                .schedule
                .to_string()
        })
        .collect();
    let again = run(&mut crossing_updates(), &mut Seeded::new(3), 1000).unwrap();
    assert_eq!(again.schedule.to_string(), runs[3]);
    assert!(runs.iter().any(|r| r != &runs[0]), "{runs:?}");
    // Every seeded run goes on until nothing can run: to the end or to a deadlock's end.
    for seed in 0..8 {
        let mut world = crossing_updates();
        run(&mut world, &mut Seeded::new(seed), 1000).unwrap();
        assert!(world.choices().is_empty(), "seed {seed}");
    }
}

#[test]
fn the_step_budget_bounds_a_run() {
    let mut world = crossing_updates();
    let run = run(&mut world, &mut RoundRobin, 2).unwrap();
    assert_eq!(run.schedule.0.len(), 2);
}
