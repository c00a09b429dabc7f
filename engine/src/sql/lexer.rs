//! Splits SQL text into tokens, each carrying the byte offset where it starts so that errors can
//! name a line and column.

use super::SqlError;

/// One lexical token of the SQL subset.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Tok {
    /// An unquoted identifier or keyword, folded to lower case as PostgreSQL does.
    Word(String),
    /// A double-quoted identifier, case kept.
    QuotedIdent(String),
    /// A numeric literal, as written.
    Number(String),
    /// A single-quoted string literal, with `''` unescaped.
    Str(String),
    /// An operator or punctuation: `( ) , ; . * = <> != < <= > >= || + - / % ::`.
    Sym(&'static str),
    /// The end of the input.
    Eof,
}

/// A token and the byte offset of its first character in the source.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Token {
    /// What was read.
    pub tok: Tok,
    /// Byte offset of the token's first character.
    pub offset: usize,
}

const SYMBOLS: [&str; 19] = [
    "::", "<>", "!=", "<=", ">=", "||", "(", ")", ",", ";", ".", "*", "=", "<", ">", "+", "-", "/",
    "%",
];

/// Reads the whole input into tokens, ending with [`Tok::Eof`].
pub fn tokenize(src: &str) -> Result<Vec<Token>, SqlError> {
    let bytes = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        // `--` comments run to the end of the line; `/* */` comments may span lines.
        if c == b'-' && bytes.get(i + 1) == Some(&b'-') {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        if c == b'/' && bytes.get(i + 1) == Some(&b'*') {
            let start = i;
            i += 2;
            loop {
                if i + 1 >= bytes.len() {
                    return Err(SqlError::at(src, start, "unterminated /* comment"));
                }
                if bytes[i] == b'*' && bytes[i + 1] == b'/' {
                    i += 2;
                    break;
                }
                i += 1;
            }
            continue;
        }
        let start = i;
        if c.is_ascii_alphabetic() || c == b'_' || c >= 0x80 {
            while i < bytes.len()
                && (bytes[i].is_ascii_alphanumeric()
                    || bytes[i] == b'_'
                    || bytes[i] == b'$'
                    || bytes[i] >= 0x80)
            {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Word(src[start..i].to_ascii_lowercase()),
                offset: start,
            });
            continue;
        }
        if c.is_ascii_digit() || (c == b'.' && bytes.get(i + 1).is_some_and(u8::is_ascii_digit)) {
            while i < bytes.len() && (bytes[i].is_ascii_digit() || bytes[i] == b'.') {
                i += 1;
            }
            if i < bytes.len() && (bytes[i] == b'e' || bytes[i] == b'E') {
                let mut j = i + 1;
                if j < bytes.len() && (bytes[j] == b'+' || bytes[j] == b'-') {
                    j += 1;
                }
                if j < bytes.len() && bytes[j].is_ascii_digit() {
                    i = j;
                    while i < bytes.len() && bytes[i].is_ascii_digit() {
                        i += 1;
                    }
                }
            }
            out.push(Token {
                tok: Tok::Number(src[start..i].to_string()),
                offset: start,
            });
            continue;
        }
        if c == b'\'' || c == b'"' {
            let (text, end) = read_quoted(src, start)?;
            i = end;
            out.push(Token {
                tok: if c == b'"' {
                    Tok::QuotedIdent(text)
                } else {
                    Tok::Str(text)
                },
                offset: start,
            });
            continue;
        }
        let rest = &src[i..];
        match SYMBOLS.iter().find(|s| rest.starts_with(**s)) {
            Some(sym) => {
                i += sym.len();
                out.push(Token {
                    tok: Tok::Sym(sym),
                    offset: start,
                });
            }
            None => {
                let ch = rest.chars().next().unwrap_or('?');
                return Err(SqlError::at(
                    src,
                    start,
                    &format!("syntax error at or near \"{ch}\""),
                ));
            }
        }
    }
    out.push(Token {
        tok: Tok::Eof,
        offset: src.len(),
    });
    Ok(out)
}

/// Reads a quoted string literal or identifier starting at `start` (its opening quote), where a
/// doubled quote stands for one. Returns the unquoted text and the offset just past the closing
/// quote.
fn read_quoted(src: &str, start: usize) -> Result<(String, usize), SqlError> {
    let bytes = src.as_bytes();
    let quote = bytes[start];
    let mut text = String::new();
    let mut i = start + 1;
    loop {
        let Some(&b) = bytes.get(i) else {
            let what = if quote == b'"' {
                "unterminated quoted identifier at or near \"\"\""
            } else {
                "unterminated quoted string at or near \"'\""
            };
            return Err(SqlError::at(src, start, what));
        };
        if b == quote {
            if bytes.get(i + 1) == Some(&quote) {
                text.push(char::from(quote));
                i += 2;
                continue;
            }
            return Ok((text, i + 1));
        }
        let ch = src[i..].chars().next().unwrap_or('\0');
        text.push(ch);
        i += ch.len_utf8().max(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_fold_to_lower_case_and_strings_unescape_quotes() {
        let toks = tokenize("SELECT 'it''s', \"Mixed\" FROM t;").unwrap();
        let kinds: Vec<Tok> = toks.into_iter().map(|t| t.tok).collect();
        assert_eq!(
            kinds,
            vec![
                Tok::Word("select".into()),
                Tok::Str("it's".into()),
                Tok::Sym(","),
                Tok::QuotedIdent("Mixed".into()),
                Tok::Word("from".into()),
                Tok::Word("t".into()),
                Tok::Sym(";"),
                Tok::Eof,
            ]
        );
    }

    #[test]
    fn an_unterminated_string_names_its_line_and_column() {
        let err = tokenize("SELECT 1;\n  SELECT 'oops").unwrap_err();
        assert_eq!((err.line, err.column), (2, 10));
    }
}
