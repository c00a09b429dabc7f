//! The syntax tree of the SQL subset. Plain data, so that a parsed statement can live inside the
//! server's state while it runs.

use serde::{Deserialize, Serialize};

/// A statement together with its source text (trimmed), which the server log and
/// `pg_stat_activity`-like views show.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Statement {
    /// What the statement does.
    pub kind: StatementKind,
    /// The statement's text as written, without the trailing semicolon.
    pub text: String,
}

/// The statements of the SQL subset.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum StatementKind {
    /// `CREATE TABLE [IF NOT EXISTS] name (...)`.
    CreateTable(CreateTable),
    /// `DROP TABLE [IF EXISTS] a, b, ...`.
    DropTable {
        /// Tables to drop.
        names: Vec<String>,
        /// `IF EXISTS` was given.
        if_exists: bool,
    },
    /// `INSERT INTO ...`.
    Insert(Insert),
    /// `UPDATE ...`.
    Update(Update),
    /// `DELETE FROM ...`.
    Delete(Delete),
    /// `SELECT ...`.
    Select(Select),
    /// `BEGIN` / `START TRANSACTION`, with an optional isolation level.
    Begin(Option<IsolationLevel>),
    /// `COMMIT` / `END`.
    Commit,
    /// `ROLLBACK` / `ABORT`.
    Rollback,
    /// `SAVEPOINT name`.
    Savepoint(String),
    /// `ROLLBACK TO [SAVEPOINT] name`.
    RollbackTo(String),
    /// `RELEASE [SAVEPOINT] name`.
    Release(String),
    /// `SET TRANSACTION ISOLATION LEVEL ...`.
    SetTransaction(IsolationLevel),
    /// `SET name = value` / `SET name TO value` (`SET LOCAL` is treated like `SET`).
    Set {
        /// The setting's name, lower case.
        name: String,
        /// The value as written (quotes removed).
        value: String,
    },
    /// `SHOW name`.
    Show(String),
    /// `LOCK [TABLE] a, b [IN mode MODE] [NOWAIT]`.
    Lock {
        /// Tables to lock, in order.
        tables: Vec<String>,
        /// The table-lock mode (default ACCESS EXCLUSIVE).
        mode: TableLockMode,
        /// `NOWAIT` was given.
        nowait: bool,
    },
}

/// The transaction isolation levels (READ UNCOMMITTED behaves as READ COMMITTED).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum IsolationLevel {
    /// A new snapshot per statement.
    ReadCommitted,
    /// One snapshot per transaction, taken at its first statement.
    RepeatableRead,
    /// Repeatable read plus detection of serialization anomalies.
    Serializable,
}

impl IsolationLevel {
    /// The level's name as `current_setting('transaction_isolation')` prints it.
    pub fn name(self) -> &'static str {
        match self {
            IsolationLevel::ReadCommitted => "read committed",
            IsolationLevel::RepeatableRead => "repeatable read",
            IsolationLevel::Serializable => "serializable",
        }
    }
}

/// The eight table-level lock modes, weakest first (their order is PostgreSQL's numbering).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum TableLockMode {
    /// ACCESS SHARE (plain SELECT).
    AccessShare,
    /// ROW SHARE (SELECT ... FOR UPDATE/SHARE).
    RowShare,
    /// ROW EXCLUSIVE (INSERT, UPDATE, DELETE).
    RowExclusive,
    /// SHARE UPDATE EXCLUSIVE.
    ShareUpdateExclusive,
    /// SHARE.
    Share,
    /// SHARE ROW EXCLUSIVE.
    ShareRowExclusive,
    /// EXCLUSIVE.
    Exclusive,
    /// ACCESS EXCLUSIVE (LOCK TABLE's default, DROP TABLE).
    AccessExclusive,
}

/// `CREATE TABLE`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CreateTable {
    /// The table's name.
    pub name: String,
    /// `IF NOT EXISTS` was given.
    pub if_not_exists: bool,
    /// Columns in declaration order.
    pub columns: Vec<ColumnDef>,
    /// Primary key columns, if any.
    pub primary_key: Option<Vec<String>>,
    /// UNIQUE constraints, each a list of columns.
    pub unique: Vec<Vec<String>>,
}

/// One column of `CREATE TABLE`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct ColumnDef {
    /// The column's name.
    pub name: String,
    /// Its type.
    pub ty: SqlType,
    /// `NOT NULL` (also implied by PRIMARY KEY).
    pub not_null: bool,
    /// `DEFAULT expr`.
    pub default: Option<Expr>,
}

/// Column types of the subset.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SqlType {
    /// int, integer, int4, smallint, int2, serial (int4: the subset keeps smallint as int4).
    Int,
    /// bigint, int8, bigserial.
    BigInt,
    /// numeric / decimal (integral values only).
    Numeric,
    /// text, varchar, char.
    Text,
    /// boolean.
    Bool,
}

/// `INSERT INTO table [(cols)] VALUES (...), (...) [ON CONFLICT ...] [RETURNING ...]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Insert {
    /// Target table.
    pub table: String,
    /// The alias after `AS`, if any.
    pub alias: Option<String>,
    /// Explicit column list, if given.
    pub columns: Option<Vec<String>>,
    /// The VALUES rows.
    pub rows: Vec<Vec<Expr>>,
    /// The ON CONFLICT clause.
    pub on_conflict: Option<OnConflict>,
    /// RETURNING items.
    pub returning: Vec<SelectItem>,
}

/// `ON CONFLICT [(cols)] DO NOTHING | DO UPDATE SET ... [WHERE ...]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct OnConflict {
    /// The conflict target columns, if given.
    pub target: Option<Vec<String>>,
    /// What to do.
    pub action: ConflictAction,
}

/// The action of ON CONFLICT.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ConflictAction {
    /// `DO NOTHING`.
    Nothing,
    /// `DO UPDATE SET ... [WHERE ...]`.
    Update {
        /// Assignments, column = expression.
        assignments: Vec<(String, Expr)>,
        /// Optional condition.
        filter: Option<Expr>,
    },
}

/// `UPDATE table [alias] SET ... [WHERE ...] [RETURNING ...]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Update {
    /// Target table.
    pub table: String,
    /// Alias, if any.
    pub alias: Option<String>,
    /// Assignments, column = expression.
    pub assignments: Vec<(String, Expr)>,
    /// WHERE condition.
    pub filter: Option<Expr>,
    /// RETURNING items.
    pub returning: Vec<SelectItem>,
}

/// `DELETE FROM table [alias] [WHERE ...] [RETURNING ...]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Delete {
    /// Target table.
    pub table: String,
    /// Alias, if any.
    pub alias: Option<String>,
    /// WHERE condition.
    pub filter: Option<Expr>,
    /// RETURNING items.
    pub returning: Vec<SelectItem>,
}

/// `SELECT items [FROM t] [WHERE] [ORDER BY] [LIMIT] [FOR ...]`.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Select {
    /// The output items.
    pub items: Vec<SelectItem>,
    /// The table read, with an optional alias.
    pub from: Option<(String, Option<String>)>,
    /// WHERE condition.
    pub filter: Option<Expr>,
    /// ORDER BY keys: expression and `true` for DESC.
    pub order_by: Vec<(Expr, bool)>,
    /// LIMIT.
    pub limit: Option<Expr>,
    /// The locking clause.
    pub locking: Option<Locking>,
}

/// One output item of SELECT or RETURNING.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SelectItem {
    /// `*`.
    Star,
    /// An expression with an optional alias.
    Expr(Expr, Option<String>),
}

/// `FOR UPDATE | NO KEY UPDATE | SHARE | KEY SHARE [NOWAIT | SKIP LOCKED]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Locking {
    /// The row-lock strength.
    pub strength: RowLockStrength,
    /// What to do when a row is locked by someone else.
    pub wait: WaitPolicy,
}

/// The four row-level lock modes, weakest first.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum RowLockStrength {
    /// FOR KEY SHARE.
    KeyShare,
    /// FOR SHARE.
    Share,
    /// FOR NO KEY UPDATE.
    NoKeyUpdate,
    /// FOR UPDATE.
    Update,
}

impl RowLockStrength {
    /// The clause as SQL writes it (`FOR NO KEY UPDATE`), as PostgreSQL names the mode.
    pub fn sql(self) -> &'static str {
        match self {
            RowLockStrength::KeyShare => "FOR KEY SHARE",
            RowLockStrength::Share => "FOR SHARE",
            RowLockStrength::NoKeyUpdate => "FOR NO KEY UPDATE",
            RowLockStrength::Update => "FOR UPDATE",
        }
    }
}

/// How a row lock behaves when the row is locked.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum WaitPolicy {
    /// Wait (the default).
    Block,
    /// `NOWAIT`: fail at once.
    NoWait,
    /// `SKIP LOCKED`: leave the row out.
    SkipLocked,
}

/// Expressions.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Expr {
    /// NULL.
    Null,
    /// An integer literal.
    Int(i64),
    /// A string literal (its type is decided by context, as PostgreSQL's `unknown`).
    Str(String),
    /// TRUE / FALSE.
    Bool(bool),
    /// A column reference, optionally qualified (`excluded.val`, `upsert.val`).
    Column(Option<String>, String),
    /// A binary operation.
    Binary(BinOp, Box<Expr>, Box<Expr>),
    /// NOT.
    Not(Box<Expr>),
    /// Unary minus.
    Neg(Box<Expr>),
    /// `expr IS [NOT] NULL`; the flag is true for IS NOT NULL.
    IsNull(Box<Expr>, bool),
    /// `expr [NOT] IN (list)`; the flag is true for NOT IN.
    InList(Box<Expr>, Vec<Expr>, bool),
    /// A function call; `count(*)` has the single argument [`Expr::Star`].
    Function(String, Vec<Expr>),
    /// `*` inside `count(*)`.
    Star,
    /// `expr::type` (only for literals and simple casts).
    Cast(Box<Expr>, SqlType),
    /// `DEFAULT` in an INSERT's VALUES list: the column's default.
    Default,
}

/// Binary operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum BinOp {
    /// `=`.
    Eq,
    /// `<>` / `!=`.
    NotEq,
    /// `<`.
    Lt,
    /// `<=`.
    LtEq,
    /// `>`.
    Gt,
    /// `>=`.
    GtEq,
    /// AND.
    And,
    /// OR.
    Or,
    /// `+`.
    Add,
    /// `-`.
    Sub,
    /// `*`.
    Mul,
    /// `/`.
    Div,
    /// `%`.
    Mod,
    /// `||`.
    Concat,
}
