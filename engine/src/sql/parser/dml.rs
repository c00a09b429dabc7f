//! INSERT (with ON CONFLICT), UPDATE, DELETE and SELECT, with RETURNING and locking clauses.

use super::*;

impl Parser<'_> {
    pub(super) fn insert(&mut self) -> Result<StatementKind, SqlError> {
        self.advance();
        self.expect_word("into")?;
        let table = self.ident()?;
        let alias = if self.eat_word("as") {
            Some(self.ident()?)
        } else {
            None
        };
        let columns = if self.is_sym("(") {
            Some(self.ident_list()?)
        } else {
            None
        };
        if self.is_word("select") {
            return Err(self.unsupported("INSERT ... SELECT"));
        }
        if self.eat_word("default") {
            self.expect_word("values")?;
            return Err(self.unsupported("DEFAULT VALUES"));
        }
        self.expect_word("values")?;
        let mut rows = Vec::new();
        loop {
            self.expect_sym("(")?;
            let mut row = vec![self.expr()?];
            while self.eat_sym(",") {
                row.push(self.expr()?);
            }
            self.expect_sym(")")?;
            rows.push(row);
            if !self.eat_sym(",") {
                break;
            }
        }
        let mut on_conflict = None;
        if self.eat_word("on") {
            self.expect_word("conflict")?;
            let target = if self.is_sym("(") {
                Some(self.ident_list()?)
            } else {
                None
            };
            self.expect_word("do")?;
            let action = if self.eat_word("nothing") {
                ConflictAction::Nothing
            } else {
                self.expect_word("update")?;
                self.expect_word("set")?;
                let assignments = self.assignments()?;
                let filter = if self.eat_word("where") {
                    Some(self.expr()?)
                } else {
                    None
                };
                ConflictAction::Update {
                    assignments,
                    filter,
                }
            };
            on_conflict = Some(OnConflict { target, action });
        }
        let returning = self.returning()?;
        Ok(StatementKind::Insert(Insert {
            table,
            alias,
            columns,
            rows,
            on_conflict,
            returning,
        }))
    }

    pub(super) fn assignments(&mut self) -> Result<Vec<(String, Expr)>, SqlError> {
        let mut out = Vec::new();
        loop {
            let col = self.ident()?;
            self.expect_sym("=")?;
            let e = self.expr()?;
            out.push((col, e));
            if !self.eat_sym(",") {
                break;
            }
        }
        Ok(out)
    }

    pub(super) fn returning(&mut self) -> Result<Vec<SelectItem>, SqlError> {
        if self.eat_word("returning") {
            self.select_items()
        } else {
            Ok(Vec::new())
        }
    }

    pub(super) fn update(&mut self) -> Result<StatementKind, SqlError> {
        self.advance();
        self.eat_word("only");
        let table = self.ident()?;
        let alias = self.alias()?;
        self.expect_word("set")?;
        let assignments = self.assignments()?;
        if self.is_word("from") {
            return Err(self.unsupported("UPDATE ... FROM"));
        }
        let filter = if self.eat_word("where") {
            Some(self.expr()?)
        } else {
            None
        };
        let returning = self.returning()?;
        Ok(StatementKind::Update(Update {
            table,
            alias,
            assignments,
            filter,
            returning,
        }))
    }

    pub(super) fn delete(&mut self) -> Result<StatementKind, SqlError> {
        self.advance();
        self.expect_word("from")?;
        self.eat_word("only");
        let table = self.ident()?;
        let alias = self.alias()?;
        if self.is_word("using") {
            return Err(self.unsupported("DELETE ... USING"));
        }
        let filter = if self.eat_word("where") {
            Some(self.expr()?)
        } else {
            None
        };
        let returning = self.returning()?;
        Ok(StatementKind::Delete(Delete {
            table,
            alias,
            filter,
            returning,
        }))
    }

    pub(super) fn select_items(&mut self) -> Result<Vec<SelectItem>, SqlError> {
        let mut items = Vec::new();
        loop {
            if self.eat_sym("*") {
                items.push(SelectItem::Star);
            } else {
                let e = self.expr()?;
                let alias = self.alias()?;
                items.push(SelectItem::Expr(e, alias));
            }
            if !self.eat_sym(",") {
                break;
            }
        }
        Ok(items)
    }

    pub(super) fn select(&mut self) -> Result<Select, SqlError> {
        self.advance();
        if self.is_word("distinct") {
            return Err(self.unsupported("SELECT DISTINCT"));
        }
        self.eat_word("all");
        let items = self.select_items()?;
        let mut sel = Select {
            items,
            from: None,
            filter: None,
            order_by: Vec::new(),
            limit: None,
            locking: None,
        };
        if self.eat_word("from") {
            let t = self.ident()?;
            let alias = self.alias()?;
            if self.is_sym(",") || self.is_word("join") {
                return Err(self.unsupported("reading more than one table"));
            }
            sel.from = Some((t, alias));
        }
        if self.eat_word("where") {
            sel.filter = Some(self.expr()?);
        }
        if self.is_word("group") || self.is_word("having") {
            return Err(self.unsupported("GROUP BY"));
        }
        if self.eat_word("order") {
            self.expect_word("by")?;
            loop {
                let e = self.expr()?;
                let desc = if self.eat_word("desc") {
                    true
                } else {
                    self.eat_word("asc");
                    false
                };
                sel.order_by.push((e, desc));
                if !self.eat_sym(",") {
                    break;
                }
            }
        }
        // PostgreSQL accepts LIMIT before or after the locking clause.
        loop {
            if sel.limit.is_none() && self.eat_word("limit") {
                sel.limit = Some(self.expr()?);
            } else if sel.locking.is_none() && self.is_word("for") {
                sel.locking = Some(self.locking()?);
            } else if self.is_word("offset") {
                return Err(self.unsupported("OFFSET"));
            } else {
                break;
            }
        }
        for w in ["union", "intersect", "except", "window"] {
            if self.is_word(w) {
                return Err(self.unsupported(&w.to_uppercase()));
            }
        }
        Ok(sel)
    }

    pub(super) fn locking(&mut self) -> Result<Locking, SqlError> {
        self.expect_word("for")?;
        let strength = if self.eat_word("update") {
            RowLockStrength::Update
        } else if self.eat_word("share") {
            RowLockStrength::Share
        } else if self.eat_word("no") {
            self.expect_word("key")?;
            self.expect_word("update")?;
            RowLockStrength::NoKeyUpdate
        } else if self.eat_word("key") {
            self.expect_word("share")?;
            RowLockStrength::KeyShare
        } else {
            return Err(self.error_here());
        };
        if self.eat_word("of") {
            self.ident()?;
            while self.eat_sym(",") {
                self.ident()?;
            }
        }
        let wait = if self.eat_word("nowait") {
            WaitPolicy::NoWait
        } else if self.eat_word("skip") {
            self.expect_word("locked")?;
            WaitPolicy::SkipLocked
        } else {
            WaitPolicy::Block
        };
        Ok(Locking { strength, wait })
    }
}
