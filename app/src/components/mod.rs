//! The page's components, one per file, each named after its component.

pub mod activity_panel;
pub mod app;
pub mod check_schedules;
pub mod code_listing;
pub mod connections_panel;
pub mod controls;
pub mod fixes;
pub mod help_overlay;
pub mod knobs;
pub mod lanes;
pub mod lesson_picker;
pub mod lesson_view;
pub mod locks_panel;
pub mod pg_log;
pub mod pool;
pub mod pool_sizing;
pub mod share;
pub mod status_banner;
pub mod story;
pub mod tables;
pub mod timeline;
pub mod wait_for_graph;
