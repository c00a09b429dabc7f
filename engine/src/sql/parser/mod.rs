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

mod ddl;
mod dml;
mod expressions;
mod statements;

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
}
