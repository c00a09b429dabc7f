//! The PostgreSQL model: tables of MVCC tuple versions, the lock manager, transactions,
//! the deadlock detector and timeouts, with PostgreSQL's own messages.
