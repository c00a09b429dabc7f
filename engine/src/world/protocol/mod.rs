//! The PostgreSQL wire protocol as the client drivers see it: messages in each direction, and
//! the readers of lib/pq v1.10.9, message by message, with its exact error texts.
//!
//! A query is several steps: the client sends a batch of frontend messages, the backend
//! processes them and queues replies, and the client reads the replies one at a time. Two
//! goroutines reading from one connection can therefore each take a reply meant for the other;
//! lib/pq then fails the way it does in production (`pq: unexpected Parse response 'C'`).

mod bind;
mod client;
mod messages;
mod reader;
#[cfg(test)]
mod tests;

pub use bind::{bind, returns_rows};
pub use client::{condition_name, django_error, pgx_error, postgrex_error, pq_error, Client};
pub use messages::{Backend, ErrorFields, Frontend, TxStatus};
pub use reader::{ReadOutcome, Reader};
