//! The spec language's tokens: keywords, names, `{ }` blocks and markers, each with where it
//! starts, as `specscanner.l` scans them.

use super::SpecError;

/// A place in the spec text, 1-based.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Position {
    pub(super) line: u32,
    pub(super) column: u32,
}

impl Position {
    pub(super) fn error(self, message: impl Into<String>) -> SpecError {
        SpecError {
            line: self.line,
            column: self.column,
            message: message.into(),
        }
    }
}

/// The reserved words of the spec language. They are keywords only when bare, as in
/// `specscanner.l`; quoted, they are ordinary names.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Keyword {
    Setup,
    Teardown,
    Session,
    Step,
    Permutation,
    Notices,
}

impl Keyword {
    pub(super) fn from_word(word: &str) -> Option<Keyword> {
        match word {
            "setup" => Some(Keyword::Setup),
            "teardown" => Some(Keyword::Teardown),
            "session" => Some(Keyword::Session),
            "step" => Some(Keyword::Step),
            "permutation" => Some(Keyword::Permutation),
            "notices" => Some(Keyword::Notices),
            _ => None,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Token {
    Keyword(Keyword),
    Name(String),
    Integer(u32),
    Sql(String),
    LeftParen,
    RightParen,
    Comma,
    Star,
}

impl Token {
    pub(super) fn describe(&self) -> String {
        match self {
            Token::Keyword(k) => format!("keyword `{}`", format!("{k:?}").to_lowercase()),
            Token::Name(n) => format!("name `{n}`"),
            Token::Integer(i) => format!("number `{i}`"),
            Token::Sql(_) => "SQL block `{ ... }`".to_string(),
            Token::LeftParen => "`(`".to_string(),
            Token::RightParen => "`)`".to_string(),
            Token::Comma => "`,`".to_string(),
            Token::Star => "`*`".to_string(),
        }
    }
}

pub(super) fn is_name_start(c: char) -> bool {
    c.is_ascii_alphabetic() || c == '_'
}

pub(super) fn is_name_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Splits spec text into tokens with their positions.
pub(super) fn tokenize(text: &str) -> Result<Vec<(Position, Token)>, SpecError> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    let mut line = 1u32;
    let mut column = 1u32;
    // Advances over one character, keeping line and column right.
    let advance = |i: &mut usize, line: &mut u32, column: &mut u32| {
        if chars[*i] == '\n' {
            *line += 1;
            *column = 1;
        } else {
            *column += 1;
        }
        *i += 1;
    };
    while i < chars.len() {
        let c = chars[i];
        let at = Position { line, column };
        if c.is_whitespace() {
            advance(&mut i, &mut line, &mut column);
        } else if c == '#' {
            while i < chars.len() && chars[i] != '\n' {
                advance(&mut i, &mut line, &mut column);
            }
        } else if c == '{' {
            advance(&mut i, &mut line, &mut column);
            let start = i;
            // Like the upstream scanner, an SQL block ends at the first `}`: braces don't nest.
            while i < chars.len() && chars[i] != '}' {
                advance(&mut i, &mut line, &mut column);
            }
            if i == chars.len() {
                return Err(at.error("SQL block `{` is never closed with `}`"));
            }
            let sql: String = chars[start..i].iter().collect();
            advance(&mut i, &mut line, &mut column);
            tokens.push((at, Token::Sql(sql.trim().to_string())));
        } else if c == '"' {
            advance(&mut i, &mut line, &mut column);
            let mut name = String::new();
            loop {
                if i == chars.len() {
                    return Err(at.error("quoted name is never closed with `\"`"));
                }
                if chars[i] == '"' {
                    if i + 1 < chars.len() && chars[i + 1] == '"' {
                        name.push('"');
                        advance(&mut i, &mut line, &mut column);
                        advance(&mut i, &mut line, &mut column);
                        continue;
                    }
                    advance(&mut i, &mut line, &mut column);
                    break;
                }
                name.push(chars[i]);
                advance(&mut i, &mut line, &mut column);
            }
            tokens.push((at, Token::Name(name)));
        } else if is_name_start(c) {
            let start = i;
            while i < chars.len() && is_name_char(chars[i]) {
                advance(&mut i, &mut line, &mut column);
            }
            let word: String = chars[start..i].iter().collect();
            let token = match Keyword::from_word(&word) {
                Some(k) => Token::Keyword(k),
                None => Token::Name(word),
            };
            tokens.push((at, token));
        } else if c.is_ascii_digit() {
            let start = i;
            while i < chars.len() && chars[i].is_ascii_digit() {
                advance(&mut i, &mut line, &mut column);
            }
            let digits: String = chars[start..i].iter().collect();
            let value = digits
                .parse::<u32>()
                .map_err(|_| at.error(format!("number `{digits}` is too large")))?;
            tokens.push((at, Token::Integer(value)));
        } else {
            let token = match c {
                '(' => Token::LeftParen,
                ')' => Token::RightParen,
                ',' => Token::Comma,
                '*' => Token::Star,
                _ => return Err(at.error(format!("unexpected character `{c}`"))),
            };
            advance(&mut i, &mut line, &mut column);
            tokens.push((at, token));
        }
    }
    Ok(tokens)
}
