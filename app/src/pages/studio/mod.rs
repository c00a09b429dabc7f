//! The studio page (`studio.html`): write a lesson of your own in the course's format, watch
//! it run on the same stage as the course's lessons, check it as `lockstep check` does, and
//! share or embed it by a link that carries the whole file.
//!
//! - [`file`]: reading the file (pure, property-tested), the blank starting point;
//! - [`view`]: the page: the file's editor above the lesson it reads as.

pub mod file;
pub mod view;
