//! Expression evaluation. Evaluation is pure except for function calls, which go through a
//! callback: advisory-lock functions can make a statement wait in the middle of a scan, so the
//! executor supplies them with access to the lock manager.

use super::integer::{self, IntType};
use super::row_ref::RowRef;
use super::storage::Value;
use super::PgError;
use crate::sql::{BinOp, Expr, SqlType};
use std::cmp::Ordering;

/// Why evaluation stopped early.
#[derive(Debug)]
pub(crate) enum Stop {
    /// The statement fails.
    Error(PgError),
    /// A function call has to wait for a lock; the row is evaluated again once it is granted.
    Wait,
}

impl From<PgError> for Stop {
    fn from(e: PgError) -> Stop {
        Stop::Error(e)
    }
}

/// The function-call callback: name (lower case) and evaluated arguments.
pub(crate) type Functions<'f> = dyn FnMut(&str, &[Value]) -> Result<Value, Stop> + 'f;

/// Evaluates `e` on `row`.
pub(crate) fn eval(e: &Expr, row: RowRef<'_>, f: &mut Functions<'_>) -> Result<Value, Stop> {
    match e {
        Expr::Null => Ok(Value::Null),
        Expr::Int(n) => Ok(Value::Int(*n)),
        Expr::Str(s) => Ok(Value::Text(s.clone())),
        Expr::Bool(b) => Ok(Value::Bool(*b)),
        Expr::Star => Ok(Value::Null),
        Expr::Default => {
            Err(PgError::error("42601", "DEFAULT is not allowed in this context").into())
        }
        Expr::Column(qual, name) => column(row, qual.as_deref(), name),
        Expr::Not(inner) => match eval(inner, row, f)? {
            Value::Bool(b) => Ok(Value::Bool(!b)),
            Value::Null => Ok(Value::Null),
            v => Err(type_error("NOT", &v).into()),
        },
        Expr::Neg(inner) => match eval(inner, row, f)? {
            Value::Int(n) => Ok(Value::Int(integer::negate(
                n,
                integer::type_of(inner, row),
            )?)),
            Value::Null => Ok(Value::Null),
            v => Err(type_error("-", &v).into()),
        },
        Expr::IsNull(inner, negated) => {
            let v = eval(inner, row, f)?;
            Ok(Value::Bool((v == Value::Null) != *negated))
        }
        Expr::InList(inner, list, negated) => {
            let v = eval(inner, row, f)?;
            if v == Value::Null {
                return Ok(Value::Null);
            }
            let mut saw_null = false;
            for item in list {
                let x = eval(item, row, f)?;
                match v.compare(&x) {
                    Some(Ordering::Equal) => return Ok(Value::Bool(!*negated)),
                    None if x == Value::Null => saw_null = true,
                    _ => {}
                }
            }
            if saw_null {
                Ok(Value::Null)
            } else {
                Ok(Value::Bool(*negated))
            }
        }
        Expr::Cast(inner, ty) => {
            let v = eval(inner, row, f)?;
            coerce(v, *ty, "?column?")
        }
        Expr::Function(name, args) => {
            let mut vals = Vec::with_capacity(args.len());
            for a in args {
                vals.push(eval(a, row, f)?);
            }
            f(name, &vals)
        }
        Expr::Binary(op, l, r) => {
            // AND/OR short-circuit like PostgreSQL usually does, which matters when the right
            // side calls a locking function.
            match op {
                BinOp::And => {
                    let a = eval(l, row, f)?;
                    if a == Value::Bool(false) {
                        return Ok(a);
                    }
                    let b = eval(r, row, f)?;
                    return Ok(match (a, b) {
                        (_, Value::Bool(false)) => Value::Bool(false),
                        (Value::Bool(true), Value::Bool(true)) => Value::Bool(true),
                        _ => Value::Null,
                    });
                }
                BinOp::Or => {
                    let a = eval(l, row, f)?;
                    if a == Value::Bool(true) {
                        return Ok(a);
                    }
                    let b = eval(r, row, f)?;
                    return Ok(match (a, b) {
                        (_, Value::Bool(true)) => Value::Bool(true),
                        (Value::Bool(false), Value::Bool(false)) => Value::Bool(false),
                        _ => Value::Null,
                    });
                }
                _ => {}
            }
            let a = eval(l, row, f)?;
            let b = eval(r, row, f)?;
            binary(*op, a, b, integer::type_of(e, row))
        }
    }
}

fn column(row: RowRef<'_>, qual: Option<&str>, name: &str) -> Result<Value, Stop> {
    if qual == Some("excluded") {
        if let (Some((_, cols)), Some(vals)) = (row.table, row.excluded) {
            return match cols.iter().position(|c| c.name == name) {
                Some(i) => Ok(vals.get(i).cloned().unwrap_or(Value::Null)),
                None => Err(PgError::error(
                    "42703",
                    format!("column excluded.{name} does not exist"),
                )
                .into()),
            };
        }
    }
    let Some((tname, cols)) = row.table else {
        return Err(PgError::no_such_column(name).into());
    };
    if let Some(q) = qual {
        let matches = match row.alias {
            Some(a) => a == q,
            None => tname == q,
        };
        if !matches {
            return Err(PgError::error(
                "42P01",
                format!("missing FROM-clause entry for table \"{q}\""),
            )
            .into());
        }
    }
    match cols.iter().position(|c| c.name == name) {
        Some(i) => Ok(row
            .values
            .and_then(|v| v.get(i).cloned())
            .unwrap_or(Value::Null)),
        None => match qual {
            Some(q) => {
                Err(PgError::error("42703", format!("column {q}.{name} does not exist")).into())
            }
            None => Err(PgError::no_such_column(name).into()),
        },
    }
}

fn type_error(op: &str, v: &Value) -> PgError {
    PgError::error(
        "42883",
        format!("operator does not exist: {op} {}", type_name(v)),
    )
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "unknown",
        Value::Int(_) => "integer",
        Value::Text(_) => "text",
        Value::Bool(_) => "boolean",
        Value::Void => "void",
    }
}

fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Int(n) => Some(*n),
        Value::Text(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// `a op b`; `ty` is the integer type PostgreSQL would compute an arithmetic result in.
fn binary(op: BinOp, a: Value, b: Value, ty: IntType) -> Result<Value, Stop> {
    use BinOp::*;
    match op {
        Eq | NotEq | Lt | LtEq | Gt | GtEq => {
            if a == Value::Null || b == Value::Null {
                return Ok(Value::Null);
            }
            let Some(ord) = a.compare(&b) else {
                return Err(PgError::error(
                    "42883",
                    format!(
                        "operator does not exist: {} {} {}",
                        type_name(&a),
                        op_text(op),
                        type_name(&b)
                    ),
                )
                .into());
            };
            Ok(Value::Bool(match op {
                Eq => ord == Ordering::Equal,
                NotEq => ord != Ordering::Equal,
                Lt => ord == Ordering::Less,
                LtEq => ord != Ordering::Greater,
                Gt => ord == Ordering::Greater,
                _ => ord != Ordering::Less,
            }))
        }
        Concat => match (a.to_text(), b.to_text()) {
            (Some(x), Some(y)) => Ok(Value::Text(x + &y)),
            _ => Ok(Value::Null),
        },
        Add | Sub | Mul | Div | Mod => {
            if a == Value::Null || b == Value::Null {
                return Ok(Value::Null);
            }
            let (Some(x), Some(y)) = (as_int(&a), as_int(&b)) else {
                return Err(PgError::error(
                    "42883",
                    format!(
                        "operator does not exist: {} {} {}",
                        type_name(&a),
                        op_text(op),
                        type_name(&b)
                    ),
                )
                .into());
            };
            Ok(Value::Int(integer::arithmetic(op, x, y, ty)?))
        }
        And | Or => Ok(Value::Null),
    }
}

fn op_text(op: BinOp) -> &'static str {
    use BinOp::*;
    match op {
        Eq => "=",
        NotEq => "<>",
        Lt => "<",
        LtEq => "<=",
        Gt => ">",
        GtEq => ">=",
        And => "AND",
        Or => "OR",
        Add => "+",
        Sub => "-",
        Mul => "*",
        Div => "/",
        Mod => "%",
        Concat => "||",
    }
}

/// Converts a value to a column type, as an assignment cast would.
pub(crate) fn coerce(v: Value, ty: SqlType, column: &str) -> Result<Value, Stop> {
    match (ty, v) {
        (_, Value::Null) => Ok(Value::Null),
        // An integer that does not fit the target type fails as PostgreSQL's `int84`
        // (`src/backend/utils/adt/int8.c`): `integer out of range`.
        (SqlType::Int | SqlType::BigInt | SqlType::Numeric, Value::Int(n)) => {
            Ok(Value::Int(IntType::of_sql(ty).check(n.into())?))
        }
        (SqlType::Int | SqlType::BigInt | SqlType::Numeric, Value::Text(s)) => {
            Ok(Value::Int(integer::parse_text(&s, IntType::of_sql(ty))?))
        }
        (SqlType::Text, v) => Ok(Value::Text(v.to_text().unwrap_or_default())),
        (SqlType::Bool, Value::Bool(b)) => Ok(Value::Bool(b)),
        (SqlType::Bool, Value::Text(s)) => match s.to_ascii_lowercase().as_str() {
            "t" | "true" | "yes" | "on" | "1" => Ok(Value::Bool(true)),
            "f" | "false" | "no" | "off" | "0" => Ok(Value::Bool(false)),
            _ => Err(PgError::error(
                "22P02",
                format!("invalid input syntax for type boolean: \"{s}\""),
            )
            .into()),
        },
        (ty, v) => Err(PgError::error(
            "42804",
            format!(
                "column \"{column}\" is of type {} but expression is of type {}",
                match ty {
                    SqlType::Int | SqlType::BigInt | SqlType::Numeric => IntType::of_sql(ty).name(),
                    SqlType::Text => "text",
                    SqlType::Bool => "boolean",
                },
                type_name(&v)
            ),
        )
        .into()),
    }
}

/// The output column name PostgreSQL gives an expression.
pub(crate) fn column_name(e: &Expr) -> String {
    match e {
        Expr::Column(_, name) => name.clone(),
        Expr::Function(name, _) => name.clone(),
        Expr::Cast(inner, _) => column_name(inner),
        Expr::Bool(_) => "bool".to_string(),
        _ => "?column?".to_string(),
    }
}

/// True when `v` is SQL TRUE (NULL and FALSE filter a row out).
pub(crate) fn is_true(v: &Value) -> bool {
    *v == Value::Bool(true)
}
