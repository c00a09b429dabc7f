//! A text in the address: the sandbox's spec (`sandbox.html?spec=TEXT`) and the studio's
//! lesson file (`studio.html?lesson_src=TEXT`), where TEXT is `1` (the format's version)
//! followed by the UTF-8 text compressed with raw DEFLATE and written in base64url without
//! padding. The shipped example specs (0.4 to 1.1 KB) become 325 to 710 characters; the course's
//! lesson files (9 to 24 KB) become 3,544 to 7,562.
//!
//! Both directions are bounded: a link longer than [`LINK_CHARS_MAX`] is not made, and a link
//! is never inflated past its kind's `bytes_max`, so a hostile link cannot make the page
//! allocate without limit.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// The longest value made or accepted, in characters. A link travels to the server that
/// serves the page, and common defaults refuse a longer request line (nginx's
/// `large_client_header_buffers` is 8 KB; many chat tools also cut longer addresses).
pub const LINK_CHARS_MAX: usize = 8_000;

/// What a link carries: the word its messages use and the largest text it may inflate to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Carried {
    /// "spec", "lesson": as in "the link's spec is damaged".
    pub what: &'static str,
    /// The largest text, in bytes.
    pub bytes_max: usize,
}

/// An isolation spec, in the sandbox's `spec=`.
pub const SPEC: Carried = Carried {
    what: "spec",
    bytes_max: 64 * 1024,
};

/// A lesson file, in the studio's `lesson_src=`.
pub const LESSON: Carried = Carried {
    what: "lesson",
    bytes_max: 64 * 1024,
};

/// The format version, the value's first character.
const VERSION: char = '1';

/// The best compression miniz offers; the texts are small, so speed does not matter.
const LEVEL: u8 = 9;

impl Carried {
    /// Encodes a text for the address; an error says why it cannot be shared as a link.
    pub fn encode(self, text: &str) -> Result<String, String> {
        let Carried { what, bytes_max } = self;
        if text.len() > bytes_max {
            return Err(format!(
                "the {what} is {} bytes; a link can carry at most {bytes_max}",
                text.len()
            ));
        }
        let packed = miniz_oxide::deflate::compress_to_vec(text.as_bytes(), LEVEL);
        let value = format!("{VERSION}{}", URL_SAFE_NO_PAD.encode(packed));
        if value.len() > LINK_CHARS_MAX {
            return Err(format!(
                "the {what} compresses to a {}-character link; the limit is {LINK_CHARS_MAX}",
                value.len()
            ));
        }
        Ok(value)
    }

    /// Decodes a value back into its text.
    pub fn decode(self, value: &str) -> Result<String, String> {
        let Carried { what, bytes_max } = self;
        if value.len() > LINK_CHARS_MAX {
            return Err(format!(
                "the link's {what} is {} characters; the limit is {LINK_CHARS_MAX}",
                value.len()
            ));
        }
        let mut chars = value.chars();
        match chars.next() {
            Some(VERSION) => {}
            Some(other) => {
                return Err(format!(
                    "the link's {what} starts with `{other}`, not a known format (`{VERSION}`)"
                ))
            }
            None => return Err(format!("the link's {what} is empty")),
        }
        let packed = URL_SAFE_NO_PAD
            .decode(chars.as_str())
            .map_err(|e| format!("the link's {what} is damaged (base64url: {e})"))?;
        let bytes = miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, bytes_max)
            .map_err(|e| match e.status {
                miniz_oxide::inflate::TINFLStatus::HasMoreOutput => {
                    format!("the link's {what} is longer than {bytes_max} bytes")
                }
                _ => format!("the link's {what} is damaged (it does not inflate)"),
            })?;
        String::from_utf8(bytes).map_err(|_| format!("the link's {what} is not UTF-8 text"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_survives_the_round_trip_through_a_link() {
        let text = "session s1\nstep a { SELECT 'é' AS \"x\"; }  # ünïcode & <angle>\n";
        let value = SPEC.encode(text).unwrap();
        assert!(value.starts_with('1'));
        assert!(value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(SPEC.decode(&value).unwrap(), text);
    }

    #[test]
    fn a_link_is_much_shorter_than_the_spec() {
        let text = include_str!("pages/sandbox/examples/deadlock.spec");
        let value = SPEC.encode(text).unwrap();
        assert!(
            value.len() * 10 < text.len() * 7,
            "{} vs {}",
            value.len(),
            text.len()
        );
    }

    #[test]
    fn damaged_or_unknown_links_are_errors_that_say_so() {
        assert!(SPEC.decode("").unwrap_err().contains("empty"));
        assert!(SPEC.decode("2abc").unwrap_err().contains("known format"));
        assert!(SPEC.decode("1***").unwrap_err().contains("base64url"));
        assert!(SPEC.decode("1AAAA").unwrap_err().contains("damaged"));
    }

    #[test]
    fn a_link_that_inflates_past_the_limit_is_refused() {
        // Zeros compress a thousandfold: a short link, a huge text.
        let huge = vec![b'a'; SPEC.bytes_max + 1];
        let packed = miniz_oxide::deflate::compress_to_vec(&huge, LEVEL);
        let value = format!("1{}", URL_SAFE_NO_PAD.encode(packed));
        assert!(value.len() < LINK_CHARS_MAX);
        assert!(SPEC.decode(&value).unwrap_err().contains("longer than"));
        assert!(SPEC
            .encode(std::str::from_utf8(&huge).unwrap())
            .unwrap_err()
            .contains("at most"));
    }

    #[test]
    fn every_course_lesson_travels_in_a_link_within_the_limit() {
        for lesson in lockstep_lessons::catalogue() {
            let text = lockstep_lessons::source(&lesson.slug).unwrap();
            let value = LESSON.encode(text).unwrap();
            assert!(value.len() <= LINK_CHARS_MAX, "{}", lesson.slug);
            assert_eq!(LESSON.decode(&value).unwrap(), text);
        }
        let err = LESSON.decode("2x").unwrap_err();
        assert!(err.starts_with("the link's lesson"), "{err}");
    }
}
