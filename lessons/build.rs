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
    // `sources.rs`: `[(slug, TOML text)]`, the files as written, for the studio's starting points.
    let mut lessons = String::from("&[\n");
    let mut sources = String::from("&[\n");
    for slug in slugs {
        let slug = slug
            .as_str()
            .unwrap_or_else(|| fail(&catalogue_path, "a lesson slug must be a string"));
        let path = dir.join(slug).join("lesson.toml");
        println!("cargo::rerun-if-changed={}", path.display());
        let lesson: serde_json::Value = read(&path);
        let json = serde_json::to_string(&lesson).expect("JSON values serialize");
        // A `str`'s Debug form is a valid Rust string literal.
        lessons.push_str(&format!("    ({slug:?}, {json:?}),\n"));
        let toml_path = path.display().to_string();
        sources.push_str(&format!("    ({slug:?}, include_str!({toml_path:?})),\n"));
    }
    lessons.push_str("]\n");
    sources.push_str("]\n");
    let out_dir = std::env::var("OUT_DIR").expect("cargo sets OUT_DIR");
    for (name, text) in [("lessons.rs", lessons), ("sources.rs", sources)] {
        let out = Path::new(&out_dir).join(name);
        std::fs::write(&out, text).unwrap_or_else(|e| fail(&out, &e.to_string()));
    }
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
