//! The specs the sandbox ships: our own small stories of the classic anomalies, and a few of
//! PostgreSQL's own isolation specs (PostgreSQL License, see `examples/postgres/COPYRIGHT`).

/// What the data must look like after a run for it to be correct, checked with a query on a
/// fresh connection once the permutation has ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Check {
    /// The query.
    pub sql: &'static str,
    /// What a correct run returns.
    pub expect: Expect,
    /// The rule in words, for the anomaly message.
    pub rule: &'static str,
}

/// A check's expected result.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Expect {
    /// Exactly these rows (values as PostgreSQL prints them).
    Rows(&'static [&'static [&'static str]]),
    /// At least one row.
    SomeRow,
}

/// Where an example comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Origin {
    /// Written for Lockstep.
    Lockstep,
    /// PostgreSQL's `src/test/isolation/specs/`, unchanged.
    Postgres,
}

/// One shipped spec.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Example {
    /// Its name in links (`sandbox.html?example=SLUG`).
    pub slug: &'static str,
    /// Its title in the picker.
    pub title: &'static str,
    /// Where it comes from.
    pub origin: Origin,
    /// The spec text.
    pub text: &'static str,
    /// The correctness rule, if the example has one.
    pub check: Option<Check>,
}

const COUNTER_CHECK: Check = Check {
    sql: "SELECT hits FROM counter WHERE id = 1",
    expect: Expect::Rows(&[&["12"]]),
    rule: "both hits are counted: the counter must go from 10 to 12",
};

const ON_CALL_CHECK: Check = Check {
    sql: "SELECT name FROM doctors WHERE on_call",
    expect: Expect::SomeRow,
    rule: "at least one doctor must stay on call",
};

/// Every example, in the picker's order.
pub const EXAMPLES: &[Example] = &[
    Example {
        slug: "lost-update",
        title: "Lost update (READ COMMITTED)",
        origin: Origin::Lockstep,
        text: include_str!("examples/lost-update-read-committed.spec"),
        check: Some(COUNTER_CHECK),
    },
    Example {
        slug: "lost-update-repeatable-read",
        title: "Lost update prevented (REPEATABLE READ)",
        origin: Origin::Lockstep,
        text: include_str!("examples/lost-update-repeatable-read.spec"),
        check: Some(Check {
            // The failed transaction wrote nothing; the application retries it.
            expect: Expect::Rows(&[&["11"]]),
            rule: "only the committed hit is counted; the failed transaction must be retried",
            ..COUNTER_CHECK
        }),
    },
    Example {
        slug: "write-skew-read-committed",
        title: "Write skew (READ COMMITTED)",
        origin: Origin::Lockstep,
        text: include_str!("examples/write-skew-read-committed.spec"),
        check: Some(ON_CALL_CHECK),
    },
    Example {
        slug: "write-skew-repeatable-read",
        title: "Write skew (REPEATABLE READ)",
        origin: Origin::Lockstep,
        text: include_str!("examples/write-skew-repeatable-read.spec"),
        check: Some(ON_CALL_CHECK),
    },
    Example {
        slug: "write-skew-serializable",
        title: "Write skew prevented (SERIALIZABLE)",
        origin: Origin::Lockstep,
        text: include_str!("examples/write-skew-serializable.spec"),
        check: Some(ON_CALL_CHECK),
    },
    Example {
        slug: "deadlock",
        title: "Deadlock: two transfers in opposite order",
        origin: Origin::Lockstep,
        text: include_str!("examples/deadlock.spec"),
        check: None,
    },
    Example {
        slug: "deadlock-simple",
        title: "PostgreSQL: deadlock-simple (lock upgrades)",
        origin: Origin::Postgres,
        text: include_str!("examples/postgres/deadlock-simple.spec"),
        check: None,
    },
    Example {
        slug: "simple-write-skew",
        title: "PostgreSQL: simple-write-skew (every interleaving)",
        origin: Origin::Postgres,
        text: include_str!("examples/postgres/simple-write-skew.spec"),
        check: None,
    },
    Example {
        slug: "nowait",
        title: "PostgreSQL: nowait (FOR UPDATE NOWAIT)",
        origin: Origin::Postgres,
        text: include_str!("examples/postgres/nowait.spec"),
        check: None,
    },
    Example {
        slug: "skip-locked",
        title: "PostgreSQL: skip-locked (FOR UPDATE SKIP LOCKED)",
        origin: Origin::Postgres,
        text: include_str!("examples/postgres/skip-locked.spec"),
        check: None,
    },
];

/// The example with this slug.
pub fn example(slug: &str) -> Option<&'static Example> {
    EXAMPLES.iter().find(|e| e.slug == slug)
}

/// The example whose text this is, if it is one unchanged.
pub fn example_with_text(text: &str) -> Option<&'static Example> {
    EXAMPLES.iter().find(|e| e.text == text)
}
