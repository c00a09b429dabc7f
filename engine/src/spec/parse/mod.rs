//! The isolation-tester `.spec` file format: its syntax tree, a parser, validation, the
//! permutations the tester runs, and printing a spec back as `.spec` text.
//!
//! The grammar follows PostgreSQL's `specparse.y` / `specscanner.l` (PG 14 onward): global
//! `setup` blocks (any number), an optional global `teardown`, one or more `session`s each with
//! an optional `setup`, one or more `step`s and an optional `teardown`, then zero or more
//! `permutation` lines whose entries may carry blocker markers. Outside `{ }` blocks a `#`
//! starts a comment. Names are bare identifiers or double-quoted strings (`""` is a quote).

mod lexer;

use lexer::{is_name_char, is_name_start, tokenize, Keyword, Position, Token};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

pub use crate::limits::{PERMUTATIONS_MAX, SPEC_BYTES_MAX};
use crate::limits::{PERMUTATION_STEPS_TOTAL_MAX, SESSIONS_MAX, SQL_BYTES_MAX, STEPS_PER_RUN_MAX};

/// A parsed isolation spec.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Spec {
    /// Global `setup` blocks, run in order on the control connection before each permutation.
    pub setup: Vec<String>,
    /// The global `teardown` block, run on the control connection after each permutation.
    pub teardown: Option<String>,
    /// The sessions, in declaration order (each gets its own connection).
    pub sessions: Vec<Session>,
    /// The explicit `permutation` lines; empty means "every interleaving".
    pub permutations: Vec<Permutation>,
}

/// One `session NAME` block.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The session's name, as printed in NOTICE prefixes.
    pub name: String,
    /// The session's `setup` block, run after the global setup.
    pub setup: Option<String>,
    /// The session's steps, in declaration order.
    pub steps: Vec<Step>,
    /// The session's `teardown` block, run after all steps of a permutation.
    pub teardown: Option<String>,
}

/// One `step NAME { SQL }`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    /// The step's name, unique across the whole spec.
    pub name: String,
    /// The SQL between the braces, trimmed of leading and trailing whitespace; it may hold
    /// several statements and is sent as one simple-protocol query string.
    pub sql: String,
}

/// One `permutation` line: the steps to run, in order.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Permutation {
    /// The entries of the line, in order.
    pub entries: Vec<PermutationEntry>,
}

/// One entry of a permutation line: a step name and its blocker markers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PermutationEntry {
    /// The name of the step to launch.
    pub step: String,
    /// Markers that delay the report of this step's completion (never its launch).
    pub markers: Vec<Marker>,
}

/// A blocker marker on a permutation entry: `step(*)`, `step(other)`, `step(other notices N)`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Marker {
    /// `(*)`: report the step as `<waiting ...>` at launch without checking that it blocks.
    Star,
    /// `(other)`: do not report completion while step `other` is still running.
    After(String),
    /// `(other notices N)`: do not report completion until `other`'s session has sent N
    /// notices since this step was launched.
    Notices(String, u32),
}

/// Invalid spec input, with the 1-based line and column where the problem was found.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SpecError {
    /// 1-based line of the offending token.
    pub line: u32,
    /// 1-based column (in characters) of the offending token.
    pub column: u32,
    /// What is wrong, in words.
    pub message: String,
}

impl fmt::Display for SpecError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "line {}, column {}: {}",
            self.line, self.column, self.message
        )
    }
}

impl std::error::Error for SpecError {}

/// A cursor over the token list; `end` is where an "unexpected end of file" points.
struct Parser {
    tokens: Vec<(Position, Token)>,
    next: usize,
    end: Position,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.next).map(|(_, t)| t)
    }

    fn position(&self) -> Position {
        self.tokens.get(self.next).map_or(self.end, |(p, _)| *p)
    }

    fn bump(&mut self) -> Option<(Position, Token)> {
        let token = self.tokens.get(self.next).cloned();
        if token.is_some() {
            self.next += 1;
        }
        token
    }

    fn eat_keyword(&mut self, keyword: Keyword) -> bool {
        if self.peek() == Some(&Token::Keyword(keyword)) {
            self.next += 1;
            true
        } else {
            false
        }
    }

    fn unexpected(&self, wanted: &str) -> SpecError {
        let found = self
            .peek()
            .map_or_else(|| "end of file".to_string(), Token::describe);
        self.position()
            .error(format!("expected {wanted}, found {found}"))
    }

    fn expect_name(&mut self, wanted: &str) -> Result<(Position, String), SpecError> {
        match self.peek() {
            Some(Token::Name(_)) => match self.bump() {
                Some((at, Token::Name(name))) => Ok((at, name)),
                _ => Err(self.unexpected(wanted)),
            },
            _ => Err(self.unexpected(wanted)),
        }
    }

    fn expect_sql(&mut self, wanted: &str) -> Result<String, SpecError> {
        match self.peek() {
            Some(Token::Sql(_)) => match self.bump() {
                Some((at, Token::Sql(sql))) if sql.len() > SQL_BYTES_MAX => Err(at.error(format!(
                    "this SQL block is {} bytes, more than SQL_BYTES_MAX ({SQL_BYTES_MAX})",
                    sql.len()
                ))),
                Some((_, Token::Sql(sql))) => Ok(sql),
                _ => Err(self.unexpected(wanted)),
            },
            _ => Err(self.unexpected(wanted)),
        }
    }

    fn expect(&mut self, token: Token, wanted: &str) -> Result<(), SpecError> {
        if self.peek() == Some(&token) {
            self.next += 1;
            Ok(())
        } else {
            Err(self.unexpected(wanted))
        }
    }
}

/// Where each name in a permutation line was written, so validation errors can point at it.
struct EntryPositions {
    step: Position,
    markers: Vec<Position>,
}

impl Spec {
    /// Parses and validates `.spec` text. Errors name the line and column; input longer than
    /// [`SPEC_BYTES_MAX`] is refused.
    pub fn parse(text: &str) -> Result<Spec, SpecError> {
        if text.len() > SPEC_BYTES_MAX {
            return Err(Position { line: 1, column: 1 }.error(format!(
                "spec is {} bytes, more than the limit SPEC_BYTES_MAX ({SPEC_BYTES_MAX})",
                text.len()
            )));
        }
        let tokens = tokenize(text)?;
        let end = end_position(text);
        let mut parser = Parser {
            tokens,
            next: 0,
            end,
        };
        let mut spec = Spec {
            setup: Vec::new(),
            teardown: None,
            sessions: Vec::new(),
            permutations: Vec::new(),
        };
        while parser.eat_keyword(Keyword::Setup) {
            spec.setup.push(parser.expect_sql("`{` after `setup`")?);
        }
        if parser.eat_keyword(Keyword::Teardown) {
            spec.teardown = Some(parser.expect_sql("`{` after `teardown`")?);
        }
        let mut step_positions: BTreeMap<String, Position> = BTreeMap::new();
        while parser.eat_keyword(Keyword::Session) {
            let (at, name) = parser.expect_name("a session name after `session`")?;
            if spec.sessions.len() == SESSIONS_MAX {
                return Err(at.error(format!("more than SESSIONS_MAX ({SESSIONS_MAX}) sessions")));
            }
            let mut session = Session {
                name,
                setup: None,
                steps: Vec::new(),
                teardown: None,
            };
            if parser.eat_keyword(Keyword::Setup) {
                session.setup = Some(parser.expect_sql("`{` after `setup`")?);
            }
            while parser.eat_keyword(Keyword::Step) {
                let (at, name) = parser.expect_name("a step name after `step`")?;
                let sql = parser.expect_sql("`{` with the step's SQL")?;
                if step_positions.insert(name.clone(), at).is_some() {
                    return Err(at.error(format!("duplicate step name \"{name}\"")));
                }
                session.steps.push(Step { name, sql });
            }
            if session.steps.is_empty() {
                return Err(parser.unexpected("`step` (a session needs at least one step)"));
            }
            if parser.eat_keyword(Keyword::Teardown) {
                session.teardown = Some(parser.expect_sql("`{` after `teardown`")?);
            }
            spec.sessions.push(session);
        }
        if spec.sessions.is_empty() {
            return Err(parser.unexpected("`session` (a spec needs at least one session)"));
        }
        let mut positions: Vec<Vec<EntryPositions>> = Vec::new();
        while parser.eat_keyword(Keyword::Permutation) {
            let (permutation, entry_positions) = parse_permutation(&mut parser)?;
            spec.permutations.push(permutation);
            positions.push(entry_positions);
        }
        if parser.peek().is_some() {
            return Err(parser.unexpected("`permutation` or end of file"));
        }
        if let Err(problem) = spec.check() {
            let at = match problem.place {
                Place::Step { permutation, entry } => positions[permutation][entry].step,
                Place::Marker {
                    permutation,
                    entry,
                    marker,
                } => positions[permutation][entry].markers[marker],
            };
            return Err(at.error(problem.message));
        }
        Ok(spec)
    }

    /// Checks the references that the grammar can't: every permutation entry and blocker names
    /// a step of this spec, and no step is blocked by a step of its own session (as
    /// isolationtester requires). Step names must also be unique.
    pub fn validate(&self) -> Result<(), String> {
        let mut seen = BTreeMap::new();
        for session in &self.sessions {
            for step in &session.steps {
                if seen.insert(step.name.as_str(), ()).is_some() {
                    return Err(format!("duplicate step name \"{}\"", step.name));
                }
            }
        }
        self.check().map_err(|problem| problem.message)
    }

    fn check(&self) -> Result<(), Problem> {
        let session_of = self.session_of_steps();
        for (p, permutation) in self.permutations.iter().enumerate() {
            for (e, entry) in permutation.entries.iter().enumerate() {
                let Some(&own) = session_of.get(entry.step.as_str()) else {
                    return Err(Problem {
                        place: Place::Step {
                            permutation: p,
                            entry: e,
                        },
                        message: format!(
                            "undefined step \"{}\" specified in permutation",
                            entry.step
                        ),
                    });
                };
                for (m, marker) in entry.markers.iter().enumerate() {
                    let blocker = match marker {
                        Marker::Star => continue,
                        Marker::After(b) | Marker::Notices(b, _) => b,
                    };
                    let place = Place::Marker {
                        permutation: p,
                        entry: e,
                        marker: m,
                    };
                    match session_of.get(blocker.as_str()) {
                        None => {
                            return Err(Problem {
                                place,
                                message: format!(
                                    "undefined step \"{blocker}\" specified as blocker of \"{}\"",
                                    entry.step
                                ),
                            })
                        }
                        Some(&session) if session == own => {
                            return Err(Problem {
                                place,
                                message: format!(
                                "step \"{}\" cannot be blocked by \"{blocker}\" of its own session",
                                entry.step
                            ),
                            })
                        }
                        Some(_) => {}
                    }
                }
            }
        }
        Ok(())
    }

    /// Maps each step name to the index of its session.
    fn session_of_steps(&self) -> BTreeMap<&str, usize> {
        let mut map = BTreeMap::new();
        for (index, session) in self.sessions.iter().enumerate() {
            for step in &session.steps {
                map.insert(step.name.as_str(), index);
            }
        }
        map
    }

    /// Finds a step and the index of its session by name.
    pub fn step(&self, name: &str) -> Option<(usize, &Step)> {
        self.sessions
            .iter()
            .enumerate()
            .find_map(|(index, session)| {
                session
                    .steps
                    .iter()
                    .find(|step| step.name == name)
                    .map(|step| (index, step))
            })
    }

    /// The permutations the tester runs: the explicit `permutation` lines if there are any,
    /// otherwise every interleaving of the sessions' steps, in isolationtester's order (a
    /// depth-first search that tries sessions in declaration order, so the first permutation
    /// runs session 1's steps first). More than [`PERMUTATIONS_MAX`] generated permutations is
    /// an error.
    pub fn permutations_to_run(&self) -> Result<Vec<Permutation>, String> {
        if !self.permutations.is_empty() {
            return Ok(self.permutations.clone());
        }
        let step_counts: Vec<usize> = self.sessions.iter().map(|s| s.steps.len()).collect();
        let count = interleaving_count(&step_counts);
        if count > PERMUTATIONS_MAX {
            return Err(format!(
                "the spec has no permutation lines and its steps have more than \
                 PERMUTATIONS_MAX ({PERMUTATIONS_MAX}) interleavings; list the permutations to run"
            ));
        }
        let steps: usize = step_counts.iter().sum();
        if count.saturating_mul(steps) > PERMUTATION_STEPS_TOTAL_MAX {
            return Err(format!(
                "the spec has no permutation lines and its {count} interleavings of {steps} steps \
                 would run more than PERMUTATION_STEPS_TOTAL_MAX ({PERMUTATION_STEPS_TOTAL_MAX}) \
                 steps; list the permutations to run"
            ));
        }
        let mut out = Vec::with_capacity(count);
        self.interleave(&mut out);
        Ok(out)
    }

    /// Every interleaving of the sessions' steps, each session's steps in order, session 1's
    /// first: a depth-first search kept on an explicit stack, as a spec may have thousands of
    /// steps.
    fn interleave(&self, out: &mut Vec<Permutation>) {
        let sessions = self.sessions.len();
        let mut next_step = vec![0usize; sessions];
        let mut current: Vec<PermutationEntry> = Vec::new();
        // The session whose step was taken at each position of `current`.
        let mut taken: Vec<usize> = Vec::new();
        // The first session to try at the current position.
        let mut from = 0;
        loop {
            let open = (from..sessions).find(|&i| next_step[i] < self.sessions[i].steps.len());
            if let Some(index) = open {
                current.push(PermutationEntry {
                    step: self.sessions[index].steps[next_step[index]].name.clone(),
                    markers: Vec::new(),
                });
                next_step[index] += 1;
                taken.push(index);
                from = 0;
                continue;
            }
            if from == 0 {
                // No session has a step left: one whole interleaving.
                out.push(Permutation {
                    entries: current.clone(),
                });
            }
            let Some(index) = taken.pop() else {
                break;
            };
            current.pop();
            next_step[index] -= 1;
            from = index + 1;
        }
    }
}

/// The multinomial count of interleavings, saturating so huge specs don't overflow.
fn interleaving_count(step_counts: &[usize]) -> usize {
    // Multiply in binomials C(total, k) one session at a time; each partial product is exact.
    let mut total = 0usize;
    let mut count = 1usize;
    for &k in step_counts {
        for i in 1..=k {
            total += 1;
            // count * total / i stays integral because count * C(total, i) is built up exactly.
            count = match count.checked_mul(total) {
                Some(v) => v / i,
                None => return usize::MAX,
            };
        }
    }
    count
}

/// The position just past the end of the text.
fn end_position(text: &str) -> Position {
    let mut line = 1u32;
    let mut column = 1u32;
    for c in text.chars() {
        if c == '\n' {
            line += 1;
            column = 1;
        } else {
            column += 1;
        }
    }
    Position { line, column }
}

enum Place {
    Step {
        permutation: usize,
        entry: usize,
    },
    Marker {
        permutation: usize,
        entry: usize,
        marker: usize,
    },
}

struct Problem {
    place: Place,
    message: String,
}

fn parse_permutation(parser: &mut Parser) -> Result<(Permutation, Vec<EntryPositions>), SpecError> {
    let mut entries = Vec::new();
    let mut positions = Vec::new();
    while let Some(Token::Name(_)) = parser.peek() {
        let (at, step) = parser.expect_name("a step name")?;
        if entries.len() == STEPS_PER_RUN_MAX {
            return Err(at.error(format!(
                "a permutation of more than STEPS_PER_RUN_MAX ({STEPS_PER_RUN_MAX}) steps"
            )));
        }
        let mut markers = Vec::new();
        let mut marker_positions = Vec::new();
        if parser.peek() == Some(&Token::LeftParen) {
            parser.next += 1;
            loop {
                let marker_at = parser.position();
                if parser.peek() == Some(&Token::Star) {
                    parser.next += 1;
                    markers.push(Marker::Star);
                } else {
                    let (_, blocker) = parser.expect_name("`*` or a step name in the markers")?;
                    if parser.eat_keyword(Keyword::Notices) {
                        let Some(Token::Integer(n)) = parser.peek().cloned() else {
                            return Err(parser.unexpected("a number after `notices`"));
                        };
                        parser.next += 1;
                        markers.push(Marker::Notices(blocker, n));
                    } else {
                        markers.push(Marker::After(blocker));
                    }
                }
                marker_positions.push(marker_at);
                if parser.peek() == Some(&Token::Comma) {
                    parser.next += 1;
                    continue;
                }
                parser.expect(Token::RightParen, "`,` or `)` after a marker")?;
                break;
            }
        }
        entries.push(PermutationEntry { step, markers });
        positions.push(EntryPositions {
            step: at,
            markers: marker_positions,
        });
    }
    if entries.is_empty() {
        return Err(parser.unexpected("a step name after `permutation`"));
    }
    Ok((Permutation { entries }, positions))
}

/// Writes `name` bare when the scanner would read it back as the same name, else quoted.
fn write_name(f: &mut fmt::Formatter<'_>, name: &str) -> fmt::Result {
    let bare = name.chars().next().is_some_and(is_name_start)
        && name.chars().all(is_name_char)
        && Keyword::from_word(name).is_none();
    if bare {
        f.write_str(name)
    } else {
        write!(f, "\"{}\"", name.replace('"', "\"\""))
    }
}

impl fmt::Display for Permutation {
    /// The entries as written on a `permutation` line, markers included.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (index, entry) in self.entries.iter().enumerate() {
            if index > 0 {
                f.write_str(" ")?;
            }
            write_name(f, &entry.step)?;
            if entry.markers.is_empty() {
                continue;
            }
            f.write_str("(")?;
            for (m, marker) in entry.markers.iter().enumerate() {
                if m > 0 {
                    f.write_str(", ")?;
                }
                match marker {
                    Marker::Star => f.write_str("*")?,
                    Marker::After(step) => write_name(f, step)?,
                    Marker::Notices(step, n) => {
                        write_name(f, step)?;
                        write!(f, " notices {n}")?;
                    }
                }
            }
            f.write_str(")")?;
        }
        Ok(())
    }
}

impl fmt::Display for Spec {
    /// The spec as `.spec` text that [`Spec::parse`] reads back to an equal value, provided no
    /// SQL contains `}` (the format has no way to escape it).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for setup in &self.setup {
            writeln!(f, "setup\n{{\n  {setup}\n}}\n")?;
        }
        if let Some(teardown) = &self.teardown {
            writeln!(f, "teardown\n{{\n  {teardown}\n}}\n")?;
        }
        for session in &self.sessions {
            f.write_str("session ")?;
            write_name(f, &session.name)?;
            f.write_str("\n")?;
            if let Some(setup) = &session.setup {
                writeln!(f, "setup\t{{ {setup} }}")?;
            }
            for step in &session.steps {
                f.write_str("step ")?;
                write_name(f, &step.name)?;
                writeln!(f, "\t{{ {} }}", step.sql)?;
            }
            if let Some(teardown) = &session.teardown {
                writeln!(f, "teardown\t{{ {teardown} }}")?;
            }
            f.write_str("\n")?;
        }
        for permutation in &self.permutations {
            writeln!(f, "permutation {permutation}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
