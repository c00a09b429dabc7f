//! `lockstep run … --seed N`, as a user runs it: the command prints the schedule the seed
//! picks (the same one the WASM build picks: worker/tests/seeded.rs pins it too).

use std::process::Command;

fn lockstep(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lockstep"))
        .args(args)
        .args(["--dir", concat!(env!("CARGO_MANIFEST_DIR"), "/../lessons")])
        .output()
        .expect("lockstep runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_seed_picks_one_schedule_and_prints_it() {
    let (code, out, _) = lockstep(&["run", "lock-order", "--seed", "7"]);
    assert_eq!(code, 0);
    assert!(
        out.contains(
            "\nschedule: B A A B A B A A B B B A B B B B B B B B B B B B B B B B B B A A A A B A A A A A A A A A A A A A A A A\n"
        ),
        "{out}"
    );
    assert!(
        out.ends_with("status: Finished { invariant_violations: [] }\n"),
        "{out}"
    );
    assert_eq!(lockstep(&["run", "lock-order", "--seed", "7"]).1, out);
}

#[test]
fn a_seed_that_is_not_a_number_or_comes_with_a_schedule_is_refused() {
    let (code, _, err) = lockstep(&["run", "lock-order", "--seed", "x"]);
    assert_eq!(code, 2);
    assert!(err.contains("--seed: expected a whole number"), "{err}");
    let (code, _, err) = lockstep(&["run", "lock-order", "--seed", "1", "--schedule", "A"]);
    assert_eq!(code, 2);
    assert!(err.contains("give one or the other"), "{err}");
}
