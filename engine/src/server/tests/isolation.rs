//! Transactions and isolation: what each level sees and refuses, failed blocks, savepoints, SET,
//! and serializability.

use super::*;

#[test]
fn read_committed_rechecks_the_new_version_after_waiting() {
    let mut h =
        Harness::new("CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 10);");
    let a = h.connect();
    let b = h.connect();
    h.ok(a, "BEGIN; UPDATE t SET v = 11 WHERE id = 1");
    assert_eq!(h.exec(b, "UPDATE t SET v = 100 WHERE v = 10"), None);
    h.ok(a, "COMMIT");
    let out = h.settle(b).unwrap();
    assert_eq!(
        out.results,
        vec![StatementResult::Command {
            tag: "UPDATE 0".into()
        }]
    );
    assert_eq!(h.rows(a, "SELECT v FROM t"), vec![vec!["11".to_string()]]);
}

#[test]
fn repeatable_read_fails_on_a_concurrent_update() {
    let mut h =
        Harness::new("CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 10);");
    let a = h.connect();
    let b = h.connect();
    h.ok(b, "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT * FROM t");
    h.ok(a, "BEGIN; UPDATE t SET v = 11 WHERE id = 1");
    assert_eq!(h.exec(b, "UPDATE t SET v = v + 1 WHERE id = 1"), None);
    h.ok(a, "COMMIT");
    let err = h.settle(b).unwrap().error.unwrap();
    assert_eq!(err.code, "40001");
    assert_eq!(
        err.message,
        "could not serialize access due to concurrent update"
    );
    // Reads keep seeing the snapshot... after the error the block is aborted.
    let err = h.exec(b, "SELECT 1").unwrap().error.unwrap();
    assert_eq!(err.code, "25P02");
    h.ok(b, "ROLLBACK");
}

#[test]
fn read_skew_is_visible_at_read_committed_but_not_repeatable_read() {
    let setup = "CREATE TABLE acct (id text PRIMARY KEY, balance int);
        INSERT INTO acct VALUES ('a', 50), ('b', 50);";
    for (level, expect) in [("READ COMMITTED", "60"), ("REPEATABLE READ", "50")] {
        let mut h = Harness::new(setup);
        let r = h.connect();
        let w = h.connect();
        h.ok(r, &format!("BEGIN ISOLATION LEVEL {level}"));
        assert_eq!(
            h.rows(r, "SELECT balance FROM acct WHERE id = 'a'"),
            vec![vec!["50".to_string()]]
        );
        h.ok(w, "BEGIN; UPDATE acct SET balance = 40 WHERE id = 'a'; UPDATE acct SET balance = 60 WHERE id = 'b'; COMMIT");
        assert_eq!(
            h.rows(r, "SELECT balance FROM acct WHERE id = 'b'"),
            vec![vec![expect.to_string()]]
        );
    }
}

#[test]
fn a_failed_transaction_block_ignores_commands_until_rollback() {
    let mut h = Harness::new(WIDGETS);
    let a = h.connect();
    h.ok(a, "BEGIN");
    assert!(h
        .exec(a, "SELECT nope FROM widget")
        .unwrap()
        .error
        .is_some());
    assert_eq!(h.srv.state(a), SessionState::IdleInTransactionAborted);
    let err = h.exec(a, "SELECT 1").unwrap().error.unwrap();
    assert_eq!(
        err.to_string(),
        "ERROR:  current transaction is aborted, commands ignored until end of transaction block"
    );
    // COMMIT of a failed block reports ROLLBACK.
    assert_eq!(
        h.ok(a, "COMMIT"),
        vec![StatementResult::Command {
            tag: "ROLLBACK".into()
        }]
    );
    assert_eq!(h.srv.state(a), SessionState::Idle);
}

#[test]
fn rollback_to_savepoint_releases_the_row_locks_taken_after_it() {
    let mut h = Harness::new(WIDGETS);
    let a = h.connect();
    let b = h.connect();
    h.ok(a, "BEGIN; SELECT * FROM widget WHERE id = 1 FOR KEY SHARE; SAVEPOINT s; SELECT * FROM widget WHERE id = 1 FOR UPDATE");
    assert_eq!(
        h.exec(b, "SELECT * FROM widget WHERE id = 1 FOR SHARE"),
        None
    );
    h.ok(a, "ROLLBACK TO s");
    // Only the KEY SHARE lock is left, which FOR SHARE does not conflict with.
    assert_eq!(h.settle(b).unwrap().error, None);
}

#[test]
fn set_inside_a_rolled_back_transaction_is_undone() {
    let mut h = Harness::new(WIDGETS);
    let a = h.connect();
    h.ok(a, "BEGIN; SET lock_timeout = '5s'");
    assert_eq!(h.rows(a, "SHOW lock_timeout"), vec![vec!["5s".to_string()]]);
    h.ok(a, "ROLLBACK");
    assert_eq!(h.rows(a, "SHOW lock_timeout"), vec![vec!["0".to_string()]]);
    h.ok(a, "BEGIN; SET lock_timeout = '5s'; COMMIT");
    assert_eq!(h.rows(a, "SHOW lock_timeout"), vec![vec!["5s".to_string()]]);
}

#[test]
fn serializable_write_skew_fails_the_second_committer() {
    let mut h = Harness::new(
        "CREATE TABLE oncall (doctor text PRIMARY KEY, on_call boolean);
         INSERT INTO oncall VALUES ('alice', true), ('bob', true);",
    );
    let a = h.connect();
    let b = h.connect();
    for p in [a, b] {
        h.ok(p, "BEGIN ISOLATION LEVEL SERIALIZABLE");
        assert_eq!(
            h.rows(p, "SELECT count(*) FROM oncall WHERE on_call"),
            vec![vec!["2".to_string()]]
        );
    }
    h.ok(
        a,
        "UPDATE oncall SET on_call = false WHERE doctor = 'alice'",
    );
    h.ok(b, "UPDATE oncall SET on_call = false WHERE doctor = 'bob'");
    h.ok(a, "COMMIT");
    let err = h.exec(b, "COMMIT").unwrap().error.unwrap();
    assert_eq!(err.code, "40001");
    assert_eq!(
        err.message,
        "could not serialize access due to read/write dependencies among transactions"
    );
    assert_eq!(
        err.hint.as_deref(),
        Some("The transaction might succeed if retried.")
    );
    // At REPEATABLE READ the same schedule commits both: write skew goes unnoticed.
    let mut h = Harness::new(
        "CREATE TABLE oncall (doctor text PRIMARY KEY, on_call boolean);
         INSERT INTO oncall VALUES ('alice', true), ('bob', true);",
    );
    let a = h.connect();
    let b = h.connect();
    for p in [a, b] {
        h.ok(
            p,
            "BEGIN ISOLATION LEVEL REPEATABLE READ; SELECT count(*) FROM oncall WHERE on_call",
        );
    }
    h.ok(
        a,
        "UPDATE oncall SET on_call = false WHERE doctor = 'alice'",
    );
    h.ok(b, "UPDATE oncall SET on_call = false WHERE doctor = 'bob'");
    h.ok(a, "COMMIT");
    h.ok(b, "COMMIT");
}

#[test]
fn rollback_to_in_a_failed_block_looks_the_savepoint_up() {
    let mut h = Harness::new(WIDGETS);
    let a = h.connect();
    h.ok(a, "BEGIN");
    assert!(h
        .exec(a, "SELECT nope FROM widget")
        .unwrap()
        .error
        .is_some());
    let err = h.exec(a, "ROLLBACK TO sp").unwrap().error.unwrap();
    assert_eq!(err.to_string(), "ERROR:  savepoint \"sp\" does not exist");
    assert_eq!(h.srv.state(a), SessionState::IdleInTransactionAborted);
}

/// One client of the serializability test: a SERIALIZABLE transaction's statements, and what
/// each returned while the run interleaved it with the others.
struct SerialClient {
    pid: Pid,
    script: Vec<&'static str>,
    next: usize,
    busy: bool,
    results: Vec<Rows>,
    committed: Option<bool>,
}

/// A result set's rows as text.
type Rows = Vec<Vec<Option<String>>>;

fn result_rows(out: &QueryOutcome) -> Rows {
    match out.results.last() {
        Some(StatementResult::Rows { rows, .. }) => rows.clone(),
        _ => Vec::new(),
    }
}

/// Runs the committed clients' scripts one after another, in `order`, on a fresh server: the
/// results each statement gives and the final table.
fn serial_run(
    setup: &str,
    scripts: &[&[&'static str]],
    order: &[usize],
) -> (Vec<Vec<Rows>>, Vec<Vec<String>>) {
    let mut h = Harness::new(setup);
    let pid = h.connect();
    let mut results = vec![Vec::new(); scripts.len()];
    for &i in order {
        for sql in scripts[i] {
            let out = h.exec(pid, sql).expect("a serial run never waits");
            assert_eq!(out.error, None, "serial {sql}");
            results[i].push(result_rows(&out));
        }
    }
    (results, h.rows(pid, "SELECT id, v FROM t ORDER BY id"))
}

#[test]
fn committed_serializable_transactions_match_some_serial_order() {
    // Reads and writes whose outcome depends on the order: write skew (read both rows, write
    // one), read-modify-write, inserts a range read would see, deletes.
    const STATEMENTS: [&str; 10] = [
        "SELECT sum(v) FROM t",
        "SELECT v FROM t WHERE id = 1",
        "SELECT id, v FROM t WHERE v > 15 ORDER BY id",
        "SELECT count(*) FROM t WHERE id > 2",
        "UPDATE t SET v = v * 2 WHERE id = 1",
        "UPDATE t SET v = v + 7 WHERE id = 2",
        "UPDATE t SET v = v - 3 WHERE v > 15",
        "INSERT INTO t VALUES (3, 30) ON CONFLICT (id) DO UPDATE SET v = t.v + 1",
        "DELETE FROM t WHERE id = 2",
        "INSERT INTO t VALUES (4, 40) ON CONFLICT DO NOTHING",
    ];
    let setup =
        "CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 10), (2, 20);";
    let (mut committed_total, mut aborted_total) = (0, 0);
    for seed in 0..60u64 {
        let mut rng = Lcg(seed);
        let mut h = Harness::new(setup);
        let mut clients: Vec<SerialClient> = (0..3)
            .map(|_| {
                let mut script = vec!["BEGIN ISOLATION LEVEL SERIALIZABLE"];
                for _ in 0..1 + rng.next(3) {
                    script.push(STATEMENTS[rng.next(STATEMENTS.len())]);
                }
                script.push("COMMIT");
                SerialClient {
                    pid: h.connect(),
                    script,
                    next: 0,
                    busy: false,
                    results: Vec::new(),
                    committed: None,
                }
            })
            .collect();
        for _ in 0..10_000 {
            // Collect what finished (a commit or rollback elsewhere may have woken a waiter).
            for c in clients.iter_mut().filter(|c| c.busy) {
                h.srv.run(c.pid, h.now, &mut h.events);
                let Some(out) = h.srv.take_outcome(c.pid) else {
                    continue;
                };
                c.busy = false;
                if out.error.is_some() {
                    // Deadlock, serialization failure, unique violation: the client rolls back.
                    h.srv.submit(c.pid, "ROLLBACK", h.now, &mut h.events);
                    h.srv.run(c.pid, h.now, &mut h.events);
                    let _ = h.srv.take_outcome(c.pid);
                    c.committed = Some(false);
                } else {
                    c.results.push(result_rows(&out));
                    c.next += 1;
                    if c.next == c.script.len() {
                        c.committed = Some(true);
                    }
                }
            }
            let ready: Vec<usize> = (0..clients.len())
                .filter(|&i| !clients[i].busy && clients[i].committed.is_none())
                .collect();
            if let Some(&i) = ready.get(rng.next(ready.len().max(1))) {
                let c = &mut clients[i];
                h.srv.submit(c.pid, c.script[c.next], h.now, &mut h.events);
                c.busy = true;
                h.srv.run(c.pid, h.now, &mut h.events);
            } else if clients.iter().all(|c| c.committed.is_some()) {
                break;
            } else if let Some(at) = h.srv.next_timer() {
                // Everyone left is waiting: let the deadlock check or a timeout fire.
                h.now = at;
                h.srv.fire_timers(h.now, &mut h.events);
            }
            let violations = h.srv.invariant_violations();
            assert!(violations.is_empty(), "seed {seed}: {violations:#?}");
        }
        assert!(
            clients.iter().all(|c| c.committed.is_some()),
            "seed {seed} did not finish"
        );
        let committed: Vec<usize> = (0..clients.len())
            .filter(|&i| clients[i].committed == Some(true))
            .collect();
        committed_total += committed.len();
        aborted_total += clients.len() - committed.len();
        let observer = h.connect();
        let final_rows = h.rows(observer, "SELECT id, v FROM t ORDER BY id");
        let scripts: Vec<&[&str]> = clients.iter().map(|c| c.script.as_slice()).collect();
        // Some order of the committed transactions gives every result they saw and the final
        // table (at most 3! orders).
        let mut orders: Vec<Vec<usize>> = vec![Vec::new()];
        for _ in 0..committed.len() {
            let mut longer = Vec::new();
            for order in &orders {
                for &i in committed.iter().filter(|i| !order.contains(i)) {
                    longer.push([order.clone(), vec![i]].concat());
                }
            }
            orders = longer;
        }
        let serial = orders.iter().any(|order| {
            let (results, rows) = serial_run(setup, &scripts, order);
            rows == final_rows && committed.iter().all(|&i| results[i] == clients[i].results)
        });
        assert!(
            serial,
            "seed {seed}: no serial order of {committed:?} explains {final_rows:?}; scripts {scripts:#?}"
        );
    }
    // The workload is contentious enough that SSI and deadlocks abort some, not all.
    assert!(
        committed_total > 60 && aborted_total > 10,
        "{committed_total} committed, {aborted_total} aborted"
    );
}
