//! The row an expression reads: what evaluation (`eval.rs`) and integer typing (`integer.rs`)
//! both look at, kept apart so neither imports the other for it.

use super::storage::{Column, Value};

/// The row an expression is evaluated against.
#[derive(Clone, Copy)]
pub(crate) struct RowRef<'a> {
    /// The table's name and columns, if the statement reads one.
    pub table: Option<(&'a str, &'a [Column])>,
    /// The alias given to the table, if any.
    pub alias: Option<&'a str>,
    /// The current row's values.
    pub values: Option<&'a [Value]>,
    /// ON CONFLICT's EXCLUDED row.
    pub excluded: Option<&'a [Value]>,
}

impl<'a> RowRef<'a> {
    /// No table, no row (SELECT without FROM, VALUES lists).
    pub fn empty() -> RowRef<'a> {
        RowRef {
            table: None,
            alias: None,
            values: None,
            excluded: None,
        }
    }
}
