//! A recursive-descent parser for the SQL subset. Hand-written rather than generated or taken
//! from `sqlparser`, because the engine ships to the browser and every kilobyte of WASM counts.

use super::ast::*;
use super::lexer::{tokenize, Tok, Token};
use super::unsupported::{
    POSTGRES_FUNCTIONS, POSTGRES_KEYWORD_OPERATORS, POSTGRES_OBJECT_KINDS, POSTGRES_STATEMENTS,
    POSTGRES_VALUE_KEYWORDS, TWO_WORD_OBJECT_KINDS,
};
use super::SqlError;
use crate::limits::{EXPRESSION_DEPTH_MAX, SQL_BYTES_MAX};

/// Parses a query string that may hold several statements separated by `;`.
pub fn parse(src: &str) -> Result<Vec<Statement>, SqlError> {
    if src.len() > SQL_BYTES_MAX {
        return Err(SqlError::at(
            src,
            0,
            &format!(
                "the query is {} bytes, more than SQL_BYTES_MAX ({SQL_BYTES_MAX})",
                src.len()
            ),
        ));
    }
    let tokens = tokenize(src)?;
    let mut p = Parser {
        src,
        tokens,
        pos: 0,
        nesting: 0,
    };
    let mut out = Vec::new();
    loop {
        while p.eat_sym(";") {}
        if p.at_eof() {
            break;
        }
        let start = p.offset();
        let kind = p.statement()?;
        let end = p.offset();
        if !p.eat_sym(";") && !p.at_eof() {
            return Err(p.error_here());
        }
        out.push(Statement {
            kind,
            text: src[start..end].trim().to_string(),
        });
    }
    Ok(out)
}

struct Parser<'a> {
    src: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    /// How many expressions the parser is inside (parentheses, NOT, unary minus, calls).
    nesting: usize,
}

/// True when `e` is more than `budget` levels deep. Looks no deeper than `budget`, so checking
/// each new node costs at most the top [`EXPRESSION_DEPTH_MAX`] levels of its subtree.
fn deeper_than(e: &Expr, budget: usize) -> bool {
    let Some(below) = budget.checked_sub(1) else {
        return true;
    };
    match e {
        Expr::Binary(_, l, r) => deeper_than(l, below) || deeper_than(r, below),
        Expr::Not(x) | Expr::Neg(x) | Expr::IsNull(x, _) | Expr::Cast(x, _) => {
            deeper_than(x, below)
        }
        Expr::InList(x, list, _) => {
            deeper_than(x, below) || list.iter().any(|e| deeper_than(e, below))
        }
        Expr::Function(_, args) => args.iter().any(|e| deeper_than(e, below)),
        Expr::Null
        | Expr::Int(_)
        | Expr::Str(_)
        | Expr::Bool(_)
        | Expr::Column(..)
        | Expr::Star
        | Expr::Default => false,
    }
}

/// Words that cannot be a bare alias after a table name or a select item.
const RESERVED: [&str; 32] = [
    "where",
    "order",
    "limit",
    "for",
    "set",
    "from",
    "returning",
    "on",
    "values",
    "group",
    "having",
    "union",
    "and",
    "or",
    "not",
    "as",
    "into",
    "select",
    "is",
    "in",
    "asc",
    "desc",
    "nowait",
    "skip",
    "offset",
    "using",
    "join",
    "default",
    "except",
    "intersect",
    "window",
    "with",
];

impl<'a> Parser<'a> {
    fn peek(&self) -> &Tok {
        &self.tokens[self.pos].tok
    }

    fn peek_at(&self, n: usize) -> &Tok {
        let i = (self.pos + n).min(self.tokens.len() - 1);
        &self.tokens[i].tok
    }

    fn offset(&self) -> usize {
        self.tokens[self.pos].offset
    }

    fn at_eof(&self) -> bool {
        matches!(self.peek(), Tok::Eof)
    }

    fn advance(&mut self) -> Tok {
        let t = self.tokens[self.pos].tok.clone();
        if self.pos + 1 < self.tokens.len() {
            self.pos += 1;
        }
        t
    }

    fn too_deep(&self) -> SqlError {
        SqlError::at(
            self.src,
            self.offset(),
            &format!(
                "expression nested more than EXPRESSION_DEPTH_MAX ({EXPRESSION_DEPTH_MAX}) levels deep"
            ),
        )
    }

    /// A new expression node, refused when it makes the tree deeper than the limit.
    fn node(&self, e: Expr) -> Result<Expr, SqlError> {
        if deeper_than(&e, EXPRESSION_DEPTH_MAX) {
            return Err(self.too_deep());
        }
        Ok(e)
    }

    /// Runs `parse` one expression level further in, refusing to go past the limit, so that
    /// `((((...` or `NOT NOT NOT ...` cannot exhaust the stack before any node exists.
    fn nested<T>(
        &mut self,
        parse: impl FnOnce(&mut Self) -> Result<T, SqlError>,
    ) -> Result<T, SqlError> {
        if self.nesting >= EXPRESSION_DEPTH_MAX {
            return Err(self.too_deep());
        }
        self.nesting += 1;
        let result = parse(self);
        self.nesting -= 1;
        result
    }

    /// PostgreSQL's own wording: `syntax error at or near "X"` (or `at end of input`).
    fn error_here(&self) -> SqlError {
        let t = &self.tokens[self.pos];
        let msg = match &t.tok {
            Tok::Eof => "syntax error at end of input".to_string(),
            _ => {
                let end = self
                    .tokens
                    .get(self.pos + 1)
                    .map(|n| n.offset)
                    .unwrap_or(self.src.len());
                let text = self.src[t.offset..end].trim_end();
                format!("syntax error at or near \"{text}\"")
            }
        };
        SqlError::at(self.src, t.offset, &msg)
    }

    fn unsupported(&self, what: &str) -> SqlError {
        self.unsupported_at(self.offset(), what)
    }

    /// `<what> is not supported by Lockstep's SQL subset`, at byte `offset` of the query.
    fn unsupported_at(&self, offset: usize, what: &str) -> SqlError {
        SqlError::at(
            self.src,
            offset,
            &format!("{what} is not supported by Lockstep's SQL subset"),
        )
    }

    fn is_word(&self, w: &str) -> bool {
        matches!(self.peek(), Tok::Word(x) if x == w)
    }

    fn is_word_at(&self, n: usize, w: &str) -> bool {
        matches!(self.peek_at(n), Tok::Word(x) if x == w)
    }

    fn eat_word(&mut self, w: &str) -> bool {
        if self.is_word(w) {
            self.advance();
            true
        } else {
            false
        }
    }

    fn expect_word(&mut self, w: &str) -> Result<(), SqlError> {
        if self.eat_word(w) {
            Ok(())
        } else {
            Err(self.error_here())
        }
    }

    fn is_sym(&self, s: &str) -> bool {
        matches!(self.peek(), Tok::Sym(x) if *x == s)
    }

    fn is_sym_at(&self, n: usize, s: &str) -> bool {
        matches!(self.peek_at(n), Tok::Sym(x) if *x == s)
    }

    fn eat_sym(&mut self, s: &str) -> bool {
        if self.is_sym(s) {
            self.advance();
            true
        } else {
            false
        }
    }

    fn expect_sym(&mut self, s: &str) -> Result<(), SqlError> {
        if self.eat_sym(s) {
            Ok(())
        } else {
            Err(self.error_here())
        }
    }

    fn ident(&mut self) -> Result<String, SqlError> {
        match self.peek().clone() {
            Tok::Word(w) => {
                self.advance();
                Ok(w)
            }
            Tok::QuotedIdent(w) => {
                self.advance();
                Ok(w)
            }
            _ => Err(self.error_here()),
        }
    }

    fn ident_list(&mut self) -> Result<Vec<String>, SqlError> {
        self.expect_sym("(")?;
        let mut out = vec![self.ident()?];
        while self.eat_sym(",") {
            out.push(self.ident()?);
        }
        self.expect_sym(")")?;
        Ok(out)
    }

    /// An optional alias: `AS name` or a bare non-reserved word.
    fn alias(&mut self) -> Result<Option<String>, SqlError> {
        if self.eat_word("as") {
            return Ok(Some(self.ident()?));
        }
        match self.peek() {
            Tok::Word(w) if !RESERVED.contains(&w.as_str()) => Ok(Some(self.ident()?)),
            Tok::QuotedIdent(_) => Ok(Some(self.ident()?)),
            _ => Ok(None),
        }
    }

    fn statement(&mut self) -> Result<StatementKind, SqlError> {
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
    fn unsupported_statement(&mut self) -> SqlError {
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
    fn unsupported_object(&mut self, start: usize, command: &str) -> Option<SqlError> {
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
    fn word_upper(&self) -> String {
        match self.peek() {
            Tok::Word(w) => w.to_uppercase(),
            _ => String::new(),
        }
    }

    fn transaction_modes(&mut self) -> Result<Option<IsolationLevel>, SqlError> {
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

    fn isolation_level(&mut self) -> Result<IsolationLevel, SqlError> {
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

    fn set(&mut self) -> Result<StatementKind, SqlError> {
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

    fn lock(&mut self) -> Result<StatementKind, SqlError> {
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

    fn lock_mode(&mut self) -> Result<TableLockMode, SqlError> {
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

    fn create_table(&mut self) -> Result<StatementKind, SqlError> {
        let start = self.offset();
        self.advance();
        if self.is_word("unique") || self.is_word("index") {
            return Err(self.unsupported("CREATE INDEX"));
        }
        if let Some(err) = self.unsupported_object(start, "CREATE") {
            return Err(err);
        }
        if !self.is_word("table") {
            return Err(self.error_here());
        }
        self.advance();
        let mut if_not_exists = false;
        if self.is_word("if") {
            self.advance();
            self.expect_word("not")?;
            self.expect_word("exists")?;
            if_not_exists = true;
        }
        let name = self.ident()?;
        self.expect_sym("(")?;
        let mut table = CreateTable {
            name,
            if_not_exists,
            columns: Vec::new(),
            primary_key: None,
            unique: Vec::new(),
        };
        if !self.eat_sym(")") {
            loop {
                self.table_element(&mut table)?;
                if self.eat_sym(")") {
                    break;
                }
                self.expect_sym(",")?;
            }
        }
        Ok(StatementKind::CreateTable(table))
    }

    fn table_element(&mut self, table: &mut CreateTable) -> Result<(), SqlError> {
        if self.eat_word("constraint") {
            self.ident()?;
        }
        if self.is_word("primary") && self.is_word_at(1, "key") {
            self.advance();
            self.advance();
            let cols = self.ident_list()?;
            // INCLUDE columns are only payload in the index: for locking and uniqueness the key
            // is what counts.
            if self.eat_word("include") {
                self.ident_list()?;
            }
            if table.primary_key.is_some() {
                return Err(SqlError::at(
                    self.src,
                    self.offset(),
                    "multiple primary keys for table are not allowed",
                ));
            }
            table.primary_key = Some(cols);
            return Ok(());
        }
        if self.is_word("unique") && matches!(self.peek_at(1), Tok::Sym("(")) {
            self.advance();
            let cols = self.ident_list()?;
            if self.eat_word("include") {
                self.ident_list()?;
            }
            table.unique.push(cols);
            return Ok(());
        }
        if self.is_word("foreign") || self.is_word("check") || self.is_word("exclude") {
            return Err(self.unsupported("this table constraint"));
        }
        let name = self.ident()?;
        // serial is int NOT NULL DEFAULT nextval('<table>_<column>_seq'), as in PostgreSQL.
        let serial = match self.peek() {
            Tok::Word(w) => match w.as_str() {
                "serial" | "smallserial" | "serial4" | "serial2" => Some(SqlType::Int),
                "bigserial" | "serial8" => Some(SqlType::BigInt),
                _ => None,
            },
            _ => None,
        };
        let ty = match serial {
            Some(ty) => {
                self.advance();
                ty
            }
            None => self.sql_type()?,
        };
        let serial = serial.is_some();
        let mut col = ColumnDef {
            name: name.clone(),
            ty,
            not_null: serial,
            default: serial.then(|| {
                Expr::Function(
                    "nextval".to_string(),
                    vec![Expr::Str(format!("{}_{}_seq", table.name, name))],
                )
            }),
        };
        loop {
            if self.eat_word("primary") {
                self.expect_word("key")?;
                col.not_null = true;
                if table.primary_key.is_some() {
                    return Err(SqlError::at(
                        self.src,
                        self.offset(),
                        "multiple primary keys for table are not allowed",
                    ));
                }
                table.primary_key = Some(vec![name.clone()]);
            } else if self.eat_word("unique") {
                table.unique.push(vec![name.clone()]);
            } else if self.eat_word("not") {
                self.expect_word("null")?;
                col.not_null = true;
            } else if self.eat_word("null") {
            } else if self.eat_word("default") {
                col.default = Some(self.expr()?);
            } else if self.is_word("references") || self.is_word("check") {
                return Err(self.unsupported("this column constraint"));
            } else {
                break;
            }
        }
        table.columns.push(col);
        Ok(())
    }

    fn sql_type(&mut self) -> Result<SqlType, SqlError> {
        let w = match self.peek() {
            Tok::Word(w) => w.clone(),
            _ => return Err(self.error_here()),
        };
        let ty = match w.as_str() {
            "int" | "integer" | "int4" | "int2" | "smallint" => SqlType::Int,
            "bigint" | "int8" => SqlType::BigInt,
            "numeric" | "decimal" => SqlType::Numeric,
            "text" | "varchar" | "char" | "character" => SqlType::Text,
            "boolean" | "bool" => SqlType::Bool,
            _ => return Err(self.unsupported(&format!("type \"{w}\""))),
        };
        self.advance();
        if w == "character" {
            self.eat_word("varying");
        }
        if self.eat_sym("(") {
            loop {
                match self.advance() {
                    Tok::Number(_) => {}
                    _ => {
                        self.pos -= 1;
                        return Err(self.error_here());
                    }
                }
                if self.eat_sym(")") {
                    break;
                }
                self.expect_sym(",")?;
            }
        }
        Ok(ty)
    }

    fn drop_table(&mut self) -> Result<StatementKind, SqlError> {
        let start = self.offset();
        self.advance();
        if let Some(err) = self.unsupported_object(start, "DROP") {
            return Err(err);
        }
        self.expect_word("table")?;
        let mut if_exists = false;
        if self.eat_word("if") {
            self.expect_word("exists")?;
            if_exists = true;
        }
        let mut names = vec![self.ident()?];
        while self.eat_sym(",") {
            names.push(self.ident()?);
        }
        let _ = self.eat_word("cascade") || self.eat_word("restrict");
        Ok(StatementKind::DropTable { names, if_exists })
    }

    fn insert(&mut self) -> Result<StatementKind, SqlError> {
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

    fn assignments(&mut self) -> Result<Vec<(String, Expr)>, SqlError> {
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

    fn returning(&mut self) -> Result<Vec<SelectItem>, SqlError> {
        if self.eat_word("returning") {
            self.select_items()
        } else {
            Ok(Vec::new())
        }
    }

    fn update(&mut self) -> Result<StatementKind, SqlError> {
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

    fn delete(&mut self) -> Result<StatementKind, SqlError> {
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

    fn select_items(&mut self) -> Result<Vec<SelectItem>, SqlError> {
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

    fn select(&mut self) -> Result<Select, SqlError> {
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

    fn locking(&mut self) -> Result<Locking, SqlError> {
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

    // Expressions, by increasing precedence: OR, AND, NOT, comparison/IS/IN, ||, + -, * / %,
    // unary minus, postfix ::, primary.

    fn expr(&mut self) -> Result<Expr, SqlError> {
        let mut left = self.and_expr()?;
        while self.eat_word("or") {
            let right = self.and_expr()?;
            left = self.node(Expr::Binary(BinOp::Or, Box::new(left), Box::new(right)))?;
        }
        Ok(left)
    }

    fn and_expr(&mut self) -> Result<Expr, SqlError> {
        let mut left = self.not_expr()?;
        while self.eat_word("and") {
            let right = self.not_expr()?;
            left = self.node(Expr::Binary(BinOp::And, Box::new(left), Box::new(right)))?;
        }
        Ok(left)
    }

    fn not_expr(&mut self) -> Result<Expr, SqlError> {
        if self.eat_word("not") {
            let e = self.nested(Self::not_expr)?;
            return self.node(Expr::Not(Box::new(e)));
        }
        self.comparison()
    }

    fn comparison(&mut self) -> Result<Expr, SqlError> {
        let left = self.concat()?;
        let op = match self.peek() {
            Tok::Sym("=") => Some(BinOp::Eq),
            Tok::Sym("<>") | Tok::Sym("!=") => Some(BinOp::NotEq),
            Tok::Sym("<") => Some(BinOp::Lt),
            Tok::Sym("<=") => Some(BinOp::LtEq),
            Tok::Sym(">") => Some(BinOp::Gt),
            Tok::Sym(">=") => Some(BinOp::GtEq),
            _ => None,
        };
        if let Some(op) = op {
            self.advance();
            let right = self.concat()?;
            return self.node(Expr::Binary(op, Box::new(left), Box::new(right)));
        }
        if let Some(err) = self.unsupported_keyword_operator() {
            return Err(err);
        }
        if self.eat_word("is") {
            let negated = self.eat_word("not");
            if !self.is_word("null") && matches!(self.peek(), Tok::Word(_)) {
                let what = format!("IS {}", self.word_upper());
                return Err(self.unsupported(&what));
            }
            self.expect_word("null")?;
            return self.node(Expr::IsNull(Box::new(left), negated));
        }
        let negated = if self.is_word("not") && self.is_word_at(1, "in") {
            self.advance();
            true
        } else {
            false
        };
        if self.eat_word("in") {
            self.expect_sym("(")?;
            if self.is_word("select") {
                return Err(self.unsupported("a subquery"));
            }
            let mut list = vec![self.nested(Self::expr)?];
            while self.eat_sym(",") {
                list.push(self.nested(Self::expr)?);
            }
            self.expect_sym(")")?;
            return self.node(Expr::InList(Box::new(left), list, negated));
        }
        Ok(left)
    }

    /// `BETWEEN`, `LIKE`, `ILIKE`, `SIMILAR TO` (with or without `NOT`), at the keyword.
    fn unsupported_keyword_operator(&self) -> Option<SqlError> {
        let n = usize::from(self.is_word("not"));
        match self.peek_at(n) {
            Tok::Word(w) if POSTGRES_KEYWORD_OPERATORS.contains(&w.as_str()) => {
                let offset = self.tokens[(self.pos + n).min(self.tokens.len() - 1)].offset;
                Some(self.unsupported_at(offset, &w.to_uppercase()))
            }
            _ => None,
        }
    }

    fn concat(&mut self) -> Result<Expr, SqlError> {
        let mut left = self.additive()?;
        while self.eat_sym("||") {
            let right = self.additive()?;
            left = self.node(Expr::Binary(BinOp::Concat, Box::new(left), Box::new(right)))?;
        }
        Ok(left)
    }

    fn additive(&mut self) -> Result<Expr, SqlError> {
        let mut left = self.multiplicative()?;
        loop {
            let op = if self.eat_sym("+") {
                BinOp::Add
            } else if self.eat_sym("-") {
                BinOp::Sub
            } else {
                break;
            };
            let right = self.multiplicative()?;
            left = self.node(Expr::Binary(op, Box::new(left), Box::new(right)))?;
        }
        Ok(left)
    }

    fn multiplicative(&mut self) -> Result<Expr, SqlError> {
        let mut left = self.unary()?;
        loop {
            let op = if self.eat_sym("*") {
                BinOp::Mul
            } else if self.eat_sym("/") {
                BinOp::Div
            } else if self.eat_sym("%") {
                BinOp::Mod
            } else {
                break;
            };
            let right = self.unary()?;
            left = self.node(Expr::Binary(op, Box::new(left), Box::new(right)))?;
        }
        Ok(left)
    }

    fn unary(&mut self) -> Result<Expr, SqlError> {
        if self.eat_sym("-") {
            if self.is_bare_number_at(0) {
                return self.nested(|p| p.number(true));
            }
            return match self.nested(Self::unary)? {
                Expr::Int(n) => Ok(Expr::Int(-n)),
                e => self.node(Expr::Neg(Box::new(e))),
            };
        }
        if self.eat_sym("+") {
            return self.nested(Self::unary);
        }
        let mut e = self.primary()?;
        while self.eat_sym("::") {
            let ty = self.sql_type()?;
            e = self.node(Expr::Cast(Box::new(e), ty))?;
        }
        Ok(e)
    }

    /// True when the token `n` ahead is a number that no `::` cast follows (a cast binds
    /// tighter than unary minus, so `-2147483648::int` negates the cast).
    fn is_bare_number_at(&self, n: usize) -> bool {
        matches!(self.peek_at(n), Tok::Number(_)) && !matches!(self.peek_at(n + 1), Tok::Sym("::"))
    }

    /// A numeric literal, negated when `negative` (the minus sign just read). PostgreSQL folds
    /// the sign into the constant before typing it (`doNegate` in `src/backend/parser/gram.y`),
    /// which is how `-9223372036854775808` is a valid bigint although its digits alone are not.
    /// Integers beyond bigint are numeric in PostgreSQL, which the subset does not have.
    fn number(&mut self, negative: bool) -> Result<Expr, SqlError> {
        let offset = self.offset();
        let Tok::Number(n) = self.advance() else {
            self.pos -= 1;
            return Err(self.error_here());
        };
        let text = if negative { format!("-{n}") } else { n };
        match text.parse::<i64>() {
            Ok(v) => Ok(Expr::Int(v)),
            Err(_)
                if text
                    .trim_start_matches('-')
                    .bytes()
                    .all(|b| b.is_ascii_digit()) =>
            {
                Err(self.unsupported_at(
                    offset,
                    &format!("numeric literal {text}, beyond the bigint range,"),
                ))
            }
            Err(_) => Err(self.unsupported_at(offset, &format!("numeric literal {text}"))),
        }
    }

    fn primary(&mut self) -> Result<Expr, SqlError> {
        match self.peek().clone() {
            Tok::Number(_) => self.number(false),
            Tok::Str(s) => {
                self.advance();
                Ok(Expr::Str(s))
            }
            Tok::Sym("(") => {
                self.advance();
                if self.is_word("select") {
                    return Err(self.unsupported("a subquery"));
                }
                let e = self.nested(Self::expr)?;
                self.expect_sym(")")?;
                Ok(e)
            }
            Tok::Word(w) => match w.as_str() {
                "null" => {
                    self.advance();
                    Ok(Expr::Null)
                }
                "true" => {
                    self.advance();
                    Ok(Expr::Bool(true))
                }
                "false" => {
                    self.advance();
                    Ok(Expr::Bool(false))
                }
                "default" => {
                    self.advance();
                    Ok(Expr::Default)
                }
                "case" | "exists" | "select" => Err(self.unsupported(&w.to_uppercase())),
                "cast" if self.is_sym_at(1, "(") => Err(self.unsupported("CAST")),
                _ if POSTGRES_VALUE_KEYWORDS.contains(&w.as_str()) => {
                    Err(self.unsupported(&w.to_uppercase()))
                }
                "interval" | "timestamp" | "timestamptz" | "date" | "time"
                    if matches!(self.peek_at(1), Tok::Str(_)) =>
                {
                    Err(self.unsupported(&format!("type \"{w}\"")))
                }
                _ if RESERVED.contains(&w.as_str()) => Err(self.error_here()),
                _ => self.name_or_call(),
            },
            Tok::QuotedIdent(_) => self.name_or_call(),
            _ => Err(self.error_here()),
        }
    }

    fn name_or_call(&mut self) -> Result<Expr, SqlError> {
        let name_offset = self.offset();
        let first = self.ident()?;
        if self.eat_sym("(") {
            if POSTGRES_FUNCTIONS.contains(&first.as_str()) {
                return Err(self.unsupported_call(&first, name_offset));
            }
            if self.is_word("distinct") {
                return Err(self.unsupported("DISTINCT in a function call"));
            }
            let mut args = Vec::new();
            if self.eat_sym("*") {
                args.push(Expr::Star);
                self.expect_sym(")")?;
            } else if !self.eat_sym(")") {
                args.push(self.nested(Self::expr)?);
                while self.eat_sym(",") {
                    args.push(self.nested(Self::expr)?);
                }
                self.expect_sym(")")?;
            }
            if let Some(err) = self.unsupported_after_call() {
                return Err(err);
            }
            return self.node(Expr::Function(first, args));
        }
        if self.eat_sym(".") {
            let col = self.ident()?;
            return Ok(Expr::Column(Some(first), col));
        }
        Ok(Expr::Column(None, first))
    }

    /// A call of a PostgreSQL function the engine lacks, whose `(` was just read: its
    /// arguments are skipped (they may use syntax the subset lacks, like `substring(x FROM 2)`)
    /// and the error is about the window if `OVER` follows, else about the function.
    fn unsupported_call(&mut self, name: &str, name_offset: usize) -> SqlError {
        let mut depth = 1;
        while depth > 0 && !self.at_eof() {
            match self.advance() {
                Tok::Sym("(") => depth += 1,
                Tok::Sym(")") => depth -= 1,
                _ => {}
            }
        }
        self.unsupported_after_call()
            .unwrap_or_else(|| self.unsupported_at(name_offset, &format!("function {name}")))
    }

    /// What may follow a call in PostgreSQL but not in the subset: a window (`OVER`), an
    /// aggregate's `FILTER` or `WITHIN GROUP`.
    fn unsupported_after_call(&self) -> Option<SqlError> {
        if self.is_word("over") {
            Some(self.unsupported("a window function (OVER)"))
        } else if self.is_word("filter") && self.is_sym_at(1, "(") {
            Some(self.unsupported("FILTER"))
        } else if self.is_word("within") && self.is_word_at(1, "group") {
            Some(self.unsupported("WITHIN GROUP"))
        } else {
            None
        }
    }
}
