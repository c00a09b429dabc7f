//! CREATE TABLE with its columns, constraints and types, and DROP TABLE.

use super::*;

impl Parser<'_> {
    pub(super) fn create_table(&mut self) -> Result<StatementKind, SqlError> {
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

    pub(super) fn table_element(&mut self, table: &mut CreateTable) -> Result<(), SqlError> {
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

    pub(super) fn sql_type(&mut self) -> Result<SqlType, SqlError> {
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

    pub(super) fn drop_table(&mut self) -> Result<StatementKind, SqlError> {
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
}
