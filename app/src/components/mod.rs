//! The panels that pages share, one component per file, each named after its component.
//! A panel reads the session (and the player) from context and imports no page.

pub mod activity_panel;
pub mod challenges;
pub mod check_schedules;
pub mod code_listing;
pub mod connections_panel;
pub mod controls;
pub mod fix_change;
pub mod fix_picker;
pub mod heap_tables;
pub mod help_overlay;
pub mod knobs;
pub mod lanes;
pub mod locks_panel;
pub mod panel_tabs;
pub mod pg_locks;
pub mod pg_log;
pub mod pool;
pub mod pool_sizing;
pub mod prediction;
pub mod share;
pub mod status_banner;
pub mod story;
pub mod tables;
pub mod timeline;
pub mod wait_for_graph;
