//! Expressions, by increasing precedence: OR, AND, NOT, comparison/IS/IN, ||, + -, * / %,
//! unary minus, postfix ::, primary.

use super::*;

impl Parser<'_> {
    pub(super) fn expr(&mut self) -> Result<Expr, SqlError> {
        let mut left = self.and_expr()?;
        while self.eat_word("or") {
            let right = self.and_expr()?;
            left = self.node(Expr::Binary(BinOp::Or, Box::new(left), Box::new(right)))?;
        }
        Ok(left)
    }

    pub(super) fn and_expr(&mut self) -> Result<Expr, SqlError> {
        let mut left = self.not_expr()?;
        while self.eat_word("and") {
            let right = self.not_expr()?;
            left = self.node(Expr::Binary(BinOp::And, Box::new(left), Box::new(right)))?;
        }
        Ok(left)
    }

    pub(super) fn not_expr(&mut self) -> Result<Expr, SqlError> {
        if self.eat_word("not") {
            let e = self.nested(Self::not_expr)?;
            return self.node(Expr::Not(Box::new(e)));
        }
        self.comparison()
    }

    pub(super) fn comparison(&mut self) -> Result<Expr, SqlError> {
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
    pub(super) fn unsupported_keyword_operator(&self) -> Option<SqlError> {
        let n = usize::from(self.is_word("not"));
        match self.peek_at(n) {
            Tok::Word(w) if POSTGRES_KEYWORD_OPERATORS.contains(&w.as_str()) => {
                let offset = self.tokens[(self.pos + n).min(self.tokens.len() - 1)].offset;
                Some(self.unsupported_at(offset, &w.to_uppercase()))
            }
            _ => None,
        }
    }

    pub(super) fn concat(&mut self) -> Result<Expr, SqlError> {
        let mut left = self.additive()?;
        while self.eat_sym("||") {
            let right = self.additive()?;
            left = self.node(Expr::Binary(BinOp::Concat, Box::new(left), Box::new(right)))?;
        }
        Ok(left)
    }

    pub(super) fn additive(&mut self) -> Result<Expr, SqlError> {
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

    pub(super) fn multiplicative(&mut self) -> Result<Expr, SqlError> {
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

    pub(super) fn unary(&mut self) -> Result<Expr, SqlError> {
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
    pub(super) fn is_bare_number_at(&self, n: usize) -> bool {
        matches!(self.peek_at(n), Tok::Number(_)) && !matches!(self.peek_at(n + 1), Tok::Sym("::"))
    }

    /// A numeric literal, negated when `negative` (the minus sign just read). PostgreSQL folds
    /// the sign into the constant before typing it (`doNegate` in `src/backend/parser/gram.y`),
    /// which is how `-9223372036854775808` is a valid bigint although its digits alone are not.
    /// Integers beyond bigint are numeric in PostgreSQL, which the subset does not have.
    pub(super) fn number(&mut self, negative: bool) -> Result<Expr, SqlError> {
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

    pub(super) fn primary(&mut self) -> Result<Expr, SqlError> {
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

    pub(super) fn name_or_call(&mut self) -> Result<Expr, SqlError> {
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
    pub(super) fn unsupported_call(&mut self, name: &str, name_offset: usize) -> SqlError {
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
    pub(super) fn unsupported_after_call(&self) -> Option<SqlError> {
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
