//! What PostgreSQL has and Lockstep's SQL subset does not, in one place, so that the parser can
//! say `<what> is not supported by Lockstep's SQL subset` (SQLSTATE 0A000) with a position
//! instead of a syntax error PostgreSQL would never give, or `function X does not exist` for
//! a function PostgreSQL does have.
//!
//! The lists are deliberately modest: the commonly used names, not every entry of PostgreSQL
//! 15's grammar (`src/backend/parser/gram.y`) or catalog (`pg_proc`). A name in none of them
//! keeps PostgreSQL's own error: a syntax error for an unknown statement keyword, `function X
//! does not exist` (42883) for an unknown function.

/// Functions PostgreSQL 15 has that the engine does not implement. The engine implements
/// `count`, `sum`, `min`, `max`, `coalesce`, `lower`, `upper`, `nextval`, `current_setting`,
/// `pg_backend_pid` and the advisory-lock functions, so none of those may appear here.
pub const POSTGRES_FUNCTIONS: &[&str] = &[
    "abs",
    "array_agg",
    "avg",
    "bool_and",
    "bool_or",
    "btrim",
    "ceil",
    "ceiling",
    "char_length",
    "clock_timestamp",
    "concat",
    "concat_ws",
    "date_part",
    "date_trunc",
    "dense_rank",
    "div",
    "extract",
    "floor",
    "format",
    "gen_random_uuid",
    "generate_series",
    "greatest",
    "json_agg",
    "jsonb_agg",
    "lag",
    "lead",
    "least",
    "left",
    "length",
    "ltrim",
    "md5",
    "mod",
    "now",
    "nullif",
    "pg_cancel_backend",
    "pg_current_xact_id",
    "pg_sleep",
    "pg_terminate_backend",
    "position",
    "power",
    "random",
    "rank",
    "regexp_replace",
    "repeat",
    "replace",
    "reverse",
    "right",
    "round",
    "row_number",
    "rtrim",
    "sign",
    "split_part",
    "sqrt",
    "statement_timestamp",
    "string_agg",
    "strpos",
    "substr",
    "substring",
    "timeofday",
    "to_char",
    "to_date",
    "to_number",
    "to_timestamp",
    "transaction_timestamp",
    "trim",
    "trunc",
    "txid_current",
];

/// Statements PostgreSQL 15 has that the subset lacks, by their first keyword (lower case).
/// `CREATE` and `DROP` of anything but a table are named by [`POSTGRES_OBJECT_KINDS`].
pub const POSTGRES_STATEMENTS: &[&str] = &[
    "alter",
    "analyse",
    "analyze",
    "call",
    "checkpoint",
    "close",
    "cluster",
    "comment",
    "copy",
    "deallocate",
    "declare",
    "discard",
    "do",
    "execute",
    "explain",
    "fetch",
    "grant",
    "import",
    "listen",
    "load",
    "merge",
    "move",
    "notify",
    "prepare",
    "reassign",
    "refresh",
    "reindex",
    "reset",
    "revoke",
    "table",
    "truncate",
    "unlisten",
    "vacuum",
    "values",
    "with",
];

/// What PostgreSQL's `CREATE` and `DROP` make or remove besides a table (the word after the
/// command; `materialized`, `foreign`, `event` and `text` take one more word).
pub const POSTGRES_OBJECT_KINDS: &[&str] = &[
    "aggregate",
    "cast",
    "collation",
    "conversion",
    "database",
    "domain",
    "event",
    "extension",
    "foreign",
    "function",
    "index",
    "language",
    "materialized",
    "operator",
    "policy",
    "procedure",
    "publication",
    "role",
    "rule",
    "schema",
    "sequence",
    "server",
    "statistics",
    "subscription",
    "tablespace",
    "temp",
    "temporary",
    "text",
    "transform",
    "trigger",
    "type",
    "unlogged",
    "user",
    "view",
];

/// Object kinds that are named by two words (`MATERIALIZED VIEW`, `TEMPORARY TABLE`).
pub const TWO_WORD_OBJECT_KINDS: &[&str] = &[
    "event",
    "foreign",
    "materialized",
    "temp",
    "temporary",
    "text",
    "unlogged",
];

/// PostgreSQL's SQL value functions, which are keywords written without parentheses.
pub const POSTGRES_VALUE_KEYWORDS: &[&str] = &[
    "current_catalog",
    "current_date",
    "current_role",
    "current_time",
    "current_timestamp",
    "current_user",
    "localtime",
    "localtimestamp",
    "session_user",
];

/// Operators written as keywords that the subset's expressions lack.
pub const POSTGRES_KEYWORD_OPERATORS: &[&str] = &["between", "ilike", "like", "similar"];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_lists_are_sorted_and_leave_out_what_the_engine_implements() {
        for list in [
            POSTGRES_FUNCTIONS,
            POSTGRES_STATEMENTS,
            POSTGRES_OBJECT_KINDS,
            TWO_WORD_OBJECT_KINDS,
            POSTGRES_VALUE_KEYWORDS,
            POSTGRES_KEYWORD_OPERATORS,
        ] {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "{list:?}");
        }
        for implemented in [
            "count",
            "sum",
            "min",
            "max",
            "coalesce",
            "lower",
            "upper",
            "nextval",
            "current_setting",
            "pg_backend_pid",
            "pg_advisory_lock",
        ] {
            assert!(!POSTGRES_FUNCTIONS.contains(&implemented), "{implemented}");
        }
    }
}
