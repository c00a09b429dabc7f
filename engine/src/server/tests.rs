//! Server behaviour tests: each pins one PostgreSQL behaviour the lessons rely on.

use super::*;
use crate::time::{Duration, Instant};

struct Harness {
    srv: Server,
    now: Instant,
    events: Vec<Event>,
}

impl Harness {
    fn new(setup: &str) -> Harness {
        let mut srv = Server::new(Settings::default());
        srv.setup(setup).expect("setup");
        Harness {
            srv,
            now: Instant::START,
            events: Vec::new(),
        }
    }

    fn connect(&mut self) -> Pid {
        self.srv
            .connect(self.now, &mut self.events)
            .expect("connect")
    }

    /// Submits and runs until done or waiting; returns the outcome if done.
    fn exec(&mut self, pid: Pid, sql: &str) -> Option<QueryOutcome> {
        self.srv.submit(pid, sql, self.now, &mut self.events);
        self.srv.run(pid, self.now, &mut self.events);
        self.srv.take_outcome(pid)
    }

    fn ok(&mut self, pid: Pid, sql: &str) -> Vec<StatementResult> {
        let out = self.exec(pid, sql).expect("finished");
        assert_eq!(out.error, None, "{sql}");
        out.results
    }

    fn rows(&mut self, pid: Pid, sql: &str) -> Vec<Vec<String>> {
        let results = self.ok(pid, sql);
        match results.last() {
            Some(StatementResult::Rows { rows, .. }) => rows
                .iter()
                .map(|r| r.iter().map(|v| v.clone().unwrap_or_default()).collect())
                .collect(),
            other => panic!("no rows: {other:?}"),
        }
    }

    fn advance(&mut self, d: Duration) {
        self.now = self.now + d;
        self.srv.fire_timers(self.now, &mut self.events);
        for pid in self.srv.sessions().collect::<Vec<_>>() {
            self.srv.run(pid, self.now, &mut self.events);
        }
    }

    fn is_waiting(&self, pid: Pid) -> bool {
        matches!(self.srv.state(pid), SessionState::Waiting(_))
    }

    /// Runs every runnable backend, then returns `pid`'s outcome.
    fn settle(&mut self, pid: Pid) -> Option<QueryOutcome> {
        for p in self.srv.sessions().collect::<Vec<_>>() {
            self.srv.run(p, self.now, &mut self.events);
        }
        self.srv.take_outcome(pid)
    }
}

const WIDGETS: &str = "CREATE TABLE widget (id int PRIMARY KEY, maker int, qty int);
    INSERT INTO widget VALUES (1, 1, 0), (2, 2, 0), (3, 3, 0), (4, 4, 0), (5, 5, 0);";

#[test]
fn first_backend_and_transaction_ids_look_like_postgresqls() {
    let mut h = Harness::new(WIDGETS);
    let a = h.connect();
    let b = h.connect();
    assert_eq!((a, b), (Pid(FIRST_PID), Pid(FIRST_PID + 1)));
    h.ok(a, "BEGIN; UPDATE widget SET qty = 1 WHERE id = 1");
    // Setup used xid 740 for its single implicit transaction.
    assert_eq!(h.srv.backend_xid(a), Some(Xid(FIRST_XID + 1)));
}

#[test]
fn row_lock_deadlock_reports_postgresqls_exact_error() {
    let mut h = Harness::new(WIDGETS);
    let a = h.connect();
    let b = h.connect();
    h.ok(a, "BEGIN; SELECT * FROM widget WHERE id = 2 FOR UPDATE");
    h.ok(b, "BEGIN; SELECT * FROM widget WHERE id = 3 FOR UPDATE");
    assert_eq!(
        h.exec(a, "SELECT * FROM widget WHERE id = 3 FOR UPDATE"),
        None
    );
    assert!(h.is_waiting(a));
    // A's own check runs after its deadlock_timeout and finds nothing: B is not waiting yet.
    h.advance(Duration::from_secs(1));
    assert!(h.is_waiting(a));
    h.advance(Duration::from_millis(500));
    assert_eq!(
        h.exec(b, "SELECT * FROM widget WHERE id = 2 FOR UPDATE"),
        None
    );
    // B closed the cycle; A was checked already, so B's check finds it and B is the victim.
    h.advance(Duration::from_secs(1));
    let err = h
        .srv
        .take_outcome(b)
        .expect("b failed")
        .error
        .expect("error");
    assert_eq!(
        err.to_string(),
        "ERROR:  deadlock detected\n\
         DETAIL:  Process 4102 waits for ShareLock on transaction 741; blocked by process 4101.\n\
         Process 4101 waits for ShareLock on transaction 742; blocked by process 4102.\n\
         HINT:  See server log for query details.\n\
         CONTEXT:  while locking tuple (0,2) in relation \"widget\""
    );
    assert_eq!(err.code, "40P01");
    // The victim's locks went with its transaction: A got row 3.
    let out = h.settle(a).expect("a finished");
    assert_eq!(out.error, None);
    assert_eq!(h.srv.state(b), SessionState::IdleInTransactionAborted);
}

#[test]
fn the_first_waiter_is_the_victim_when_its_check_comes_after_the_cycle_closed() {
    let mut h = Harness::new(WIDGETS);
    let a = h.connect();
    let b = h.connect();
    h.ok(a, "BEGIN; UPDATE widget SET qty = 1 WHERE id = 1");
    h.ok(b, "BEGIN; UPDATE widget SET qty = 1 WHERE id = 2");
    assert_eq!(h.exec(a, "UPDATE widget SET qty = 2 WHERE id = 2"), None);
    h.advance(Duration::from_millis(100));
    assert_eq!(h.exec(b, "UPDATE widget SET qty = 2 WHERE id = 1"), None);
    h.advance(Duration::from_millis(900));
    let err = h
        .srv
        .take_outcome(a)
        .expect("a failed")
        .error
        .expect("error");
    assert_eq!(err.message, "deadlock detected");
    assert_eq!(
        err.context.as_deref(),
        Some("while updating tuple (0,2) in relation \"widget\"")
    );
    assert!(err
        .detail
        .unwrap()
        .starts_with("Process 4101 waits for ShareLock on transaction 742"));
    let out = h.settle(b).expect("b finished");
    assert_eq!(out.error, None);
}

#[test]
fn each_access_path_emits_rows_in_postgresqls_order() {
    // Checked on PostgreSQL 15 with the same statements (SELECT ctid, ... FOR UPDATE).
    let mut h = Harness::new(WIDGETS);
    let a = h.connect();
    // A HOT update: row 2's new version (0,6) hangs off the root (0,2) the index points at.
    h.ok(a, "UPDATE widget SET qty = 7 WHERE id = 2");
    // Key updates are not HOT: rows 4 and 1 get new index entries at (0,7) and (0,8).
    h.ok(a, "UPDATE widget SET id = 0 WHERE id = 4");
    h.ok(a, "UPDATE widget SET id = 6 WHERE id = 1");
    let ids = |h: &mut Harness, filter: &str| -> Vec<String> {
        h.rows(
            a,
            &format!("SELECT id FROM widget WHERE {filter} FOR UPDATE"),
        )
        .into_iter()
        .map(|r| r[0].clone())
        .collect()
    };
    // Bitmap heap scans: by root TID, so 2 (root (0,2)) comes first.
    let by_root = ["2", "3", "5", "0", "6"];
    assert_eq!(ids(&mut h, "id IN (6, 5, 2, 0, 3)"), by_root);
    assert_eq!(ids(&mut h, "id IN (6, 5, 2, NULL, 0, 3)"), by_root);
    assert_eq!(ids(&mut h, "id > -1"), by_root);
    assert_eq!(ids(&mut h, "-1 < id AND qty >= 0"), by_root);
    assert_eq!(ids(&mut h, "id = 0 OR id = 2 OR id = 3"), ["2", "3", "0"]);
    // Sequential scans: physical order, so 2 (now at (0,6)) comes after 3 and 5.
    let physical = ["3", "5", "2", "0", "6"];
    assert_eq!(ids(&mut h, "id <> 100"), physical);
    assert_eq!(ids(&mut h, "maker > 0"), physical);
    assert_eq!(ids(&mut h, "id = 0 OR maker = 2"), ["2", "0"]);
    // Index scans: one key (`IN` with one element is `=`).
    assert_eq!(ids(&mut h, "id = 6"), ["6"]);
    assert_eq!(ids(&mut h, "id IN (2)"), ["2"]);
}

#[test]
fn for_update_locks_one_row_per_step_in_plan_order() {
    let mut h = Harness::new(WIDGETS);
    let a = h.connect();
    // An update moves row 2 to the end of the heap.
    h.ok(a, "UPDATE widget SET qty = 7 WHERE id = 2");
    let order = |h: &mut Harness, sql: &str| -> Vec<(u32, u16)> {
        h.events.clear();
        h.ok(a, &format!("BEGIN; {sql}; ROLLBACK"));
        h.events
            .iter()
            .filter_map(|e| match e {
                Event::RowLocked { ctid, .. } => Some(*ctid),
                _ => None,
            })
            .collect()
    };
    // Unindexed column: a sequential scan, heap order, so row 2's new version comes last.
    assert_eq!(
        order(
            &mut h,
            "SELECT * FROM widget WHERE maker IN (3, 2, 1) FOR UPDATE"
        ),
        vec![(0, 1), (0, 3), (0, 6)]
    );
    // An IN list on the primary key: a bitmap heap scan, in the order of the TIDs the index
    // points to. Row 2's update was HOT (no key changed), so its index entry still points at
    // the chain's root (0,2): 1, 2, 3.
    assert_eq!(
        order(
            &mut h,
            "SELECT * FROM widget WHERE id IN (3, 2, 1) FOR UPDATE"
        ),
        vec![(0, 1), (0, 6), (0, 3)]
    );
    // Stepping: the start step, then one row per step.
    let b = h.connect();
    h.srv.submit(
        b,
        "SELECT * FROM widget WHERE id IN (1, 2, 3) FOR UPDATE",
        h.now,
        &mut h.events,
    );
    h.events.clear();
    h.srv.step(b, h.now, &mut h.events);
    assert!(!h
        .events
        .iter()
        .any(|e| matches!(e, Event::RowLocked { .. })));
    h.srv.step(b, h.now, &mut h.events);
    let locked = h
        .events
        .iter()
        .filter(|e| matches!(e, Event::RowLocked { .. }))
        .count();
    assert_eq!(locked, 1);
}

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
fn lock_and_statement_timeouts_cancel_the_wait_with_postgresqls_messages() {
    let mut h = Harness::new("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1);");
    let a = h.connect();
    let b = h.connect();
    h.ok(a, "BEGIN; SELECT * FROM t FOR UPDATE");
    h.ok(b, "SET lock_timeout = '2s'");
    assert_eq!(h.exec(b, "UPDATE t SET id = 2"), None);
    assert_eq!(
        h.srv.next_timer(),
        Some(Instant::START + Duration::from_secs(1))
    );
    h.advance(Duration::from_secs(2));
    let err = h.srv.take_outcome(b).unwrap().error.unwrap();
    assert_eq!(
        (err.code.as_str(), err.message.as_str()),
        ("55P03", "canceling statement due to lock timeout")
    );
    h.ok(b, "SET lock_timeout = 0; SET statement_timeout = '10ms'");
    assert_eq!(h.exec(b, "BEGIN; LOCK TABLE t"), None);
    h.advance(Duration::from_millis(10));
    let err = h.srv.take_outcome(b).unwrap().error.unwrap();
    assert_eq!(
        (err.code.as_str(), err.message.as_str()),
        ("57014", "canceling statement due to statement timeout")
    );
}

#[test]
fn idle_in_transaction_timeout_terminates_the_session_and_frees_its_locks() {
    let mut h = Harness::new("CREATE TABLE t (id int PRIMARY KEY); INSERT INTO t VALUES (1);");
    let a = h.connect();
    let b = h.connect();
    h.ok(
        a,
        "SET idle_in_transaction_session_timeout = '10s'; BEGIN; SELECT * FROM t FOR UPDATE",
    );
    assert_eq!(h.exec(b, "SELECT * FROM t FOR UPDATE"), None);
    h.advance(Duration::from_secs(10));
    match h.srv.state(a) {
        SessionState::Terminated(e) => {
            assert_eq!(
                e.to_string(),
                "FATAL:  terminating connection due to idle-in-transaction timeout"
            );
            assert_eq!(e.code, "25P03");
        }
        s => panic!("{s:?}"),
    }
    assert_eq!(h.settle(b).unwrap().error, None);
}

#[test]
fn max_connections_keeps_reserved_slots_for_superusers() {
    let mut srv = Server::new(Settings {
        max_connections: 5,
        ..Settings::default()
    });
    let mut ev = Vec::new();
    assert!(srv.connect(Instant::START, &mut ev).is_ok());
    assert!(srv.connect(Instant::START, &mut ev).is_ok());
    let err = srv.connect(Instant::START, &mut ev).unwrap_err();
    assert_eq!(
        err.to_string(),
        "FATAL:  remaining connection slots are reserved for roles with the SUPERUSER attribute"
    );
    let mut srv = Server::new(Settings {
        max_connections: 1,
        superuser_reserved_connections: 0,
        ..Settings::default()
    });
    srv.connect(Instant::START, &mut ev).unwrap();
    let err = srv.connect(Instant::START, &mut ev).unwrap_err();
    assert_eq!(
        (err.code.as_str(), err.message.as_str()),
        ("53300", "sorry, too many clients already")
    );
    // The refused backend logs the refusal as it exits.
    assert!(matches!(
        ev.last(),
        Some(Event::Log { line, .. }) if line == "FATAL:  sorry, too many clients already"
    ));
}

#[test]
fn a_duplicate_insert_waits_for_the_inserter_and_then_fails() {
    let mut h = Harness::new("CREATE TABLE t (id int PRIMARY KEY)");
    let a = h.connect();
    let b = h.connect();
    h.ok(a, "BEGIN; INSERT INTO t VALUES (1)");
    assert_eq!(h.exec(b, "INSERT INTO t VALUES (1)"), None);
    match h.srv.state(b) {
        SessionState::Waiting(r) => {
            assert_eq!(r.tag, LockTag::Transaction(Xid(FIRST_XID + 1)));
            assert_eq!(
                r.context.as_deref(),
                Some("while inserting index tuple (0,2) in relation \"t_pkey\"")
            );
        }
        s => panic!("{s:?}"),
    }
    h.ok(a, "COMMIT");
    let err = h.settle(b).unwrap().error.unwrap();
    assert_eq!(
        err.message,
        "duplicate key value violates unique constraint \"t_pkey\""
    );
    assert_eq!(err.detail.as_deref(), Some("Key (id)=(1) already exists."));
}

#[test]
fn bad_sql_is_an_error_with_a_position_never_a_panic() {
    let mut h = Harness::new("CREATE TABLE t (id int PRIMARY KEY)");
    let a = h.connect();
    let err = h.exec(a, "SELEC 1").unwrap().error.unwrap();
    assert_eq!(err.code, "42601");
    assert_eq!(err.position, Some((1, 1, 1)));
    for sql in [
        "SELECT * FROM nope",
        "UPDATE t SET nope = 1",
        "INSERT INTO t VALUES ('x')",
        "SELECT 1/0",
        "ROLLBACK TO x",
    ] {
        assert!(h.exec(a, sql).unwrap().error.is_some(), "{sql}");
    }
}

#[test]
fn server_values_compare_and_clone_equal() {
    let mut h = Harness::new(WIDGETS);
    let a = h.connect();
    h.ok(a, "BEGIN; UPDATE widget SET qty = 3 WHERE id = 4");
    let copy = h.srv.clone();
    assert_eq!(copy, h.srv);
    let json = serde_json::to_string(&h.srv).unwrap();
    let back: Server = serde_json::from_str(&json).unwrap();
    assert_eq!(back, h.srv);
}

#[test]
fn the_row_lock_conflict_table_is_postgresqls_table_13_3() {
    use crate::sql::RowLockStrength::*;
    let modes = [KeyShare, Share, NoKeyUpdate, Update];
    // Rows = requested, columns = held: FOR KEY SHARE, FOR SHARE, FOR NO KEY UPDATE, FOR UPDATE.
    let table = ["...X", "..XX", ".XXX", "XXXX"];
    for (i, row) in table.iter().enumerate() {
        for (j, c) in row.chars().enumerate() {
            assert_eq!(
                rowlock::row_conflicts(modes[i], modes[j]),
                c == 'X',
                "{:?} vs {:?}",
                modes[i],
                modes[j]
            );
        }
    }
    // The tuple lock taken while queueing for a row (tupleLockExtraInfo).
    assert_eq!(rowlock::tuple_lock_mode(KeyShare), LockMode::AccessShare);
    assert_eq!(rowlock::tuple_lock_mode(Share), LockMode::RowShare);
    assert_eq!(rowlock::tuple_lock_mode(NoKeyUpdate), LockMode::Exclusive);
    assert_eq!(rowlock::tuple_lock_mode(Update), LockMode::AccessExclusive);
}

#[test]
fn nowait_and_skip_locked_never_wait() {
    let mut h = Harness::new(WIDGETS);
    let a = h.connect();
    let b = h.connect();
    h.ok(a, "BEGIN; SELECT * FROM widget WHERE id = 1 FOR UPDATE");
    let err = h
        .exec(b, "SELECT * FROM widget WHERE id = 1 FOR UPDATE NOWAIT")
        .unwrap()
        .error
        .unwrap();
    assert_eq!(
        err.to_string(),
        "ERROR:  could not obtain lock on row in relation \"widget\""
    );
    assert_eq!(err.code, "55P03");
    assert_eq!(
        h.rows(
            b,
            "SELECT id FROM widget WHERE id IN (1, 2) ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1"
        ),
        vec![vec!["2".to_string()]]
    );
    let err = h
        .exec(b, "BEGIN; LOCK TABLE widget NOWAIT")
        .unwrap()
        .error
        .unwrap();
    assert_eq!(err.message, "could not obtain lock on relation \"widget\"");
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
fn upserts_in_opposite_order_deadlock_while_inserting_index_tuples() {
    let mut h = Harness::new("CREATE TABLE addresses (hash text PRIMARY KEY, balance int)");
    let a = h.connect();
    let b = h.connect();
    let upsert = |k: &str| {
        format!("INSERT INTO addresses VALUES ('{k}', 1) ON CONFLICT (hash) DO UPDATE SET balance = addresses.balance + excluded.balance")
    };
    h.ok(a, &format!("BEGIN; {}", upsert("k1")));
    h.ok(b, &format!("BEGIN; {}", upsert("k2")));
    assert_eq!(h.exec(a, &upsert("k2")), None);
    assert_eq!(h.exec(b, &upsert("k1")), None);
    h.advance(Duration::from_secs(1));
    let err = h.srv.take_outcome(a).unwrap().error.unwrap();
    assert_eq!(err.code, "40P01");
    assert_eq!(
        err.context.as_deref(),
        Some("while inserting index tuple (0,2) in relation \"addresses\"")
    );
    assert_eq!(
        err.detail.as_deref(),
        Some(
            "Process 4101 waits for ShareLock on transaction 742; blocked by process 4102.\n\
             Process 4102 waits for ShareLock on transaction 741; blocked by process 4101."
        )
    );
    // A's insert of k1 rolled back with its transaction, so B inserts k1 itself.
    assert_eq!(h.settle(b).unwrap().error, None);
    h.ok(b, "COMMIT");
    h.ok(a, "ROLLBACK");
    assert_eq!(
        h.rows(a, "SELECT hash, balance FROM addresses ORDER BY hash"),
        vec![
            vec!["k1".to_string(), "1".into()],
            vec!["k2".into(), "1".into()]
        ]
    );
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
fn wait_edges_show_hard_holders_and_soft_queue_order() {
    let mut h = Harness::new("CREATE TABLE t (id int)");
    let a = h.connect();
    let b = h.connect();
    let c = h.connect();
    h.ok(a, "BEGIN; LOCK TABLE t IN ACCESS SHARE MODE");
    h.ok(b, "BEGIN");
    h.ok(c, "BEGIN");
    assert_eq!(h.exec(b, "LOCK TABLE t IN ACCESS EXCLUSIVE MODE"), None);
    assert_eq!(h.exec(c, "LOCK TABLE t IN ACCESS SHARE MODE"), None);
    let edges: Vec<(Pid, Pid, bool)> = h
        .srv
        .wait_edges()
        .into_iter()
        .map(|e| (e.waiter, e.blocker, e.hard))
        .collect();
    assert_eq!(edges, vec![(b, a, true), (c, b, false)]);
    match h.srv.state(c) {
        SessionState::Waiting(r) => assert_eq!(r.blockers, vec![b]),
        s => panic!("{s:?}"),
    }
    let views = h.srv.locks();
    let rel = views
        .iter()
        .find(|l| l.relation.as_deref() == Some("t"))
        .unwrap();
    assert_eq!(rel.holders, vec![(a, LockMode::AccessShare)]);
    assert_eq!(
        rel.waiters,
        vec![(b, LockMode::AccessExclusive), (c, LockMode::AccessShare)]
    );
}

#[test]
fn a_deadlock_check_that_finds_nothing_never_runs_again_for_that_wait() {
    let mut h = Harness::new(WIDGETS);
    let a = h.connect();
    let b = h.connect();
    h.ok(a, "BEGIN; UPDATE widget SET qty = 1 WHERE id = 1");
    assert_eq!(h.exec(b, "UPDATE widget SET qty = 2 WHERE id = 1"), None);
    assert_eq!(
        h.srv.next_timer(),
        Some(Instant::START + Duration::from_secs(1))
    );
    h.advance(Duration::from_secs(1));
    assert!(h.events.iter().any(|e| matches!(
        e,
        Event::DeadlockCheck {
            verdict: DeadlockVerdict::NoDeadlock,
            ..
        }
    )));
    assert_eq!(h.srv.next_timer(), None);
}

#[test]
fn advisory_locks_block_and_count_like_postgresqls() {
    let mut h = Harness::new("CREATE TABLE t (id int)");
    let a = h.connect();
    let b = h.connect();
    h.ok(a, "SELECT pg_advisory_lock(7); SELECT pg_advisory_lock(7)");
    assert_eq!(h.exec(b, "SELECT pg_advisory_lock(7)"), None);
    assert_eq!(
        h.rows(a, "SELECT pg_advisory_unlock(7)"),
        vec![vec!["t".to_string()]]
    );
    assert!(h.is_waiting(b));
    h.ok(a, "SELECT pg_advisory_unlock(7)");
    assert_eq!(h.settle(b).unwrap().error, None);
    assert_eq!(
        h.rows(a, "SELECT pg_advisory_unlock(7)"),
        vec![vec!["f".to_string()]]
    );
}

#[test]
fn every_event_has_a_narration() {
    let mut h = Harness::new(WIDGETS);
    let a = h.connect();
    let b = h.connect();
    h.ok(a, "BEGIN; UPDATE widget SET qty = 1 WHERE id = 1");
    assert_eq!(h.exec(b, "DELETE FROM widget WHERE id = 1"), None);
    h.advance(Duration::from_secs(2));
    h.ok(a, "COMMIT");
    h.settle(b);
    assert!(h.events.len() > 10);
    for e in &h.events {
        assert!(!e.narration().is_empty(), "{e:?}");
    }
}

/// A tiny deterministic generator, so the fuzz test is the same on every run.
struct Lcg(u64);

impl Lcg {
    fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        ((self.0 >> 33) as usize) % n
    }
}

#[test]
fn random_sql_never_panics_the_server() {
    const PIECES: [&str; 46] = [
        "SELECT",
        "*",
        "FROM",
        "t",
        "WHERE",
        "id",
        "=",
        "1",
        "IN",
        "(",
        ")",
        ",",
        ";",
        "FOR",
        "UPDATE",
        "SHARE",
        "KEY",
        "NO",
        "NOWAIT",
        "SKIP",
        "LOCKED",
        "INSERT",
        "INTO",
        "VALUES",
        "ON",
        "CONFLICT",
        "DO",
        "NOTHING",
        "SET",
        "v",
        "'x'",
        "BEGIN",
        "COMMIT",
        "ROLLBACK",
        "SAVEPOINT",
        "s",
        "TO",
        "LOCK",
        "TABLE",
        "DELETE",
        "ORDER",
        "BY",
        "LIMIT",
        "NULL",
        "pg_advisory_lock(1)",
        "||",
    ];
    let mut rng = Lcg(42);
    let mut h = Harness::new(
        "CREATE TABLE t (id int PRIMARY KEY, v text); INSERT INTO t VALUES (1, 'a'), (2, 'b');",
    );
    let pids = [h.connect(), h.connect()];
    for round in 0..3000 {
        let len = 1 + rng.next(10);
        let sql: Vec<&str> = (0..len).map(|_| PIECES[rng.next(PIECES.len())]).collect();
        let pid = pids[round % 2];
        if h.srv.is_runnable(pid) || matches!(h.srv.state(pid), SessionState::Waiting(_)) {
            h.advance(Duration::from_millis(500));
            continue;
        }
        h.srv.submit(pid, &sql.join(" "), h.now, &mut h.events);
        h.srv.run(pid, h.now, &mut h.events);
        let _ = h.srv.take_outcome(pid);
        h.events.clear();
    }
}

#[test]
fn the_server_log_names_each_deadlocked_process_query() {
    let mut h = Harness::new(WIDGETS);
    let a = h.connect();
    let b = h.connect();
    h.ok(a, "BEGIN; UPDATE widget SET qty = 1 WHERE id = 1");
    h.ok(b, "BEGIN; UPDATE widget SET qty = 1 WHERE id = 2");
    assert_eq!(h.exec(a, "UPDATE widget SET qty = 2 WHERE id = 2"), None);
    assert_eq!(h.exec(b, "UPDATE widget SET qty = 2 WHERE id = 1"), None);
    h.events.clear();
    h.advance(Duration::from_secs(1));
    let log: Vec<&str> = h
        .events
        .iter()
        .filter_map(|e| match e {
            Event::Log { line, .. } => Some(line.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(
        log[0],
        "ERROR:  deadlock detected\n\
         DETAIL:  Process 4101 waits for ShareLock on transaction 742; blocked by process 4102.\n\
         \tProcess 4102 waits for ShareLock on transaction 741; blocked by process 4101.\n\
         \tProcess 4101: UPDATE widget SET qty = 2 WHERE id = 2\n\
         \tProcess 4102: UPDATE widget SET qty = 2 WHERE id = 1\n\
         HINT:  See server log for query details.\n\
         CONTEXT:  while updating tuple (0,2) in relation \"widget\""
    );
    assert_eq!(log[1], "STATEMENT:  UPDATE widget SET qty = 2 WHERE id = 2");
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
fn an_update_to_a_taken_key_fails_or_waits_like_an_insert() {
    let mut h = Harness::new(WIDGETS);
    let a = h.connect();
    let b = h.connect();
    let err = h
        .exec(a, "UPDATE widget SET id = 2 WHERE id = 1")
        .unwrap()
        .error
        .unwrap();
    assert_eq!(
        err.to_string(),
        "ERROR:  duplicate key value violates unique constraint \"widget_pkey\"\nDETAIL:  Key (id)=(2) already exists."
    );
    h.ok(a, "BEGIN; INSERT INTO widget VALUES (6, 6, 0)");
    assert_eq!(h.exec(b, "UPDATE widget SET id = 6 WHERE id = 1"), None);
    h.ok(a, "ROLLBACK");
    assert_eq!(
        h.settle(b).unwrap().results,
        vec![StatementResult::Command {
            tag: "UPDATE 1".into()
        }]
    );
}

#[test]
fn inserters_waiting_for_the_same_key_do_not_see_each_others_unchecked_tuples() {
    let mut h = Harness::new("CREATE TABLE t (id int PRIMARY KEY)");
    let a = h.connect();
    let b = h.connect();
    let c = h.connect();
    h.ok(a, "BEGIN; INSERT INTO t VALUES (4)");
    h.ok(b, "BEGIN");
    assert_eq!(h.exec(b, "INSERT INTO t VALUES (4)"), None);
    assert_eq!(h.exec(c, "INSERT INTO t VALUES (4)"), None);
    h.ok(a, "ROLLBACK");
    // Both wake; the first to re-check inserts its index entry, the other now waits for it.
    // Neither waits for the other's heap tuple that never made it into the index.
    assert_eq!(h.settle(b).unwrap().error, None);
    assert!(h.is_waiting(c));
    h.ok(b, "COMMIT");
    let err = h.settle(c).unwrap().error.unwrap();
    assert_eq!(err.code, "23505");
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
fn select_without_from_honours_its_where_clause() {
    let mut h = Harness::new("CREATE TABLE t (id int)");
    let a = h.connect();
    assert_eq!(
        h.rows(a, "SELECT 1 AS one WHERE 1 = 2"),
        Vec::<Vec<String>>::new()
    );
    assert_eq!(
        h.rows(a, "SELECT 1 AS one WHERE 1 = 1"),
        vec![vec!["1".to_string()]]
    );
}

#[test]
fn a_statement_waiting_for_a_table_that_is_dropped_and_recreated_fails_cleanly() {
    let mut h = Harness::new("CREATE TABLE t (id int PRIMARY KEY)");
    let a = h.connect();
    let b = h.connect();
    h.ok(a, "BEGIN; LOCK TABLE t");
    assert_eq!(h.exec(b, "INSERT INTO t VALUES (1)"), None);
    h.ok(
        a,
        "DROP TABLE t; CREATE TABLE t (x text, y text, z text); COMMIT",
    );
    let err = h.settle(b).unwrap().error.unwrap();
    assert_eq!(err.code, "42P01");
}

#[test]
fn random_concurrent_workloads_never_panic_and_keep_invariants() {
    const STATEMENTS: [&str; 30] = [
        "BEGIN",
        "BEGIN ISOLATION LEVEL REPEATABLE READ",
        "BEGIN ISOLATION LEVEL SERIALIZABLE",
        "COMMIT",
        "ROLLBACK",
        "SAVEPOINT a",
        "ROLLBACK TO a",
        "RELEASE a",
        "SELECT * FROM t ORDER BY id",
        "SELECT * FROM t WHERE id = 1 FOR UPDATE",
        "SELECT * FROM t WHERE id IN (2, 1) FOR SHARE",
        "SELECT * FROM t WHERE v > 0 FOR KEY SHARE",
        "SELECT * FROM t FOR NO KEY UPDATE NOWAIT",
        "SELECT * FROM t ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED",
        "UPDATE t SET v = v + 1 WHERE id = 1",
        "UPDATE t SET v = v + 1 WHERE id = 2",
        "UPDATE t SET id = 3 WHERE id = 2",
        "UPDATE t SET id = 2 WHERE id = 3",
        "DELETE FROM t WHERE id = 1",
        "INSERT INTO t VALUES (1, 1)",
        "INSERT INTO t VALUES (2, 2) ON CONFLICT DO NOTHING",
        "INSERT INTO t VALUES (1, 5) ON CONFLICT (id) DO UPDATE SET v = t.v + excluded.v",
        "INSERT INTO t VALUES (4, 4), (4, 5) ON CONFLICT (id) DO NOTHING RETURNING *",
        "LOCK TABLE t IN SHARE MODE",
        "SELECT pg_advisory_lock(1)",
        "SELECT pg_advisory_unlock(1)",
        "SELECT pg_advisory_xact_lock(2)",
        "SET lock_timeout = '300ms'",
        "SET statement_timeout = '700ms'",
        "SET idle_in_transaction_session_timeout = '2s'",
    ];
    let setup = "CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 1), (2, 2);";
    for seed in 0..8u64 {
        let mut rng = Lcg(seed);
        let mut h = Harness::new(setup);
        let mut pids: Vec<Pid> = (0..3).map(|_| h.connect()).collect();
        for _ in 0..400 {
            let i = rng.next(pids.len());
            let pid = pids[i];
            match rng.next(20) {
                0 => {
                    h.now = h.now + Duration::from_millis(100 * (1 + rng.next(20) as u64));
                    h.srv.fire_timers(h.now, &mut h.events);
                }
                1 => h.srv.cancel(pid, h.now, &mut h.events),
                2 if rng.next(4) == 0 => {
                    h.srv.disconnect(pid, h.now, &mut h.events);
                    pids[i] = h.connect();
                }
                _ => {
                    if matches!(h.srv.state(pid), SessionState::Terminated(_)) {
                        h.srv.disconnect(pid, h.now, &mut h.events);
                        pids[i] = h.connect();
                    } else if !h.srv.is_runnable(pid)
                        && !matches!(h.srv.state(pid), SessionState::Waiting(_))
                    {
                        let sql = STATEMENTS[rng.next(STATEMENTS.len())];
                        h.srv.submit(pid, sql, h.now, &mut h.events);
                    }
                }
            }
            // Step a random runnable backend one unit at a time.
            let runnable: Vec<Pid> = h.srv.sessions().filter(|p| h.srv.is_runnable(*p)).collect();
            if !runnable.is_empty() {
                let p = runnable[rng.next(runnable.len())];
                h.srv.step(p, h.now, &mut h.events);
            }
            for p in h.srv.sessions().collect::<Vec<_>>() {
                let _ = h.srv.take_outcome(p);
            }
            // Invariants: every lock is held by a live backend's open transaction (or session),
            // ended transactions hold nothing, every waiter waits in exactly one queue (see
            // invariants.rs); no backend both waits and is runnable; the primary key has at
            // most one live version per id.
            let violations = h.srv.invariant_violations();
            assert!(violations.is_empty(), "seed {seed}: {violations:#?}");
            for p in h.srv.sessions().collect::<Vec<_>>() {
                let waiting = matches!(h.srv.state(p), SessionState::Waiting(_));
                assert!(!(waiting && h.srv.is_runnable(p)));
            }
            for table in h.srv.tables() {
                let mut live: Vec<&Option<String>> = table
                    .tuples
                    .iter()
                    .filter(|t| t.live)
                    .map(|t| &t.values[0])
                    .collect();
                let n = live.len();
                live.sort();
                live.dedup();
                assert_eq!(live.len(), n, "duplicate live keys in {}", table.name);
            }
            h.events.clear();
        }
    }
}

#[test]
fn row_waiters_show_on_the_tuple_they_wait_for() {
    let mut h = Harness::new(WIDGETS);
    let a = h.connect();
    let b = h.connect();
    let c = h.connect();
    h.ok(a, "BEGIN; SELECT * FROM widget WHERE id = 1 FOR UPDATE");
    assert_eq!(h.exec(b, "UPDATE widget SET qty = 1 WHERE id = 1"), None);
    assert_eq!(h.exec(c, "DELETE FROM widget WHERE id = 1"), None);
    let widget = h
        .srv
        .tables()
        .into_iter()
        .find(|t| t.name == "widget")
        .unwrap();
    let row1 = &widget.tuples[0];
    assert_eq!(row1.ctid, (0, 1));
    assert_eq!(row1.waiters, vec![b, c]);
    assert_eq!(row1.xmax[0].pid, Some(a));
    // B holds the tuple lock and sleeps on A's xid; C queues on the tuple lock behind B.
    match (h.srv.state(b), h.srv.state(c)) {
        (SessionState::Waiting(rb), SessionState::Waiting(rc)) => {
            assert_eq!(rb.tag, LockTag::Transaction(Xid(FIRST_XID + 1)));
            assert_eq!(rb.blockers, vec![a]);
            assert_eq!(rb.row, Some(("widget".to_string(), (0, 1))));
            assert!(matches!(
                rc.tag,
                LockTag::Tuple {
                    block: 0,
                    offset: 1,
                    ..
                }
            ));
            assert_eq!(rc.blockers, vec![b]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn orm_shaped_sql_from_the_lessons_runs() {
    let mut h = Harness::new(
        r#"CREATE TABLE "app_widget" ("id" integer NOT NULL PRIMARY KEY, "maker_id" integer NOT NULL, "qty" integer NOT NULL);
           INSERT INTO "app_widget" ("id", "maker_id", "qty") VALUES (1, 1, 0), (2, 2, 0), (3, 3, 0);
           CREATE TABLE "addresses" ("hash" varchar(64) NOT NULL, "balance" bigint, CONSTRAINT "addresses_hash_key" UNIQUE ("hash"));"#,
    );
    let a = h.connect();
    assert_eq!(
        h.rows(
            a,
            r#"SELECT "app_widget"."id", "app_widget"."maker_id", "app_widget"."qty" FROM "app_widget" WHERE "app_widget"."id" IN (1, 2, 3) FOR UPDATE"#
        )
        .len(),
        3
    );
    h.ok(
        a,
        r#"INSERT INTO "addresses" ("hash","balance") VALUES ('h1',10),('h2',20) ON CONFLICT ("hash") DO UPDATE SET "balance" = EXCLUDED."balance""#,
    );
    h.ok(
        a,
        r#"INSERT INTO "addresses" ("hash","balance") VALUES ('h1',11) ON CONFLICT ("hash") DO UPDATE SET "balance" = "addresses"."balance" + EXCLUDED."balance""#,
    );
    assert_eq!(
        h.rows(
            a,
            r#"SELECT "balance" FROM "addresses" WHERE "hash" = 'h1'"#
        ),
        vec![vec!["21".to_string()]]
    );
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

#[test]
fn a_non_key_update_after_for_update_is_a_key_update_for_key_share() {
    // Checked on PostgreSQL 15 (regression update-after-for-update-is-a-key-update).
    let mut h =
        Harness::new("CREATE TABLE t (id int PRIMARY KEY, v int); INSERT INTO t VALUES (1, 10);");
    let a = h.connect();
    let b = h.connect();
    h.ok(
        a,
        "BEGIN; SELECT * FROM t WHERE id = 1 FOR UPDATE; UPDATE t SET v = 302 WHERE id = 1",
    );
    // FOR KEY SHARE would not conflict with a plain non-key update, but this one kept the
    // FOR UPDATE strength: B waits, and after the commit it locks and returns the new version.
    assert_eq!(
        h.exec(b, "SELECT v FROM t WHERE id = 1 FOR KEY SHARE"),
        None
    );
    assert!(h.is_waiting(b));
    h.ok(a, "COMMIT");
    let out = h.settle(b).expect("b finished");
    assert_eq!(out.error, None);
    assert_eq!(
        out.results,
        vec![StatementResult::Rows {
            columns: vec!["v".into()],
            rows: vec![vec![Some("302".into())]]
        }]
    );
}

impl Harness {
    /// The SQLSTATE and message of the error `sql` fails with.
    fn fails(&mut self, pid: Pid, sql: &str) -> (String, String) {
        let out = self.exec(pid, sql).expect("finished");
        let err = out.error.unwrap_or_else(|| panic!("{sql} succeeded"));
        (err.code, err.message)
    }
}

fn failure(code: &str, message: &str) -> (String, String) {
    (code.to_string(), message.to_string())
}

#[test]
fn int4_arithmetic_raises_integer_out_of_range() {
    let mut h = Harness::new("");
    let a = h.connect();
    let out_of_range = failure("22003", "integer out of range");
    for sql in [
        "SELECT 2147483647 + 1",
        "SELECT -2147483647 - 2",
        "SELECT 65536 * 32768",
        "SELECT (-2147483647 - 1) / -1",
        "SELECT -(-2147483647 - 1)",
    ] {
        assert_eq!(h.fails(a, sql), out_of_range, "{sql}");
    }
    assert_eq!(h.rows(a, "SELECT -2147483648")[0][0], "-2147483648");
    assert_eq!(h.rows(a, "SELECT (-2147483647 - 1) % -1")[0][0], "0");
    assert_eq!(h.rows(a, "SELECT -7 / 2, -7 % 2")[0], ["-3", "-1"]);
}

#[test]
fn anything_with_an_int8_is_computed_in_int8() {
    let mut h = Harness::new("");
    let a = h.connect();
    assert_eq!(
        h.rows(a, "SELECT 2147483647::bigint + 1")[0][0],
        "2147483648"
    );
    assert_eq!(h.rows(a, "SELECT 2147483648 + 1")[0][0], "2147483649");
    assert_eq!(h.rows(a, "SELECT 1 + 2147483648 * 2")[0][0], "4294967297");
    assert_eq!(
        h.rows(a, "SELECT -9223372036854775808")[0][0],
        "-9223372036854775808"
    );
    let out_of_range = failure("22003", "bigint out of range");
    for sql in [
        "SELECT -(-9223372036854775807 - 1)",
        "SELECT 9223372036854775807 + 1",
        "SELECT -9223372036854775808 - 1",
        "SELECT 4294967296 * 4294967296",
        "SELECT (-9223372036854775807 - 1) / -1",
    ] {
        assert_eq!(h.fails(a, sql), out_of_range, "{sql}");
    }
    assert_eq!(
        h.rows(a, "SELECT (-9223372036854775807 - 1) % -1")[0][0],
        "0"
    );
}

#[test]
fn integer_division_by_zero_is_22012() {
    let mut h = Harness::new("");
    let a = h.connect();
    for sql in [
        "SELECT 1 / 0",
        "SELECT 1 % 0",
        "SELECT 9223372036854775807 / 0",
        "SELECT 9223372036854775807 % 0",
    ] {
        assert_eq!(
            h.fails(a, sql),
            failure("22012", "division by zero"),
            "{sql}"
        );
    }
}

#[test]
fn casts_and_stored_values_must_fit_their_type() {
    let mut h = Harness::new("CREATE TABLE t (i int, b bigint)");
    let a = h.connect();
    let int4 = failure("22003", "integer out of range");
    assert_eq!(h.fails(a, "SELECT 3000000000::int"), int4);
    assert_eq!(h.fails(a, "SELECT -2147483648::int"), int4);
    assert_eq!(h.fails(a, "INSERT INTO t VALUES (3000000000, 1)"), int4);
    assert_eq!(
        h.fails(a, "SELECT '3000000000'::int"),
        failure(
            "22003",
            "value \"3000000000\" is out of range for type integer"
        )
    );
    assert_eq!(
        h.fails(a, "SELECT '99999999999999999999'::bigint"),
        failure(
            "22003",
            "value \"99999999999999999999\" is out of range for type bigint"
        )
    );
    assert_eq!(
        h.fails(a, "SELECT 'x'::bigint"),
        failure("22P02", "invalid input syntax for type bigint: \"x\"")
    );
    assert_eq!(h.rows(a, "SELECT 3000000000::bigint")[0][0], "3000000000");
    h.ok(a, "INSERT INTO t VALUES (2147483647, 4611686018427387904)");
    assert_eq!(h.fails(a, "SELECT i + 1 FROM t"), int4);
    assert_eq!(h.fails(a, "UPDATE t SET i = i * 2"), int4);
    assert_eq!(
        h.rows(a, "SELECT i + b FROM t")[0][0],
        "4611686020574871551"
    );
    assert_eq!(
        h.fails(a, "SELECT b * 2 FROM t"),
        failure("22003", "bigint out of range")
    );
    assert_eq!(h.rows(a, "SELECT sum(i) FROM t")[0][0], "2147483647");
}

#[test]
fn results_the_subset_cannot_hold_are_refused_as_unsupported() {
    let mut h = Harness::new(
        "CREATE TABLE t (b bigint);
         INSERT INTO t VALUES (9223372036854775807), (1)",
    );
    let a = h.connect();
    let err = h
        .exec(a, "SELECT 1, 99999999999999999999")
        .unwrap()
        .error
        .unwrap();
    assert_eq!(err.code, "0A000");
    assert_eq!(
        err.message,
        "numeric literal 99999999999999999999, beyond the bigint range, is not supported by Lockstep's SQL subset"
    );
    assert_eq!(err.position, Some((11, 1, 11)));
    assert_eq!(
        h.fails(a, "SELECT sum(b) FROM t"),
        failure(
            "0A000",
            "numeric values beyond the bigint range are not supported by Lockstep's SQL subset"
        )
    );
}

#[test]
fn what_the_subset_lacks_is_named_with_its_position() {
    let mut h = Harness::new("CREATE TABLE t (id int PRIMARY KEY)");
    let a = h.connect();
    for (sql, message, position) in [
        ("WITH x AS (SELECT 1) SELECT * FROM x", "WITH", 1),
        (
            "SELECT id, count(*) OVER () FROM t",
            "a window function (OVER)",
            21,
        ),
        ("VACUUM t", "VACUUM", 1),
        ("CREATE FUNCTION f() RETURNS int", "CREATE FUNCTION", 1),
        ("SELECT pg_sleep(1)", "function pg_sleep", 8),
        ("SELECT now()", "function now", 8),
        ("SELECT abs(-1)", "function abs", 8),
        ("SELECT repeat('x', 3)", "function repeat", 8),
    ] {
        let err = h.exec(a, sql).unwrap().error.unwrap();
        assert_eq!(err.code, "0A000", "{sql}");
        assert_eq!(
            err.message,
            format!("{message} is not supported by Lockstep's SQL subset")
        );
        assert_eq!(err.position.map(|p| p.0), Some(position), "{sql}");
    }
    let err = h
        .exec(a, "SELECT made_up_function(1)")
        .unwrap()
        .error
        .unwrap();
    assert_eq!(
        (err.code.as_str(), err.message.as_str()),
        ("42883", "function made_up_function does not exist")
    );
}
