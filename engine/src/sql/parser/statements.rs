//! Statements: which one a query starts with, and the transaction, SET and LOCK commands.

use super::*;

impl Parser<'_> {
    pub(super) fn statement(&mut self) -> Result<StatementKind, SqlError> {
        let word = match self.peek() {
            Tok::Word(w) => w.clone(),
            _ => return Err(self.error_here()),
        };
        match word.as_str() {
            "create" => self.create_table(),
            "drop" => self.drop_table(),
            "insert" => self.insert(),
            "update" => self.update(),
            "delete" => self.delete(),
            "select" => Ok(StatementKind::Select(self.select()?)),
            "begin" => {
                self.advance();
                let _ = self.eat_word("transaction") || self.eat_word("work");
                Ok(StatementKind::Begin(self.transaction_modes()?))
            }
            "start" => {
                self.advance();
                self.expect_word("transaction")?;
                Ok(StatementKind::Begin(self.transaction_modes()?))
            }
            "commit" | "end" => {
                self.advance();
                let _ = self.eat_word("transaction") || self.eat_word("work");
                Ok(StatementKind::Commit)
            }
            "abort" => {
                self.advance();
                let _ = self.eat_word("transaction") || self.eat_word("work");
                Ok(StatementKind::Rollback)
            }
            "rollback" => {
                self.advance();
                let _ = self.eat_word("transaction") || self.eat_word("work");
                if self.eat_word("to") {
                    self.eat_word("savepoint");
                    return Ok(StatementKind::RollbackTo(self.ident()?));
                }
                Ok(StatementKind::Rollback)
            }
            "savepoint" => {
                self.advance();
                Ok(StatementKind::Savepoint(self.ident()?))
            }
            "release" => {
                self.advance();
                self.eat_word("savepoint");
                Ok(StatementKind::Release(self.ident()?))
            }
            "set" => self.set(),
            "show" => {
                self.advance();
                Ok(StatementKind::Show(self.ident()?))
            }
            "lock" => self.lock(),
            w if POSTGRES_STATEMENTS.contains(&w) => Err(self.unsupported_statement()),
            _ => Err(self.error_here()),
        }
    }

    /// A statement PostgreSQL has and the subset does not, named by its first keyword (and,
    /// for `ALTER`, the kind of object), at the position of that keyword.
    pub(super) fn unsupported_statement(&mut self) -> SqlError {
        let start = self.offset();
        let mut name = self.word_upper();
        self.advance();
        if name == "ALTER" && matches!(self.peek(), Tok::Word(_)) {
            name = format!("{name} {}", self.word_upper());
        }
        self.unsupported_at(start, &name)
    }

    /// `CREATE`/`DROP` (already read, starting at `start`) of an object other than a table,
    /// when the next word names one of PostgreSQL's kinds of object: `CREATE FUNCTION` is not
    /// supported. `None` when it does not, for the caller to go on.
    pub(super) fn unsupported_object(&mut self, start: usize, command: &str) -> Option<SqlError> {
        let mut name = command.to_string();
        if command == "CREATE" && self.is_word("or") && self.is_word_at(1, "replace") {
            self.advance();
            self.advance();
            name.push_str(" OR REPLACE");
        }
        let Tok::Word(kind) = self.peek().clone() else {
            return None;
        };
        if !POSTGRES_OBJECT_KINDS.contains(&kind.as_str()) {
            return None;
        }
        name = format!("{name} {}", self.word_upper());
        self.advance();
        if TWO_WORD_OBJECT_KINDS.contains(&kind.as_str()) && matches!(self.peek(), Tok::Word(_)) {
            name = format!("{name} {}", self.word_upper());
        }
        Some(self.unsupported_at(start, &name))
    }

    /// The current token's text in upper case (for naming a keyword in a message).
    pub(super) fn word_upper(&self) -> String {
        match self.peek() {
            Tok::Word(w) => w.to_uppercase(),
            _ => String::new(),
        }
    }

    pub(super) fn transaction_modes(&mut self) -> Result<Option<IsolationLevel>, SqlError> {
        let mut level = None;
        loop {
            if self.eat_word("isolation") {
                self.expect_word("level")?;
                level = Some(self.isolation_level()?);
            } else if self.eat_word("read") {
                if !(self.eat_word("write") || self.eat_word("only")) {
                    return Err(self.error_here());
                }
            } else if self.is_word("deferrable") || self.is_word("not") {
                return Err(self.unsupported("DEFERRABLE"));
            } else {
                break;
            }
            self.eat_sym(",");
        }
        Ok(level)
    }

    pub(super) fn isolation_level(&mut self) -> Result<IsolationLevel, SqlError> {
        if self.eat_word("serializable") {
            return Ok(IsolationLevel::Serializable);
        }
        if self.eat_word("repeatable") {
            self.expect_word("read")?;
            return Ok(IsolationLevel::RepeatableRead);
        }
        if self.eat_word("read") && (self.eat_word("committed") || self.eat_word("uncommitted")) {
            return Ok(IsolationLevel::ReadCommitted);
        }
        Err(self.error_here())
    }

    pub(super) fn set(&mut self) -> Result<StatementKind, SqlError> {
        self.advance();
        if self.eat_word("transaction") {
            return match self.transaction_modes()? {
                Some(level) => Ok(StatementKind::SetTransaction(level)),
                None => Err(self.error_here()),
            };
        }
        let _ = self.eat_word("session") || self.eat_word("local");
        let name = self.ident()?;
        if !(self.eat_sym("=") || self.eat_word("to")) {
            return Err(self.error_here());
        }
        let value = match self.advance() {
            Tok::Str(s) | Tok::Number(s) | Tok::Word(s) | Tok::QuotedIdent(s) => s,
            _ => {
                self.pos -= 1;
                return Err(self.error_here());
            }
        };
        // `SET x = 10 ms`-style unit words are not PostgreSQL syntax; a number may be followed
        // by nothing else.
        Ok(StatementKind::Set { name, value })
    }

    pub(super) fn lock(&mut self) -> Result<StatementKind, SqlError> {
        self.advance();
        self.eat_word("table");
        self.eat_word("only");
        let mut tables = vec![self.ident()?];
        while self.eat_sym(",") {
            tables.push(self.ident()?);
        }
        let mut mode = TableLockMode::AccessExclusive;
        if self.eat_word("in") {
            mode = self.lock_mode()?;
            self.expect_word("mode")?;
        }
        let nowait = self.eat_word("nowait");
        Ok(StatementKind::Lock {
            tables,
            mode,
            nowait,
        })
    }

    pub(super) fn lock_mode(&mut self) -> Result<TableLockMode, SqlError> {
        if self.eat_word("access") {
            if self.eat_word("share") {
                return Ok(TableLockMode::AccessShare);
            }
            self.expect_word("exclusive")?;
            return Ok(TableLockMode::AccessExclusive);
        }
        if self.eat_word("row") {
            if self.eat_word("share") {
                return Ok(TableLockMode::RowShare);
            }
            self.expect_word("exclusive")?;
            return Ok(TableLockMode::RowExclusive);
        }
        if self.eat_word("share") {
            if self.eat_word("update") {
                self.expect_word("exclusive")?;
                return Ok(TableLockMode::ShareUpdateExclusive);
            }
            if self.eat_word("row") {
                self.expect_word("exclusive")?;
                return Ok(TableLockMode::ShareRowExclusive);
            }
            return Ok(TableLockMode::Share);
        }
        if self.eat_word("exclusive") {
            return Ok(TableLockMode::Exclusive);
        }
        Err(self.error_here())
    }
}
