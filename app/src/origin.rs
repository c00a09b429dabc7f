//! Where the page's lesson comes from: the course, or the studio, where an author wrote it.
//! [`crate::pages::lesson::LessonView`] provides it by context; what differs for a lesson of
//! the studio's is what the address carries (its file, packed: `lesson_src=`), what the checker
//! sends the worker (the file, since the worker knows only the course by name), and the header
//! (marked as authored, no course navigation).

use std::sync::Arc;

/// Where the lesson on the page comes from.
#[derive(Clone, Debug)]
pub enum Origin {
    /// One of the course's lessons, known by its slug.
    Course,
    /// Written in the studio.
    Authored(Authored),
}

/// A lesson written in the studio, in the forms the page passes on.
#[derive(Clone, Debug)]
pub struct Authored {
    /// The file read as JSON values: what the worker reads.
    pub json: Arc<str>,
    /// The file packed for the address (`lesson_src=`), or why it cannot travel in a link.
    pub link: Result<String, String>,
}

impl Origin {
    /// The authored lesson's JSON, for the worker; `None` for a course lesson.
    pub fn authored_json(&self) -> Option<Arc<str>> {
        match self {
            Origin::Course => None,
            Origin::Authored(a) => Some(a.json.clone()),
        }
    }

    /// Whether the lesson was written in the studio.
    pub fn is_authored(&self) -> bool {
        matches!(self, Origin::Authored(_))
    }
}
