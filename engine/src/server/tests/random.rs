//! Random SQL and random concurrent workloads: the server never panics and keeps its invariants.

use super::*;

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
