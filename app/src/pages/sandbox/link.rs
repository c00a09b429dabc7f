//! A spec in the address: `sandbox.html?spec=TEXT`, where TEXT is `1` (the format's version)
//! followed by the spec's UTF-8 text compressed with raw DEFLATE and written in base64url
//! without padding. The shipped example specs (0.4 to 1.1 KB) become 325 to 710 characters.
//!
//! Both directions are bounded: a link longer than [`LINK_CHARS_MAX`] is not made (many
//! chat tools and servers cut longer addresses), and a link is never inflated past
//! [`SPEC_BYTES_MAX`] bytes, so a hostile link cannot make the page allocate without limit.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;

/// The longest `spec=` value made or accepted, in characters.
pub const LINK_CHARS_MAX: usize = 8_000;

/// The largest spec text a link may carry, in bytes.
pub const SPEC_BYTES_MAX: usize = 64 * 1024;

/// The format version, the value's first character.
const VERSION: char = '1';

/// The best compression miniz offers; specs are small, so speed does not matter.
const LEVEL: u8 = 9;

/// Encodes spec text for the address; an error says why it cannot be shared as a link.
pub fn encode(text: &str) -> Result<String, String> {
    if text.len() > SPEC_BYTES_MAX {
        return Err(format!(
            "the spec is {} bytes; a link can carry at most {SPEC_BYTES_MAX}",
            text.len()
        ));
    }
    let packed = miniz_oxide::deflate::compress_to_vec(text.as_bytes(), LEVEL);
    let value = format!("{VERSION}{}", URL_SAFE_NO_PAD.encode(packed));
    if value.len() > LINK_CHARS_MAX {
        return Err(format!(
            "the spec compresses to a {}-character link; the limit is {LINK_CHARS_MAX}",
            value.len()
        ));
    }
    Ok(value)
}

/// Decodes a `spec=` value back into the spec's text.
pub fn decode(value: &str) -> Result<String, String> {
    if value.len() > LINK_CHARS_MAX {
        return Err(format!(
            "the link's spec is {} characters; the limit is {LINK_CHARS_MAX}",
            value.len()
        ));
    }
    let mut chars = value.chars();
    match chars.next() {
        Some(VERSION) => {}
        Some(other) => {
            return Err(format!(
                "the link's spec starts with `{other}`, not a known format (`{VERSION}`)"
            ))
        }
        None => return Err("the link's spec is empty".into()),
    }
    let packed = URL_SAFE_NO_PAD
        .decode(chars.as_str())
        .map_err(|e| format!("the link's spec is damaged (base64url: {e})"))?;
    let bytes = miniz_oxide::inflate::decompress_to_vec_with_limit(&packed, SPEC_BYTES_MAX)
        .map_err(|e| match e.status {
            miniz_oxide::inflate::TINFLStatus::HasMoreOutput => {
                format!("the link's spec is longer than {SPEC_BYTES_MAX} bytes")
            }
            _ => "the link's spec is damaged (it does not inflate)".to_string(),
        })?;
    String::from_utf8(bytes).map_err(|_| "the link's spec is not UTF-8 text".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_spec_survives_the_round_trip_through_a_link() {
        let text = "session s1\nstep a { SELECT 'é' AS \"x\"; }  # ünïcode & <angle>\n";
        let value = encode(text).unwrap();
        assert!(value.starts_with('1'));
        assert!(value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
        assert_eq!(decode(&value).unwrap(), text);
    }

    #[test]
    fn a_link_is_much_shorter_than_the_spec() {
        let text = include_str!("examples/deadlock.spec");
        let value = encode(text).unwrap();
        assert!(
            value.len() * 10 < text.len() * 7,
            "{} vs {}",
            value.len(),
            text.len()
        );
    }

    #[test]
    fn damaged_or_unknown_links_are_errors_that_say_so() {
        assert!(decode("").unwrap_err().contains("empty"));
        assert!(decode("2abc").unwrap_err().contains("known format"));
        assert!(decode("1***").unwrap_err().contains("base64url"));
        assert!(decode("1AAAA").unwrap_err().contains("damaged"));
    }

    #[test]
    fn a_link_that_inflates_past_the_limit_is_refused() {
        // Zeros compress a thousandfold: a short link, a huge text.
        let huge = vec![b'a'; SPEC_BYTES_MAX + 1];
        let packed = miniz_oxide::deflate::compress_to_vec(&huge, LEVEL);
        let value = format!("1{}", URL_SAFE_NO_PAD.encode(packed));
        assert!(value.len() < LINK_CHARS_MAX);
        assert!(decode(&value).unwrap_err().contains("longer than"));
        assert!(encode(std::str::from_utf8(&huge).unwrap())
            .unwrap_err()
            .contains("at most"));
    }
}
