//! The virtual clock. Time only moves when the world says so: timers are events on this clock,
//! and when nothing can run, time jumps to the next timer.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::ops::{Add, Sub};

/// A duration on the virtual clock, in microseconds.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Duration(pub u64);

impl Duration {
    /// No time at all.
    pub const ZERO: Duration = Duration(0);

    /// A duration of `ms` milliseconds (at most the largest duration, never wrapping).
    pub const fn from_millis(ms: u64) -> Duration {
        Duration(ms.saturating_mul(1000))
    }

    /// A duration of `s` seconds (at most the largest duration, never wrapping).
    pub const fn from_secs(s: u64) -> Duration {
        Duration(s.saturating_mul(1_000_000))
    }

    /// The duration in whole milliseconds, rounded down.
    pub const fn as_millis(self) -> u64 {
        self.0 / 1000
    }
}

/// An instant on the virtual clock: microseconds since the simulation started.
#[derive(
    Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize,
)]
pub struct Instant(pub u64);

impl Instant {
    /// The moment the simulation starts.
    pub const START: Instant = Instant(0);
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        Instant(self.0.saturating_add(d.0))
    }
}

impl Sub for Instant {
    type Output = Duration;
    fn sub(self, earlier: Instant) -> Duration {
        Duration(self.0.saturating_sub(earlier.0))
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_multiple_of(1_000_000) {
            write!(f, "{}s", self.0 / 1_000_000)
        } else if self.0.is_multiple_of(1000) {
            write!(f, "{}ms", self.0 / 1000)
        } else {
            write!(f, "{}us", self.0)
        }
    }
}

impl fmt::Display for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Shown to learners as seconds with millisecond precision, like a log timestamp.
        write!(f, "{}.{:03}s", self.0 / 1_000_000, (self.0 / 1000) % 1000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_print_in_their_largest_whole_unit() {
        assert_eq!(Duration::from_secs(1).to_string(), "1s");
        assert_eq!(Duration::from_millis(10).to_string(), "10ms");
        assert_eq!(Duration(5).to_string(), "5us");
    }

    #[test]
    fn instants_print_as_seconds_with_milliseconds() {
        assert_eq!(
            (Instant::START + Duration::from_millis(1010)).to_string(),
            "1.010s"
        );
    }
}
