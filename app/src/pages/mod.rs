//! The pages: a lesson, the sandbox, the studio, and the course list. A page builds the state its panels
//! read and lays them out; [`crate::app::App`] picks the page from the address.

pub mod course_list;
pub mod course_nav;
pub mod lesson;
pub mod sandbox;
pub mod studio;
