//! The sandbox under hostile specs: Back is exact with periodic snapshots, the snapshots stay
//! within their bounds, the tables and the permutation picker show bounded slices.

use super::examples::example;
use super::history::{self, SNAPSHOTS_MAX, SNAPSHOT_INTERVAL, SNAPSHOT_WEIGHT_BUDGET};
use super::model::{Sandbox, MOVES_MAX};
use super::picker::{self, PERMUTATION_OPTIONS_MAX};
use crate::components::heap_tables::{rows_shown_note, ROWS_SHOWN_MAX};

/// A table of `rows` rows, each updated `updates` times in the setup, and one session whose
/// step reads a row: `rows * (updates + 1)` tuple versions before the first move.
fn heavy_spec(rows: usize, updates: usize) -> String {
    let values: Vec<String> = (1..=rows).map(|i| format!("({i}, 0)")).collect();
    let mut setup = format!(
        "CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES {};",
        values.join(", ")
    );
    for _ in 0..updates {
        setup.push_str(" UPDATE t SET v = v + 1;");
    }
    format!(
        "setup {{ {setup} }}\n\nsession s1\nstep r {{ SELECT v FROM t WHERE id = 1; }}\nstep w {{ UPDATE t SET v = v + 1 WHERE id = 2; }}\n\nsession s2\nstep b {{ BEGIN; }}\nstep u {{ UPDATE t SET v = 0 WHERE id = 2; }}\nstep c {{ COMMIT; }}\n"
    )
}

/// Every field of a tester, to compare two states exactly.
fn state(sandbox: &Sandbox) -> String {
    format!("{:?}", sandbox.run())
}

#[test]
fn back_after_snapshots_and_replay_is_the_state_a_copy_per_move_kept() {
    let ex = example("deadlock").unwrap();
    let mut sandbox = Sandbox::new(ex.text, ex.check).unwrap();
    // A copy per move, as the sandbox kept before: the reference Back must match.
    let mut full = vec![state(&sandbox)];
    let steps = ["t1_debit", "t2_debit", "t1_commit", "t2_commit"];
    for i in 0..3 * SNAPSHOT_INTERVAL + 3 {
        assert!(sandbox.launch_by_hand(steps[i % steps.len()]));
        full.push(state(&sandbox));
    }
    assert!(sandbox.finish());
    full.push(state(&sandbox));
    while sandbox.back() {
        assert_eq!(
            state(&sandbox),
            full[sandbox.moves.len()],
            "after Back to {} moves",
            sandbox.moves.len()
        );
    }
    assert_eq!(sandbox.moves.len(), 0);
    assert_eq!(state(&sandbox), full[0]);
}

#[test]
fn the_snapshots_thin_out_to_stay_within_their_budget_and_back_stays_exact() {
    // 100 rows updated 79 times: 8,000 versions per copy, so the budget holds 50 copies
    // while a run of MOVES_MAX moves would make 62.
    let text = heavy_spec(100, 79);
    let mut sandbox = Sandbox::new(&text, None).unwrap();
    let weight = history::weight(sandbox.run());
    assert!(weight >= 8_000, "{weight}");
    // The state at a few points, as the run went forward, for Back to match.
    let points = [MOVES_MAX - 1, MOVES_MAX - 15, MOVES_MAX - 30];
    let mut seen = Vec::new();
    for i in 0..MOVES_MAX {
        let step = if i % 2 == 0 { "r" } else { "w" };
        assert!(sandbox.launch_by_hand(step), "move {i}");
        if points.contains(&sandbox.moves.len()) {
            seen.push((sandbox.moves.len(), state(&sandbox)));
        }
    }
    let kept = sandbox.history().snapshots();
    let held = sandbox.history().snapshot_weight();
    assert!(kept.0 <= SNAPSHOTS_MAX, "{kept:?}");
    assert!(kept.0 <= 1 || held <= SNAPSHOT_WEIGHT_BUDGET, "{held}");
    assert!(kept.1 > SNAPSHOT_INTERVAL, "the interval grew: {kept:?}");
    // What a copy per move would hold, against what is held (printed for the record).
    let per_move: usize = weight * (MOVES_MAX + 1);
    eprintln!(
        "{MOVES_MAX} moves: {} copies every {} moves hold {held} tuple versions and events; a copy per move would hold {per_move} or more",
        kept.0, kept.1
    );
    assert!(held * 10 < per_move);
    // Back from the end to each point is the state the run had there.
    for (to, want) in seen.iter().rev() {
        while sandbox.moves.len() > *to {
            assert!(sandbox.back());
        }
        assert!(state(&sandbox) == *want, "at {to} moves");
    }
}

#[test]
fn a_long_run_keeps_far_fewer_copies_than_moves() {
    let ex = example("nowait").unwrap();
    let mut sandbox = Sandbox::new(ex.text, ex.check).unwrap();
    let steps: Vec<String> = sandbox.spec.sessions[0]
        .steps
        .iter()
        .map(|s| s.name.clone())
        .collect();
    for i in 0..MOVES_MAX {
        assert!(sandbox.launch_by_hand(&steps[i % steps.len()]));
    }
    let (kept, interval) = sandbox.history().snapshots();
    assert!(kept <= MOVES_MAX / SNAPSHOT_INTERVAL, "{kept}");
    assert!(kept <= SNAPSHOTS_MAX);
    assert_eq!(interval, SNAPSHOT_INTERVAL);
}

#[test]
fn the_tables_panel_reads_only_the_versions_it_shows() {
    let text = heavy_spec(50, 9);
    let sandbox = Sandbox::new(&text, None).unwrap();
    let heads = sandbox.run().server().tables_first(ROWS_SHOWN_MAX);
    assert_eq!(heads.len(), 1);
    assert_eq!(heads[0].0.tuples.len(), ROWS_SHOWN_MAX);
    assert_eq!(heads[0].1, 500);
    assert_eq!(
        heads[0].0.tuples[..],
        sandbox.run().server().tables()[0].tuples[..ROWS_SHOWN_MAX]
    );
    assert_eq!(
        rows_shown_note(ROWS_SHOWN_MAX, 500).as_deref(),
        Some("showing the first 100 of 500 row versions")
    );
    // A lesson's small table shows every version, with no note.
    assert_eq!(rows_shown_note(7, 7), None);
}

#[test]
fn the_picker_lists_a_bounded_slice_and_reaches_any_permutation_by_number() {
    // 2 sessions of 9 steps: C(18, 9) = 48,620 interleavings.
    let mut text = String::new();
    for s in ["a", "b"] {
        text.push_str(&format!("session {s}\n"));
        for i in 0..9 {
            text.push_str(&format!("step {s}{i} {{ SELECT {i}; }}\n"));
        }
    }
    let sandbox = Sandbox::new(&text, None).unwrap();
    let list = sandbox.permutations.as_ref().unwrap();
    assert_eq!(list.len(), 48_620);
    let first = picker::options(list, Some(0));
    assert_eq!(first.len(), PERMUTATION_OPTIONS_MAX);
    assert_eq!(first[0].index, 0);
    assert!(first[0].label.starts_with("1. a0 a1"), "{}", first[0].label);
    // A permutation past the listed ones is listed too while it is followed.
    let far = picker::options(list, Some(40_000));
    assert_eq!(far.len(), PERMUTATION_OPTIONS_MAX + 1);
    assert_eq!(far.last().unwrap().index, 40_000);
    assert!(far.last().unwrap().label.starts_with("40001. "));
    assert_eq!(picker::by_number(" 48620 ", list.len()), Some(48_619));
    assert_eq!(picker::by_number("48621", list.len()), None);
    assert_eq!(picker::by_number("0", list.len()), None);
    assert_eq!(picker::by_number("x", list.len()), None);
    assert_eq!(
        picker::count_text(list.len()),
        "48620 permutations; the first 200 are listed, type a number for any other"
    );
    // A small spec lists every permutation, as before.
    let nowait = example("nowait").unwrap();
    let small = Sandbox::new(nowait.text, None).unwrap();
    let options = picker::options(small.permutations.as_ref().unwrap(), Some(0));
    assert_eq!(options.len(), 6);
    assert_eq!(picker::count_text(6), "6 permutations");
}
