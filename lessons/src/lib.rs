//! The lessons: each one a data file in this folder, embedded at build time and validated.
