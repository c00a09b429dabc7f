//! Writes every lesson as the lesson page fetches it: `lesson-files DIR` writes `DIR/SLUG.json`
//! for each lesson of the course. Trunk's post-build hook (`app/hooks/pages.mjs`) runs it into
//! the site's `lessons/` folder, so a lesson page loads its own lesson and no other.

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let Some(dir) = std::env::args_os().nth(1).map(PathBuf::from) else {
        eprintln!("usage: lesson-files DIR");
        return ExitCode::from(2);
    };
    if let Err(e) = std::fs::create_dir_all(&dir) {
        eprintln!("lesson-files: {}: {e}", dir.display());
        return ExitCode::FAILURE;
    }
    for entry in lockstep_lessons::index() {
        let json = lockstep_lessons::json(entry.slug).expect("every indexed lesson is embedded");
        let file = dir.join(format!("{}.json", entry.slug));
        if let Err(e) = std::fs::write(&file, json) {
            eprintln!("lesson-files: {}: {e}", file.display());
            return ExitCode::FAILURE;
        }
    }
    ExitCode::SUCCESS
}
