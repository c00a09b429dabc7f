//! CREATE TABLE and the lookup of a table by name.

use super::*;
use crate::server::event::Event;
use crate::server::storage::{Column, Index, Table};
use crate::server::{PgError, Server, Session};
use crate::sql::Expr;
use crate::time::Instant;

impl Server {
    pub(super) fn create_table(
        &mut self,
        s: &mut Session,
        ct: crate::sql::CreateTable,
        events: &mut Vec<Event>,
    ) -> Flow {
        if self.tables.contains_key(&ct.name) {
            if ct.if_not_exists {
                let message = format!("relation \"{}\" already exists, skipping", ct.name);
                notice(s, "NOTICE", &message, Instant::START, events);
                return command("CREATE TABLE");
            }
            return Flow::Fail(PgError::error(
                "42P07",
                format!("relation \"{}\" already exists", ct.name),
            ));
        }
        match self.build_table(&ct) {
            Ok(t) => {
                // DDL writes the catalogs, so it takes an xid like any write.
                self.ensure_txn(s, events);
                self.assign_xid(s, events);
                for c in &t.columns {
                    if let Some(Expr::Function(f, args)) = &c.default {
                        if let (true, [Expr::Str(seq)]) = (f == "nextval", args.as_slice()) {
                            self.sequences.insert(seq.clone(), 0);
                        }
                    }
                }
                self.tables.insert(ct.name.clone(), t);
                command("CREATE TABLE")
            }
            Err(e) => Flow::Fail(e),
        }
    }

    pub(super) fn build_table(&mut self, ct: &crate::sql::CreateTable) -> Result<Table, PgError> {
        let mut columns: Vec<Column> = Vec::new();
        for c in &ct.columns {
            if columns.iter().any(|x| x.name == c.name) {
                return Err(PgError::error(
                    "42701",
                    format!("column \"{}\" specified more than once", c.name),
                ));
            }
            columns.push(Column {
                name: c.name.clone(),
                ty: c.ty,
                not_null: c.not_null,
                default: c.default.clone(),
            });
        }
        let find = |names: &[String], cols: &[Column]| -> Result<Vec<usize>, PgError> {
            names
                .iter()
                .map(|n| {
                    cols.iter().position(|c| &c.name == n).ok_or_else(|| {
                        PgError::error(
                            "42703",
                            format!("column \"{n}\" named in key does not exist"),
                        )
                    })
                })
                .collect()
        };
        let mut indexes = Vec::new();
        if let Some(pk) = &ct.primary_key {
            let cols = find(pk, &columns)?;
            for &c in &cols {
                columns[c].not_null = true;
            }
            indexes.push(Index {
                name: format!("{}_pkey", ct.name),
                columns: cols,
                primary: true,
            });
        }
        for u in &ct.unique {
            let cols = find(u, &columns)?;
            indexes.push(Index {
                name: format!("{}_{}_key", ct.name, u.join("_")),
                columns: cols,
                primary: false,
            });
        }
        let oid = self.next_oid;
        self.next_oid += 1;
        Ok(Table {
            oid,
            name: ct.name.clone(),
            columns,
            indexes,
            heap: Vec::new(),
        })
    }

    pub(in crate::server) fn table(&self, name: &str) -> Result<&Table, PgError> {
        self.tables
            .get(name)
            .ok_or_else(|| PgError::no_such_table(name))
    }
}
