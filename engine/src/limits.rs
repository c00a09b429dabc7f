//! Every bound Lockstep puts on its input, in one place. Lessons, specs, SQL and schedules come
//! from files, pasted text and URLs, and the engine runs in a browser tab: each bound keeps a
//! hostile or mistaken input from taking unbounded memory, time or stack. Each is checked
//! where the input enters (a parser, `Scenario::validate`, the server's entry points), and the
//! error names the limit, so a user who meets one knows which it was.
//!
//! The values are far above anything a lesson or PostgreSQL's own isolation specs need.

/// Bytes of one SQL query string: a spec step or setup block, a lesson's setup, a statement a
/// task sends. PostgreSQL's isolation specs are well under 4 KB per block.
pub const SQL_BYTES_MAX: usize = 64 * 1024;

/// How deeply one SQL expression may nest: operators, NOT, unary minus, casts, parentheses,
/// function calls and IN lists. The parser, the evaluator and even dropping a syntax tree
/// recurse over it, so depth, unlike length, costs stack.
pub const EXPRESSION_DEPTH_MAX: usize = 64;

/// Bytes of one `.spec` file. Upstream specs are a few KB.
pub const SPEC_BYTES_MAX: usize = 1 << 20;

/// Bytes of one lesson file. The longest lesson is under 20 KB.
pub const LESSON_BYTES_MAX: usize = 256 * 1024;

/// Sessions: the `session`s of a spec, and backends open at once on the simulated server
/// (whatever `max_connections` says).
pub const SESSIONS_MAX: usize = 1000;

/// Tasks of a scenario, counting every instance of a task with `count`.
pub const TASKS_MAX: u32 = 1000;

/// Ops of one task's program, counting the bodies of `defer`s.
pub const PROGRAM_LENGTH_MAX: usize = 1000;

/// Steps of one run: the entries of one spec permutation, and the depth to which the explorer
/// follows a schedule (its default `depth_max`).
pub const STEPS_PER_RUN_MAX: usize = 10_000;

/// Permutations generated for a spec without `permutation` lines. Interleavings grow
/// factorially; past this a spec must list its own.
pub const PERMUTATIONS_MAX: usize = 100_000;

/// Steps of all the permutations generated for a spec without `permutation` lines, together:
/// two sessions of a few thousand steps have few interleavings, but each is long.
pub const PERMUTATION_STEPS_TOTAL_MAX: usize = 2_000_000;

/// Tuple versions in one table's heap. Every inserted row and every updated version takes one,
/// and PostgreSQL never reuses them within a lesson (no VACUUM). Unique checks and scans walk
/// the heap, so this also bounds the work of one statement.
pub const ROWS_PER_TABLE_MAX: usize = 10_000;

/// Moves of one schedule (a URL's `schedule=`, a lesson's `bug_schedule`, a replay).
pub const SCHEDULE_LENGTH_MAX: usize = 100_000;

/// Distinct states one exploration records by default (its `states_max`): every lesson needs
/// far fewer, and the bookkeeping stays a few tens of MB for a browser tab. The search stops
/// there and says it was not complete.
pub const EXPLORER_STATES_MAX: usize = 1_000_000;

/// Moves one click on a lane may take: a beat goes on while the task does only detail, and a
/// task that loops without doing anything a learner would name must not hold the tab.
pub const BEAT_MOVES_MAX: usize = 10_000;

/// Distinct states the search for a challenge's shortest schedule of clicks records: a click is
/// a whole beat, so lessons need a few thousand; past this `lockstep check` calls the challenge
/// unsolvable within the budget rather than search on.
pub const CHALLENGE_STATES_MAX: usize = 200_000;

/// Wall-clock seconds `lockstep check` gives one search (a scenario, or a challenge) before it
/// stops it and says it did not finish: lessons take well under a second each, and a scenario
/// whose state grows without end must not hold the command line. The command line applies it,
/// between slices of the search; the engine has no clock.
pub const CHECK_SECONDS_PER_SEARCH: u64 = 60;

/// The depth to which `lockstep check` follows a schedule (its `depth_max`): the lessons' deepest
/// schedule takes about 150 steps, and the search keeps one world per step of the schedule it is
/// on, so a scenario whose world grows with every step costs memory in the square of this.
pub const CHECK_DEPTH_MAX: usize = 2_000;

/// The most contexts a run may create (a `context` op in a loop would otherwise grow the
/// world without bound).
pub const CONTEXTS_MAX: usize = 10_000;

/// The most seconds `PGISOLATIONTIMEOUT` may give a blocked spec step (a year): the virtual
/// clock counts microseconds in 64 bits, and a deadline this far off still fits beside any time
/// a run reaches.
pub const STEP_WAIT_SECONDS_MAX: u64 = 365 * 24 * 60 * 60;

/// How many times the isolation tester waits for timers for one step before giving up, so that
/// a wrong blocking annotation in a spec cannot loop forever.
pub const SPEC_STEP_WAITS_MAX: usize = 10_000;

// Bounds on loops inside the engine. None of these can be reached by a correct engine on valid
// input; each turns what would be an endless loop (an engine bug) into an internal error or a
// stop, so that no input can hang a tab or the command line.

/// How often one statement goes round again on one row within a step: a newer version to
/// follow after a concurrent update, or a unique-key conflict re-checked after its inserter
/// finished.
pub const ROW_RETRIES_MAX: usize = 64;

/// The longest update chain (versions of one row) a row operation walks.
pub const UPDATE_CHAIN_LENGTH_MAX: usize = 1000;

/// Rows a scan may pass over without a unit of work (rows that do not match) in one step.
pub const ROWS_SKIPPED_PER_STEP_MAX: usize = 100_000;

/// Units of work one backend may do in one `Server::run` call.
pub const BACKEND_UNITS_PER_RUN_MAX: usize = 1_000_000;

/// Rounds of the spec runner's settling after a step: each round runs every runnable backend
/// until it blocks or ends, and wakes the ones it releases. A round that runs nobody ends the
/// settling; two backends that kept waking each other would be an engine bug, not a hang.
pub const SPEC_SETTLE_ROUNDS_MAX: usize = 10_000;

/// Timers fired by one `Server::fire_timers` call.
pub const TIMERS_PER_FIRING_MAX: usize = 10_000;

/// Micro-steps of one driver call taken in one world step.
pub const CALL_MICRO_STEPS_MAX: usize = 10_000;

/// Soft edges one deadlock check reorders at once (PostgreSQL sizes its arrays by
/// MaxBackends); past it the check stops reordering and calls the wait a deadlock.
pub const DEADLOCK_CONSTRAINTS_MAX: usize = 64;

/// Configurations and nodes one deadlock check visits, so that a check over many waiters stays
/// one step's work; past it the check calls the wait a deadlock rather than search on.
pub const DEADLOCK_WORK_MAX: usize = 100_000;

// Bounds the explorer's representation puts on a search.

/// States one exploration can index at all: the visited table keeps a state's index in 31 bits
/// (the top bit flags states entered with a sleep set). `states_max` is capped here.
pub const VISITED_STATES_MAX: usize = (1 << 31) - 1;

/// Choice positions of one state a sleep set can put to sleep: sleep sets are 64-bit masks, and
/// choices beyond the 64th are always explored (which is sound, only slower).
pub const SLEEP_SET_CHOICES_MAX: usize = 64;

#[cfg(test)]
mod tests {
    //! One test per limit, each through the entry point that enforces it.
    use super::*;
    use crate::server::{Server, Settings};
    use crate::spec::parse::Spec;
    use crate::time::Instant;
    use crate::world::{Scenario, Schedule, World};
    use serde_json::json;

    #[test]
    fn a_query_longer_than_sql_bytes_max_is_refused_by_name() {
        let fits = format!("SELECT 1{}", " ".repeat(SQL_BYTES_MAX - 8));
        assert!(crate::sql::parse(&fits).is_ok());
        let long = format!("{fits} ");
        let err = crate::sql::parse(&long).unwrap_err();
        assert!(err.message.contains("SQL_BYTES_MAX (65536)"), "{err}");
        assert_eq!((err.line, err.column), (1, 1));
    }

    #[test]
    fn expressions_deeper_than_expression_depth_max_are_refused_at_the_place() {
        let depth = |n: usize| {
            [
                format!("SELECT {}1{}", "(".repeat(n), ")".repeat(n)),
                format!("SELECT 1{}", " + 1".repeat(n)),
                format!("SELECT {}true", "NOT ".repeat(n)),
                format!("SELECT {}1", "- ".repeat(n)),
                format!("SELECT 1{}", "::int".repeat(n)),
                format!("SELECT {}1{}", "coalesce(".repeat(n), ")".repeat(n)),
                format!("SELECT 1 IN ({}1{})", "2 IN (".repeat(n), ")".repeat(n)),
            ]
        };
        for sql in depth(EXPRESSION_DEPTH_MAX / 2 - 1) {
            assert!(crate::sql::parse(&sql).is_ok(), "{sql}");
        }
        for sql in depth(EXPRESSION_DEPTH_MAX + 1) {
            let err = crate::sql::parse(&sql).unwrap_err();
            assert!(
                err.message.contains("EXPRESSION_DEPTH_MAX (64)"),
                "{sql}: {err}"
            );
            assert_eq!(err.line, 1);
            assert!(err.column > 7, "{sql}: {err}");
        }
        // Far deeper input fails the same way instead of exhausting the stack.
        for sql in depth(20_000) {
            assert!(crate::sql::parse(&sql).is_err());
        }
    }

    #[test]
    fn a_spec_longer_than_spec_bytes_max_is_refused_by_name() {
        let err = Spec::parse(&"#".repeat(SPEC_BYTES_MAX + 1)).unwrap_err();
        assert!(err.message.contains("SPEC_BYTES_MAX"), "{err}");
    }

    #[test]
    fn a_spec_sql_block_longer_than_sql_bytes_max_is_refused_at_its_line() {
        let text = format!(
            "setup {{ CREATE TABLE t (id int); }}\n\nsession s1\nstep a {{ SELECT '{}' }}\n",
            "x".repeat(SQL_BYTES_MAX)
        );
        let err = Spec::parse(&text).unwrap_err();
        assert!(err.message.contains("SQL_BYTES_MAX"), "{err}");
        assert_eq!(err.line, 4);
    }

    #[test]
    fn a_spec_with_more_than_sessions_max_sessions_is_refused_at_the_extra_one() {
        let mut text = String::new();
        for i in 0..=SESSIONS_MAX {
            text.push_str(&format!("session s{i}\nstep a{i} {{ SELECT 1; }}\n"));
        }
        let err = Spec::parse(&text).unwrap_err();
        assert!(err.message.contains("SESSIONS_MAX (1000)"), "{err}");
        assert_eq!(err.line, 2 * SESSIONS_MAX as u32 + 1);
    }

    #[test]
    fn the_server_opens_no_more_than_sessions_max_backends() {
        let mut server = Server::new(Settings {
            max_connections: 5000,
            ..Settings::default()
        });
        let mut events = Vec::new();
        for _ in 0..SESSIONS_MAX {
            server
                .connect(Instant::START, &mut events)
                .expect("within the limit");
        }
        let err = server.connect(Instant::START, &mut events).unwrap_err();
        assert!(err.message.contains("SESSIONS_MAX (1000)"), "{err}");
    }

    #[test]
    fn a_permutation_longer_than_steps_per_run_max_is_refused_at_the_extra_step() {
        let text = format!(
            "session s1\nstep a {{ SELECT 1; }}\npermutation{}\n",
            " a".repeat(STEPS_PER_RUN_MAX + 1)
        );
        let err = Spec::parse(&text).unwrap_err();
        assert!(err.message.contains("STEPS_PER_RUN_MAX (10000)"), "{err}");
        assert_eq!(err.line, 3);
    }

    #[test]
    fn generated_permutations_are_bounded_in_count_and_in_total_steps() {
        let session = |name: &str, steps: usize| {
            let mut s = format!("session {name}\n");
            for i in 0..steps {
                s.push_str(&format!("step {name}_{i} {{ SELECT 1; }}\n"));
            }
            s
        };
        // 2 sessions of 9 steps: C(18, 9) = 48620 interleavings of 18 steps, under both limits.
        let fine = Spec::parse(&format!("{}{}", session("a", 9), session("b", 9))).unwrap();
        assert_eq!(fine.permutations_to_run().unwrap().len(), 48_620);
        // 3 sessions of 6 steps: 17,153,136 interleavings.
        let many = Spec::parse(&format!(
            "{}{}{}",
            session("a", 6),
            session("b", 6),
            session("c", 6)
        ))
        .unwrap();
        let err = many.permutations_to_run().unwrap_err();
        assert!(err.contains("PERMUTATIONS_MAX"), "{err}");
        // 1 + 4,999 steps: 5,000 interleavings but 25 million steps in all.
        let long = Spec::parse(&format!("{}{}", session("a", 1), session("b", 4_999))).unwrap();
        let err = long.permutations_to_run().unwrap_err();
        assert!(err.contains("PERMUTATION_STEPS_TOTAL_MAX"), "{err}");
        // One long session: one interleaving, generated without deep recursion.
        let one = Spec::parse(&session("a", 9_000)).unwrap();
        assert_eq!(one.permutations_to_run().unwrap()[0].entries.len(), 9_000);
    }

    #[test]
    fn a_lesson_file_longer_than_lesson_bytes_max_is_refused_by_name() {
        let text = "#".repeat(LESSON_BYTES_MAX + 1);
        let err = crate::lesson::parse("big.toml", &text).unwrap_err();
        assert!(err.message.contains("LESSON_BYTES_MAX"), "{err}");
        assert_eq!(err.file, "big.toml");
    }

    fn scenario(count: u32, program: serde_json::Value) -> Scenario {
        serde_json::from_value(json!({
            "setup": "CREATE TABLE t (id int PRIMARY KEY)",
            "pools": [{ "name": "db", "driver": "pgxpool" }],
            "tasks": [{ "name": "A", "count": count, "program": program }],
        }))
        .expect("scenario")
    }

    #[test]
    fn a_scenario_with_more_than_tasks_max_tasks_is_refused_by_name() {
        let program = json!([{ "line": 1, "op": "exec", "on": "db", "sql": "SELECT 1" }]);
        assert!(World::new(&scenario(TASKS_MAX, program.clone())).is_ok());
        let err = World::new(&scenario(TASKS_MAX + 1, program)).unwrap_err();
        assert!(err.to_string().contains("TASKS_MAX (1000)"), "{err}");
    }

    #[test]
    fn a_program_longer_than_program_length_max_is_refused_counting_deferred_ops() {
        let exec = json!({ "line": 1, "op": "exec", "on": "db", "sql": "SELECT 1" });
        let half = vec![exec.clone(); PROGRAM_LENGTH_MAX / 2];
        let mut program = half.clone();
        program.push(json!({ "line": 1, "op": "defer", "body": half }));
        let err = World::new(&scenario(1, json!(program))).unwrap_err();
        assert!(
            err.to_string().contains("PROGRAM_LENGTH_MAX (1000)"),
            "{err}"
        );
    }

    #[test]
    fn a_table_stops_at_rows_per_table_max_versions() {
        let mut server = Server::new(Settings::default());
        server
            .setup("CREATE TABLE t (id int PRIMARY KEY, v int)")
            .unwrap();
        let mut events = Vec::new();
        let pid = server.connect(Instant::START, &mut events).unwrap();
        let mut run = |sql: &str| {
            server.submit(pid, sql, Instant::START, &mut events);
            server.run(pid, Instant::START, &mut events);
            server.take_outcome(pid).expect("done").error
        };
        let batch = 500;
        for first in (0..ROWS_PER_TABLE_MAX - 1).step_by(batch) {
            let rows: Vec<String> = (first..(first + batch).min(ROWS_PER_TABLE_MAX - 1))
                .map(|i| format!("({i}, 0)"))
                .collect();
            let sql = format!("INSERT INTO t VALUES {}", rows.join(", "));
            assert_eq!(run(&sql), None);
        }
        // One version left: an UPDATE of one row takes it, the next one is refused.
        assert_eq!(run("UPDATE t SET v = 1 WHERE id = 0"), None);
        let err = run("UPDATE t SET v = 2 WHERE id = 0").expect("refused");
        assert_eq!(err.code, "54000");
        assert!(err.message.contains("ROWS_PER_TABLE_MAX (10000)"), "{err}");
        let err = run("INSERT INTO t VALUES (-1, 0)").expect("refused");
        assert!(err.message.contains("ROWS_PER_TABLE_MAX"), "{err}");
    }

    #[test]
    fn a_schedule_longer_than_schedule_length_max_is_refused_at_the_extra_move() {
        let fits = "A ".repeat(SCHEDULE_LENGTH_MAX);
        assert_eq!(
            fits.parse::<Schedule>().unwrap().0.len(),
            SCHEDULE_LENGTH_MAX
        );
        let err = format!("{fits}+").parse::<Schedule>().unwrap_err();
        assert!(err.message.contains("SCHEDULE_LENGTH_MAX"), "{err}");
        assert_eq!(err.column, 2 * SCHEDULE_LENGTH_MAX + 1);
    }

    #[test]
    fn a_step_timeout_beyond_step_wait_seconds_max_is_refused_by_name() {
        let fits = crate::spec::RunOptions::with_timeout(&STEP_WAIT_SECONDS_MAX.to_string());
        assert!(fits.is_ok());
        let err = crate::spec::RunOptions::with_timeout(&(STEP_WAIT_SECONDS_MAX + 1).to_string())
            .unwrap_err();
        assert!(err.contains("STEP_WAIT_SECONDS_MAX (31536000)"), "{err}");
    }

    #[test]
    fn the_explorer_budget_defaults_to_the_named_limits() {
        let limits = crate::explore::Limits::default();
        assert_eq!(limits.states_max, EXPLORER_STATES_MAX);
        assert_eq!(limits.depth_max, STEPS_PER_RUN_MAX);
    }
}
