//! Planning a statement: which table locks it takes and what work it does (the access path,
//! and so the row order, comes from [`super::access_path`]).

use super::*;
use crate::server::locks::LockMode;
use crate::server::storage::Table;
use crate::server::{PgError, Server};
use crate::sql::{Delete, Expr, Insert, OnConflict, Select, SelectItem, StatementKind, Update};

impl Server {
    /// Builds the statement's execution state: which table locks it needs and what it does.
    pub(super) fn plan(&self, kind: StatementKind) -> Result<Exec, PgError> {
        let mut exec = Exec {
            locks: Vec::new(),
            locks_done: 0,
            nowait: false,
            started: false,
            snapshot: None,
            body: Body::Lock,
        };
        match kind {
            StatementKind::Lock {
                tables,
                mode,
                nowait,
            } => {
                for name in tables {
                    let t = self.table(&name)?;
                    exec.locks.push((t.oid, t.name.clone(), mode));
                }
                exec.nowait = nowait;
            }
            StatementKind::DropTable { names, if_exists } => {
                let mut keep = Vec::new();
                for name in names {
                    match self.tables.get(&name) {
                        Some(t) => {
                            exec.locks
                                .push((t.oid, t.name.clone(), LockMode::AccessExclusive));
                            keep.push(name);
                        }
                        None if if_exists => {}
                        None => {
                            return Err(PgError::error(
                                "42P01",
                                format!("table \"{name}\" does not exist"),
                            ))
                        }
                    }
                }
                exec.body = Body::Drop(keep);
            }
            StatementKind::Select(sel) => self.plan_select(sel, &mut exec)?,
            StatementKind::Update(u) => self.plan_update(u, &mut exec)?,
            StatementKind::Delete(d) => self.plan_delete(d, &mut exec)?,
            StatementKind::Insert(ins) => self.plan_insert(ins, &mut exec)?,
            _ => {
                return Err(PgError::error(
                    "0A000",
                    "statement not supported here by Lockstep",
                ))
            }
        }
        Ok(exec)
    }

    /// SELECT: a scan of its table (RowShare with a locking clause, else AccessShare), or one
    /// row of expressions without FROM.
    fn plan_select(&self, sel: Select, exec: &mut Exec) -> Result<(), PgError> {
        let Some((tname, alias)) = sel.from else {
            if sel.items.iter().any(|i| matches!(i, SelectItem::Star)) {
                return Err(PgError::error(
                    "42601",
                    "SELECT * with no tables specified is not valid",
                ));
            }
            exec.body = Body::Values(sel.items, sel.filter);
            return Ok(());
        };
        let t = self.table(&tname)?;
        let mode = if sel.locking.is_some() {
            LockMode::RowShare
        } else {
            LockMode::AccessShare
        };
        exec.locks.push((t.oid, t.name.clone(), mode));
        let aggregate = sel.items.iter().any(|i| match i {
            SelectItem::Expr(Expr::Function(n, _), _) => is_aggregate(n),
            _ => false,
        });
        if aggregate && sel.locking.is_some() {
            return Err(PgError::error(
                "0A000",
                "FOR UPDATE is not allowed with aggregate functions",
            ));
        }
        let limit = match &sel.limit {
            None => None,
            Some(Expr::Int(n)) if *n >= 0 => Some(*n as u64),
            Some(Expr::Null) => None,
            Some(_) => {
                return Err(PgError::error(
                    "0A000",
                    "LIMIT must be a non-negative integer literal in Lockstep",
                ))
            }
        };
        let candidates = self.plan_scan(t, sel.filter.as_ref());
        // ORDER BY and aggregates see every row before the first one is returned (or locked).
        let collect = !sel.order_by.is_empty() || aggregate;
        let kind = ScanKind::Select {
            items: sel.items,
            order_by: sel.order_by,
            limit,
            locking: sel.locking,
            aggregate,
        };
        exec.body = Body::Scan(Box::new(Scan::new(
            tname, alias, sel.filter, kind, candidates, collect,
        )));
        Ok(())
    }

    /// UPDATE: a RowExclusive lock and a scan for the rows to change.
    fn plan_update(&self, u: Update, exec: &mut Exec) -> Result<(), PgError> {
        let t = self.table(&u.table)?;
        for (c, _) in &u.assignments {
            if t.column(c).is_none() {
                return Err(PgError::error(
                    "42703",
                    format!("column \"{c}\" of relation \"{}\" does not exist", t.name),
                ));
            }
        }
        exec.locks
            .push((t.oid, t.name.clone(), LockMode::RowExclusive));
        let candidates = self.plan_scan(t, u.filter.as_ref());
        let kind = ScanKind::Update {
            assignments: u.assignments,
            returning: u.returning,
        };
        exec.body = Body::Scan(Box::new(Scan::new(
            u.table, u.alias, u.filter, kind, candidates, false,
        )));
        Ok(())
    }

    /// DELETE: a RowExclusive lock and a scan for the rows to delete.
    fn plan_delete(&self, d: Delete, exec: &mut Exec) -> Result<(), PgError> {
        let t = self.table(&d.table)?;
        exec.locks
            .push((t.oid, t.name.clone(), LockMode::RowExclusive));
        let candidates = self.plan_scan(t, d.filter.as_ref());
        let kind = ScanKind::Delete {
            returning: d.returning,
        };
        exec.body = Body::Scan(Box::new(Scan::new(
            d.table, d.alias, d.filter, kind, candidates, false,
        )));
        Ok(())
    }

    /// INSERT: a RowExclusive lock, the target columns, and the unique indexes an ON CONFLICT
    /// clause arbitrates on.
    fn plan_insert(&self, ins: Insert, exec: &mut Exec) -> Result<(), PgError> {
        let t = self.table(&ins.table)?;
        exec.locks
            .push((t.oid, t.name.clone(), LockMode::RowExclusive));
        let columns: Vec<usize> = match &ins.columns {
            Some(cols) => cols
                .iter()
                .map(|c| {
                    t.column(c).ok_or_else(|| {
                        PgError::error(
                            "42703",
                            format!("column \"{c}\" of relation \"{}\" does not exist", t.name),
                        )
                    })
                })
                .collect::<Result<_, _>>()?,
            None => (0..t.columns.len()).collect(),
        };
        for r in &ins.rows {
            if r.len() > columns.len() {
                return Err(PgError::error(
                    "42601",
                    "INSERT has more expressions than target columns",
                ));
            }
            if ins.columns.is_some() && r.len() < columns.len() {
                return Err(PgError::error(
                    "42601",
                    "INSERT has more target columns than expressions",
                ));
            }
        }
        let arbiters = conflict_arbiters(t, ins.on_conflict.as_ref())?;
        exec.body = Body::Insert(Box::new(InsertRun {
            table: ins.table,
            columns,
            rows: ins.rows,
            row_pos: 0,
            on_conflict: ins.on_conflict,
            arbiters,
            returning: ins.returning,
            pending: None,
            written: None,
            conflict_row: None,
            out: Vec::new(),
            affected: 0,
        }));
        Ok(())
    }

    /// The heap indexes a scan of `t` visits, in the order of PostgreSQL's plan for `filter`
    /// (see [`super::access_path`]).
    pub(super) fn plan_scan(&self, t: &Table, filter: Option<&Expr>) -> Vec<usize> {
        super::access_path::plan_scan(t, filter).1
    }
}

/// The unique indexes an ON CONFLICT clause arbitrates on: all of them without a target, else
/// the ones whose columns are exactly the target's.
fn conflict_arbiters(t: &Table, on_conflict: Option<&OnConflict>) -> Result<Vec<usize>, PgError> {
    let cols = match on_conflict {
        None => return Ok(Vec::new()),
        Some(OnConflict { target: None, .. }) => return Ok((0..t.indexes.len()).collect()),
        Some(OnConflict {
            target: Some(cols), ..
        }) => cols,
    };
    let want: Vec<Option<usize>> = cols.iter().map(|c| t.column(c)).collect();
    let found: Vec<usize> = t
        .indexes
        .iter()
        .enumerate()
        .filter(|(_, ix)| {
            ix.columns.len() == want.len() && ix.columns.iter().all(|c| want.contains(&Some(*c)))
        })
        .map(|(i, _)| i)
        .collect();
    if found.is_empty() {
        return Err(PgError::error(
            "42P10",
            "there is no unique or exclusion constraint matching the ON CONFLICT specification",
        ));
    }
    Ok(found)
}
