//! The world: the server together with the application side (pools, connections, tasks) and
//! the virtual clock, changed only by `step`.
