//! Choices and schedules. A schedule is a value: it prints as task names separated by spaces,
//! with `+` for a clock tick (`A A B A B +`), parses back, and replays exactly.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The identity of a task (a request, goroutine or worker) within one world. Tasks from the
/// scenario are numbered in scenario order; spawned goroutines get the next free numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct TaskId(pub u32);

impl fmt::Display for TaskId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task {}", self.0)
    }
}

/// One thing the scheduler can do next.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Choice {
    /// Run one step of this task (which may step its backend on the server).
    Task(TaskId),
    /// Advance the virtual clock to the next timer; enabled only when no task can run.
    Tick,
}

/// One entry of a schedule: a task by name, or a clock tick. Names rather than ids, because
/// schedules live in URLs and tests and must stay readable.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Move {
    /// Run one step of the task with this name.
    Task(String),
    /// Advance the clock to the next timer.
    Tick,
}

/// A sequence of moves: `A A B A B +`.
#[derive(Clone, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Schedule(pub Vec<Move>);

/// Why a schedule string did not parse.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScheduleParseError {
    /// 1-based character column of the bad entry.
    pub column: usize,
    /// What is wrong with it.
    pub message: String,
}

impl fmt::Display for ScheduleParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "schedule, column {}: {}", self.column, self.message)
    }
}

impl std::error::Error for ScheduleParseError {}

/// The characters a task name may use, so that names survive URLs and schedule strings.
pub fn is_valid_task_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '#'))
}

impl fmt::Display for Move {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Move::Task(name) => f.write_str(name),
            Move::Tick => f.write_str("+"),
        }
    }
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, m) in self.0.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            write!(f, "{m}")?;
        }
        Ok(())
    }
}

impl FromStr for Schedule {
    type Err = ScheduleParseError;

    fn from_str(text: &str) -> Result<Schedule, ScheduleParseError> {
        let mut moves = Vec::new();
        let mut column = 1;
        // Split by hand to know each entry's column for the error message.
        for piece in text.split(' ') {
            if piece == "+" {
                moves.push(Move::Tick);
            } else if !piece.is_empty() {
                if !is_valid_task_name(piece) {
                    return Err(ScheduleParseError {
                        column,
                        message: format!(
                            "`{piece}` is neither `+` nor a task name (letters, digits, _ - . #)"
                        ),
                    });
                }
                moves.push(Move::Task(piece.to_string()));
            }
            if moves.len() > crate::limits::SCHEDULE_LENGTH_MAX {
                return Err(ScheduleParseError {
                    column,
                    message: format!(
                        "more than SCHEDULE_LENGTH_MAX ({}) moves",
                        crate::limits::SCHEDULE_LENGTH_MAX
                    ),
                });
            }
            column += piece.chars().count() + 1;
        }
        Ok(Schedule(moves))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_schedule_prints_and_parses_back_verbatim() {
        let text = "A A B A B +";
        let schedule: Schedule = text.parse().unwrap();
        assert_eq!(
            schedule.0,
            vec![
                Move::Task("A".into()),
                Move::Task("A".into()),
                Move::Task("B".into()),
                Move::Task("A".into()),
                Move::Task("B".into()),
                Move::Tick
            ]
        );
        assert_eq!(schedule.to_string(), text);
    }

    #[test]
    fn extra_spaces_are_ignored_and_bad_names_name_their_column() {
        let schedule: Schedule = "  R1  +".parse().unwrap();
        assert_eq!(schedule.to_string(), "R1 +");
        let err = "A b?c".parse::<Schedule>().unwrap_err();
        assert_eq!(err.column, 3);
    }
}
