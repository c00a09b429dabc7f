//! One seeded schedule is the same natively and in WASM. The engine promises that a scenario
//! and a schedule give the same trace everywhere; a seeded scheduler adds its pseudo-random
//! picks, which must not depend on the platform either. This test runs natively (`cargo test`)
//! and as WASM under Node (`make wasm-unit`), against the same pinned schedules.

use lockstep::lesson::KnobValues;
use lockstep::world::scheduler::{run, Seeded};
use lockstep::world::World;

/// The schedule seed `seed` picks in `lesson`'s bug, and how the run ends.
fn seeded(lesson: &str, seed: u64) -> (String, String) {
    let lesson = lockstep_lessons::lesson(lesson).expect("lesson");
    let scenario = lesson
        .scenario_at(None, &KnobValues::new())
        .expect("scenario");
    let mut world = World::new(&scenario).expect("world");
    let taken = run(&mut world, &mut Seeded::new(seed), 10_000).expect("run");
    let verdict = world.outcome(&taken.events).verdict.headline("task");
    (taken.schedule.to_string(), verdict)
}

#[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
#[cfg_attr(not(target_arch = "wasm32"), test)]
fn a_seeded_schedule_is_the_same_natively_and_in_wasm() {
    let got: Vec<(String, String)> = [
        ("lock-order", 7),
        ("pool-exhaustion", 42),
        ("read-skew", 2026),
    ]
    .into_iter()
    .map(|(lesson, seed)| seeded(lesson, seed))
    .collect();
    assert_eq!(got, pinned());
}

fn pinned() -> Vec<(String, String)> {
    [
        (
            "B A A B A B A A B B B A B B B B B B B B B B B B B B B B B B A A A A B A A A A A A A A A A A A A A A A",
            "Every task finished and the data is right.",
        ),
        (
            "R2 R4 R3 R1 R3 R3 R2 R1 R2 R3 R4 R2 R1 R4 R1 R4",
            "R1, R2, R3 and R4 each hold a connection from pool db and wait for another: the pool is empty and nothing will give one back.",
        ),
        ("T T H H T T H T H H T H T T T T T T T T", "Every task finished and the data is right."),
    ]
    .into_iter()
    .map(|(schedule, verdict)| (schedule.to_string(), verdict.to_string()))
    .collect()
}
