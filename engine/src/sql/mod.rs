//! The SQL subset: lexer, syntax tree and a recursive-descent parser whose errors name the
//! position of the problem.
//!
//! The subset is what the lessons and the PostgreSQL conformance specs use: CREATE/DROP TABLE,
//! INSERT … ON CONFLICT, UPDATE, DELETE, SELECT with WHERE/ORDER BY/LIMIT and the four locking
//! clauses, transaction control with savepoints, SET/SHOW and LOCK TABLE. Anything else is an
//! error that says where it is, never a panic.

pub mod ast;
pub mod lexer;
pub mod parser;
pub mod unsupported;

pub use ast::*;
pub use parser::parse;

use serde::{Deserialize, Serialize};
use std::fmt;

/// A syntax error or an unsupported construct, with its 1-based line and column.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SqlError {
    /// What is wrong, in PostgreSQL's words where it has some (`syntax error at or near "X"`).
    pub message: String,
    /// 1-based line of the offending token.
    pub line: u32,
    /// 1-based column (in characters) of the offending token.
    pub column: u32,
    /// 1-based character position in the whole query string, as PostgreSQL reports it.
    pub position: u32,
}

impl SqlError {
    /// An error at byte `offset` of `src`.
    pub fn at(src: &str, offset: usize, message: &str) -> SqlError {
        let offset = offset.min(src.len());
        let before = &src[..offset];
        let line = before.matches('\n').count() as u32 + 1;
        let line_start = before.rfind('\n').map(|i| i + 1).unwrap_or(0);
        let column = src[line_start..offset].chars().count() as u32 + 1;
        let position = before.chars().count() as u32 + 1;
        SqlError {
            message: message.to_string(),
            line,
            column,
            position,
        }
    }
}

impl fmt::Display for SqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} (line {}, column {})",
            self.message, self.line, self.column
        )
    }
}

impl std::error::Error for SqlError {}

#[cfg(test)]
mod tests {
    use super::*;

    fn one(sql: &str) -> StatementKind {
        let mut v = parse(sql).unwrap();
        assert_eq!(v.len(), 1, "{sql}");
        v.remove(0).kind
    }

    #[test]
    fn a_query_string_splits_into_statements_with_their_text() {
        let v = parse("BEGIN; SET deadlock_timeout = '100s'; ").unwrap();
        assert_eq!(v.len(), 2);
        assert_eq!(v[0].kind, StatementKind::Begin(None));
        assert_eq!(v[1].text, "SET deadlock_timeout = '100s'");
        assert_eq!(
            v[1].kind,
            StatementKind::Set {
                name: "deadlock_timeout".into(),
                value: "100s".into()
            }
        );
    }

    #[test]
    fn create_table_reads_keys_include_and_constraints() {
        let StatementKind::CreateTable(t) =
            one("CREATE TABLE ints (key int, val text, PRIMARY KEY (key) INCLUDE (val))")
        else {
            panic!()
        };
        assert_eq!(t.primary_key, Some(vec!["key".to_string()]));
        assert_eq!(t.columns.len(), 2);
        let StatementKind::CreateTable(t) = one("CREATE TABLE a1 ();") else {
            panic!()
        };
        assert!(t.columns.is_empty());
        let StatementKind::CreateTable(t) =
            one("CREATE TABLE foo (id int PRIMARY KEY, data text NOT NULL, h text UNIQUE)")
        else {
            panic!()
        };
        assert_eq!(t.unique, vec![vec!["h".to_string()]]);
        assert!(t.columns[1].not_null);
    }

    #[test]
    fn serial_is_an_int_with_a_sequence_default() {
        let StatementKind::CreateTable(t) = one("CREATE TABLE sr (id serial PRIMARY KEY, v int)")
        else {
            panic!()
        };
        assert_eq!(t.columns[0].ty, SqlType::Int);
        assert_eq!(
            t.columns[0].default,
            Some(Expr::Function(
                "nextval".into(),
                vec![Expr::Str("sr_id_seq".into())]
            ))
        );
    }

    #[test]
    fn select_accepts_limit_before_or_after_the_locking_clause() {
        let StatementKind::Select(s) =
            one("SELECT * FROM queue ORDER BY id FOR UPDATE SKIP LOCKED LIMIT 1")
        else {
            panic!()
        };
        assert_eq!(s.limit, Some(Expr::Int(1)));
        assert_eq!(
            s.locking,
            Some(Locking {
                strength: RowLockStrength::Update,
                wait: WaitPolicy::SkipLocked
            })
        );
        let StatementKind::Select(s) =
            one("select id from tlu_job where id = 1 for no key update nowait")
        else {
            panic!()
        };
        assert_eq!(
            s.locking,
            Some(Locking {
                strength: RowLockStrength::NoKeyUpdate,
                wait: WaitPolicy::NoWait
            })
        );
    }

    #[test]
    fn insert_reads_on_conflict_do_update_with_qualified_columns() {
        let StatementKind::Insert(i) = one(
            "INSERT INTO upsert(key, val) VALUES(1, 'insert1') ON CONFLICT (key) DO UPDATE set val = upsert.val || ' updated by insert1'",
        ) else {
            panic!()
        };
        let Some(OnConflict {
            target: Some(t),
            action: ConflictAction::Update { assignments, .. },
        }) = i.on_conflict
        else {
            panic!()
        };
        assert_eq!(t, vec!["key".to_string()]);
        assert_eq!(assignments[0].0, "val");
    }

    #[test]
    fn lock_table_defaults_to_access_exclusive() {
        assert_eq!(
            one("LOCK TABLE a1"),
            StatementKind::Lock {
                tables: vec!["a1".into()],
                mode: TableLockMode::AccessExclusive,
                nowait: false
            }
        );
        assert_eq!(
            one("LOCK TABLE a1 IN SHARE ROW EXCLUSIVE MODE NOWAIT"),
            StatementKind::Lock {
                tables: vec!["a1".into()],
                mode: TableLockMode::ShareRowExclusive,
                nowait: true
            }
        );
    }

    #[test]
    fn syntax_errors_name_the_token_line_and_column() {
        let err = parse("SELECT 1;\nSELEC 2").unwrap_err();
        assert_eq!(err.message, "syntax error at or near \"SELEC\"");
        assert_eq!((err.line, err.column), (2, 1));
        let err = parse("SELECT * FROM").unwrap_err();
        assert_eq!(err.message, "syntax error at end of input");
    }

    #[test]
    fn a_minus_sign_folds_into_the_literal_unless_a_cast_binds_first() {
        let item = |sql: &str| {
            let StatementKind::Select(s) = one(sql) else {
                panic!()
            };
            match s.items.into_iter().next() {
                Some(SelectItem::Expr(e, _)) => e,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(item("SELECT -9223372036854775808"), Expr::Int(i64::MIN));
        assert_eq!(
            item("SELECT -2147483648::int"),
            Expr::Neg(Box::new(Expr::Cast(
                Box::new(Expr::Int(2_147_483_648)),
                SqlType::Int
            )))
        );
        let err = parse("SELECT 9223372036854775808").unwrap_err();
        assert_eq!(
            err.message,
            "numeric literal 9223372036854775808, beyond the bigint range, is not supported by Lockstep's SQL subset"
        );
        assert_eq!(err.position, 8);
        let err = parse("SELECT 1.5").unwrap_err();
        assert_eq!(
            err.message,
            "numeric literal 1.5 is not supported by Lockstep's SQL subset"
        );
    }

    /// The message and 1-based position of the error `sql` fails to parse with.
    fn refused(sql: &str) -> (String, u32) {
        let err = parse(sql).unwrap_err();
        (err.message, err.position)
    }

    fn not_supported(what: &str, position: u32) -> (String, u32) {
        (
            format!("{what} is not supported by Lockstep's SQL subset"),
            position,
        )
    }

    #[test]
    fn statements_outside_the_subset_are_named_where_they_start() {
        assert_eq!(
            refused("WITH x AS (SELECT 1) SELECT * FROM x"),
            not_supported("WITH", 1)
        );
        assert_eq!(refused("SELECT 1;\nVACUUM"), not_supported("VACUUM", 11));
        assert_eq!(refused("VACUUM FULL t"), not_supported("VACUUM", 1));
        assert_eq!(
            refused("CREATE FUNCTION f() RETURNS int AS 'select 1' LANGUAGE sql"),
            not_supported("CREATE FUNCTION", 1)
        );
        assert_eq!(
            refused("CREATE OR REPLACE FUNCTION f() RETURNS int"),
            not_supported("CREATE OR REPLACE FUNCTION", 1)
        );
        assert_eq!(
            refused("create materialized view v as select 1"),
            not_supported("CREATE MATERIALIZED VIEW", 1)
        );
        assert_eq!(refused("DROP VIEW v"), not_supported("DROP VIEW", 1));
        assert_eq!(
            refused("ALTER TABLE t ADD COLUMN c int"),
            not_supported("ALTER TABLE", 1)
        );
        assert_eq!(refused("TRUNCATE t"), not_supported("TRUNCATE", 1));
        // Words PostgreSQL does not know stay syntax errors.
        assert_eq!(
            refused("FROBNICATE t"),
            ("syntax error at or near \"FROBNICATE\"".to_string(), 1)
        );
        assert_eq!(
            refused("CREATE WIDGET w"),
            ("syntax error at or near \"WIDGET\"".to_string(), 8)
        );
    }

    #[test]
    fn constructs_outside_the_subset_are_named_where_they_are() {
        assert_eq!(
            refused("SELECT id, count(*) OVER () FROM t"),
            not_supported("a window function (OVER)", 21)
        );
        assert_eq!(
            refused("SELECT row_number() OVER (ORDER BY id) FROM t"),
            not_supported("a window function (OVER)", 21)
        );
        assert_eq!(
            refused("SELECT DISTINCT id FROM t"),
            not_supported("SELECT DISTINCT", 8)
        );
        assert_eq!(
            refused("SELECT count(DISTINCT id) FROM t"),
            not_supported("DISTINCT in a function call", 14)
        );
        assert_eq!(
            refused("SELECT id FROM t EXCEPT SELECT 1"),
            not_supported("EXCEPT", 18)
        );
        assert_eq!(
            refused("SELECT 1 UNION SELECT 2"),
            not_supported("UNION", 10)
        );
        assert_eq!(
            refused("SELECT * FROM t WHERE id NOT BETWEEN 1 AND 2"),
            not_supported("BETWEEN", 30)
        );
        assert_eq!(
            refused("SELECT * FROM t WHERE name LIKE 'a%'"),
            not_supported("LIKE", 28)
        );
        assert_eq!(
            refused("SELECT * FROM t WHERE ok IS TRUE"),
            not_supported("IS TRUE", 29)
        );
        assert_eq!(
            refused("SELECT current_timestamp"),
            not_supported("CURRENT_TIMESTAMP", 8)
        );
        assert_eq!(refused("SELECT CAST(1 AS int)"), not_supported("CAST", 8));
        assert_eq!(
            refused("SELECT interval '1 day'"),
            not_supported("type \"interval\"", 8)
        );
    }

    #[test]
    fn postgresql_functions_the_engine_lacks_are_named_where_they_are_called() {
        assert_eq!(
            refused("SELECT pg_sleep(1)"),
            not_supported("function pg_sleep", 8)
        );
        assert_eq!(refused("SELECT now()"), not_supported("function now", 8));
        assert_eq!(
            refused("SELECT 1 WHERE abs(-1) = 1"),
            not_supported("function abs", 16)
        );
        assert_eq!(
            refused("UPDATE t SET v = repeat('x', 3)"),
            not_supported("function repeat", 18)
        );
        assert_eq!(
            refused("SELECT substring(v FROM 2 FOR 3) FROM t"),
            not_supported("function substring", 8)
        );
        // A function PostgreSQL does not have either parses; the server says it does not
        // exist, as PostgreSQL does.
        assert!(parse("SELECT made_up_function(1)").is_ok());
        assert!(parse("SELECT lower('A'), coalesce(NULL, 1), count(*) FROM t").is_ok());
    }

    #[test]
    fn unsupported_sql_is_an_error_not_a_panic() {
        let err = parse("SELECT * FROM a JOIN b ON true").unwrap_err();
        assert!(err.message.contains("not supported"), "{}", err.message);
        for bad in [
            "(",
            ")",
            "'",
            "\"",
            "SELECT (",
            "INSERT INTO",
            "UPDATE t SET",
            "@",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
