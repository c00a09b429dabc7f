//! Unique keys: inserts, upserts and key updates that wait for each other, and what they fail
//! with.

use super::*;

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
