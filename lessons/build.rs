//! Turns the lesson files into JSON at build time, so the browser bundle carries a
//! small JSON reader instead of a TOML parser (the TOML parser alone was about a sixth of the
//! page's code). The lessons are read in `catalogue.toml`'s order; every lesson it names must
//! exist. A TOML syntax error fails the build with its file, line and column; the lessons' own
//! rules (a valid scenario, fixes that apply) are checked when they are loaded, by this crate's
//! tests and by `lockstep check`.

use std::path::Path;

fn main() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    let catalogue_path = dir.join("catalogue.toml");
    println!("cargo::rerun-if-changed={}", catalogue_path.display());
    let catalogue: toml::Table = read(&catalogue_path);
    let slugs = catalogue
        .get("lessons")
        .and_then(|l| l.as_array())
        .unwrap_or_else(|| fail(&catalogue_path, "expected `lessons = [\"slug\", ...]`"));

    // `lessons.rs`: `[(slug, JSON text)]` in course order, included by `src/lib.rs`;
    // `sources.rs`: `[(slug, TOML text)]`, the files as written, for the studio's starting points;
    // `index.rs`: `[Entry]`, what the course list and the course links show of each lesson.
    let mut lessons = String::from("&[\n");
    let mut sources = String::from("&[\n");
    let mut index = String::from("&[\n");
    for slug in slugs {
        let slug = slug
            .as_str()
            .unwrap_or_else(|| fail(&catalogue_path, "a lesson slug must be a string"));
        let path = dir.join(slug).join("lesson.toml");
        println!("cargo::rerun-if-changed={}", path.display());
        let lesson: serde_json::Value = read(&path);
        let json = serde_json::to_string(&lesson).expect("JSON values serialize");
        index.push_str(&entry(slug, &lesson));
        // A `str`'s Debug form is a valid Rust string literal.
        lessons.push_str(&format!("    ({slug:?}, {json:?}),\n"));
        let toml_path = path.display().to_string();
        sources.push_str(&format!("    ({slug:?}, include_str!({toml_path:?})),\n"));
    }
    lessons.push_str("]\n");
    sources.push_str("]\n");
    index.push_str("]\n");
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    for (name, text) in [
        ("lessons.rs", lessons),
        ("sources.rs", sources),
        ("index.rs", index),
    ] {
        let out = Path::new(&out_dir).join(name);
        std::fs::write(&out, text).unwrap_or_else(|e| fail(&out, &e.to_string()));
    }
}

/// One lesson's `Entry` (`src/lib.rs`) as Rust: the strings the course list shows. A field
/// missing here is reported when the lesson itself is read, by this crate's tests.
fn entry(slug: &str, lesson: &serde_json::Value) -> String {
    let text = |key: &str| lesson.get(key).and_then(|v| v.as_str()).unwrap_or_default();
    let list = |key: &str, field: &str| {
        lesson
            .get(key)
            .and_then(|v| v.as_array())
            .into_iter()
            .flatten()
            .filter_map(|item| item.get(field)?.as_str())
            .map(|s| format!("{s:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    format!(
        "    Entry {{ slug: {slug:?}, title: {:?}, summary: {:?}, language: {:?}, fixes: &[{}], challenges: &[{}] }},\n",
        text("title"),
        text("summary"),
        text("language"),
        list("fixes", "slug"),
        list("challenges", "id"),
    )
}

/// Reads and parses one TOML file, or fails the build saying where the file is wrong (the
/// `toml` crate's message gives the line and column, with the line itself).
fn read<T: serde::de::DeserializeOwned>(path: &Path) -> T {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| fail(path, &e.to_string()));
    toml::from_str(&text).unwrap_or_else(|e| fail(path, &e.to_string()))
}

fn fail(path: &Path, message: &str) -> ! {
    panic!("{}: {message}", path.display())
}
