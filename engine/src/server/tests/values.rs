//! Values and the SQL subset: integer arithmetic and casts with PostgreSQL's errors, and what the
//! subset refuses.

use super::*;

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
