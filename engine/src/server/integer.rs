//! Integer arithmetic with PostgreSQL's result types and range checks.
//!
//! Every integer is held as an `i64`, so the type a result would have in PostgreSQL is worked
//! out from the expression: `int4 op int4` is int4, anything with an int8 is int8 (the
//! cross-type operators `int48pl`, `int84pl` and friends return int8), and an integer literal
//! is int4 when it fits, int8 otherwise (`make_const` in PostgreSQL 15's
//! `src/backend/parser/parse_node.c`). Overflow is an error, never a wrap: `int4pl`, `int4mi`,
//! `int4mul`, `int4div`, `int4um` in `src/backend/utils/adt/int.c` raise `integer out of
//! range`, their int8 counterparts in `src/backend/utils/adt/int8.c` raise `bigint out of
//! range`, both with SQLSTATE 22003; a zero divisor is `division by zero` (22012).
//!
//! smallint is kept as int4 (the subset has no int2 of its own). numeric holds integral values
//! only, so a numeric result beyond the int8 range is refused as unsupported rather than
//! wrapped.

use super::row_ref::RowRef;
use super::PgError;
use crate::sql::{BinOp, Expr, SqlType};

/// The PostgreSQL type an integer value has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum IntType {
    /// integer (int4); also smallint, which the subset keeps as int4.
    Int4,
    /// bigint (int8).
    Int8,
    /// numeric with an integral value.
    Numeric,
}

impl IntType {
    /// The type of an integer literal: int4 if it fits, else int8 (`make_const`).
    pub(crate) fn of_literal(n: i64) -> IntType {
        if i32::try_from(n).is_ok() {
            IntType::Int4
        } else {
            IntType::Int8
        }
    }

    /// The integer type a column or cast of `ty` has.
    pub(crate) fn of_sql(ty: SqlType) -> IntType {
        match ty {
            SqlType::BigInt => IntType::Int8,
            SqlType::Numeric => IntType::Numeric,
            SqlType::Int | SqlType::Text | SqlType::Bool => IntType::Int4,
        }
    }

    /// The name PostgreSQL's messages give the type.
    pub(crate) fn name(self) -> &'static str {
        match self {
            IntType::Int4 => "integer",
            IntType::Int8 => "bigint",
            IntType::Numeric => "numeric",
        }
    }

    /// `n` if it is in this type's range, else the type's overflow error.
    pub(crate) fn check(self, n: i128) -> Result<i64, PgError> {
        let fits = match self {
            IntType::Int4 => i32::try_from(n).is_ok(),
            IntType::Int8 | IntType::Numeric => i64::try_from(n).is_ok(),
        };
        if fits {
            Ok(n as i64)
        } else {
            Err(self.out_of_range())
        }
    }

    /// The error for a result outside this type's range.
    pub(crate) fn out_of_range(self) -> PgError {
        match self {
            IntType::Int4 => PgError::error("22003", "integer out of range"),
            IntType::Int8 => PgError::error("22003", "bigint out of range"),
            IntType::Numeric => PgError::error(
                "0A000",
                "numeric values beyond the bigint range are not supported by Lockstep's SQL subset",
            ),
        }
    }
}

/// `division by zero` (22012), as `int4div`, `int4mod`, `int8div` and `int8mod` report it.
pub(crate) fn division_by_zero() -> PgError {
    PgError::error("22012", "division by zero")
}

/// `x op y` for one of `+ - * / %`, computed in type `ty`.
pub(crate) fn arithmetic(op: BinOp, x: i64, y: i64, ty: IntType) -> Result<i64, PgError> {
    let (x, y) = (i128::from(x), i128::from(y));
    let r = match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div | BinOp::Mod if y == 0 => return Err(division_by_zero()),
        // Rust's `/` truncates toward zero as C's does; INT_MIN / -1 is caught by the check.
        BinOp::Div => x / y,
        // int4mod and int8mod return 0 for a divisor of -1 (INT_MIN % -1 would trap in C).
        _ => x % y,
    };
    ty.check(r)
}

/// Text read as an integer of type `ty`, as `int4in`/`int8in` (PostgreSQL 15's
/// `pg_strtoint32`/`pg_strtoint64` in `src/backend/utils/adt/numutils.c`) read it: surrounding
/// blanks and a sign are allowed, anything else is `invalid input syntax` (22P02), and digits
/// beyond the type's range are `value "…" is out of range for type …` (22003).
pub(crate) fn parse_text(s: &str, ty: IntType) -> Result<i64, PgError> {
    let t = s.trim();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PgError::error(
            "22P02",
            format!("invalid input syntax for type {}: \"{s}\"", ty.name()),
        ));
    }
    let out_of_range = || match ty {
        IntType::Numeric => ty.out_of_range(),
        _ => PgError::error(
            "22003",
            format!("value \"{s}\" is out of range for type {}", ty.name()),
        ),
    };
    let n = t.parse::<i128>().map_err(|_| out_of_range())?;
    ty.check(n).map_err(|_| out_of_range())
}

/// Unary minus in type `ty` (`int4um`, `int8um`): the most negative value has no negation.
pub(crate) fn negate(x: i64, ty: IntType) -> Result<i64, PgError> {
    ty.check(-i128::from(x))
}

/// The integer type `e` has when evaluated against `row`. Non-integer expressions (text,
/// booleans, NULL) count as int4, the narrowest, so that an untyped literal such as `'5'`
/// takes the other operand's type as PostgreSQL's `unknown` does.
pub(crate) fn type_of(e: &Expr, row: RowRef<'_>) -> IntType {
    match e {
        Expr::Int(n) => IntType::of_literal(*n),
        // Whatever the qualifier (the table, its alias or EXCLUDED), the columns are the table's.
        Expr::Column(_, name) => column_type(row, name),
        Expr::Neg(inner) => type_of(inner, row),
        Expr::Cast(_, ty) => IntType::of_sql(*ty),
        Expr::Binary(BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div | BinOp::Mod, l, r) => {
            type_of(l, row).max(type_of(r, row))
        }
        Expr::Function(name, args) => function_type(name, args, row),
        _ => IntType::Int4,
    }
}

/// The declared type of a column of the row's table (int4 when it is not found: evaluation
/// reports the missing column itself).
fn column_type(row: RowRef<'_>, name: &str) -> IntType {
    row.table
        .and_then(|(_, cols)| cols.iter().find(|c| c.name == name))
        .map_or(IntType::Int4, |c| IntType::of_sql(c.ty))
}

/// The result types of the functions the engine has that return integers: `nextval` and
/// `count` return bigint, `sum` of an int4 bigint and of an int8 numeric; `min`, `max` and
/// `coalesce` the type of their arguments.
pub(crate) fn function_type(name: &str, args: &[Expr], row: RowRef<'_>) -> IntType {
    let widest = || args.iter().map(|a| type_of(a, row)).max();
    match name {
        "nextval" | "count" => IntType::Int8,
        "sum" => match widest() {
            Some(IntType::Int4) | None => IntType::Int8,
            Some(_) => IntType::Numeric,
        },
        "min" | "max" | "coalesce" => widest().unwrap_or(IntType::Int4),
        _ => IntType::Int4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_int4_when_they_fit_and_int8_otherwise() {
        assert_eq!(IntType::of_literal(2_147_483_647), IntType::Int4);
        assert_eq!(IntType::of_literal(-2_147_483_648), IntType::Int4);
        assert_eq!(IntType::of_literal(2_147_483_648), IntType::Int8);
        assert_eq!(IntType::of_literal(i64::MIN), IntType::Int8);
    }

    #[test]
    fn int4_arithmetic_overflows_at_the_int4_bounds() {
        let err = arithmetic(BinOp::Add, 2_147_483_647, 1, IntType::Int4).unwrap_err();
        assert_eq!(
            (err.code.as_str(), err.message.as_str()),
            ("22003", "integer out of range")
        );
        assert_eq!(
            arithmetic(BinOp::Add, 2_147_483_647, 1, IntType::Int8),
            Ok(2_147_483_648)
        );
        assert!(arithmetic(BinOp::Sub, -2_147_483_648, 1, IntType::Int4).is_err());
        assert!(arithmetic(BinOp::Mul, 65_536, 32_768, IntType::Int4).is_err());
        assert!(arithmetic(BinOp::Div, -2_147_483_648, -1, IntType::Int4).is_err());
        assert_eq!(
            arithmetic(BinOp::Mod, -2_147_483_648, -1, IntType::Int4),
            Ok(0)
        );
        assert!(negate(-2_147_483_648, IntType::Int4).is_err());
    }

    #[test]
    fn int8_arithmetic_overflows_at_the_int8_bounds() {
        let err = negate(i64::MIN, IntType::Int8).unwrap_err();
        assert_eq!(
            (err.code.as_str(), err.message.as_str()),
            ("22003", "bigint out of range")
        );
        assert!(arithmetic(BinOp::Add, i64::MAX, 1, IntType::Int8).is_err());
        assert!(arithmetic(BinOp::Mul, i64::MAX, 2, IntType::Int8).is_err());
        assert!(arithmetic(BinOp::Div, i64::MIN, -1, IntType::Int8).is_err());
        assert_eq!(arithmetic(BinOp::Mod, i64::MIN, -1, IntType::Int8), Ok(0));
        assert_eq!(arithmetic(BinOp::Div, -7, 2, IntType::Int8), Ok(-3));
        assert_eq!(arithmetic(BinOp::Mod, -7, 2, IntType::Int8), Ok(-1));
    }

    #[test]
    fn a_zero_divisor_is_division_by_zero() {
        for op in [BinOp::Div, BinOp::Mod] {
            for ty in [IntType::Int4, IntType::Int8] {
                let err = arithmetic(op, 1, 0, ty).unwrap_err();
                assert_eq!(
                    (err.code.as_str(), err.message.as_str()),
                    ("22012", "division by zero")
                );
            }
        }
    }
}
