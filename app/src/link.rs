//! A text in the address: the sandbox's spec (`sandbox.html?spec=TEXT`) and the studio's
//! lesson file (`studio.html?lesson_src=TEXT`), where TEXT is `1` (the format's version)
//! followed by the UTF-8 text compressed with raw DEFLATE and written in base64url without
//! padding. The shipped example specs (0.4 to 1.1 KB) become about 330 to 710 characters; the
//! course's lesson files (9 to 24 KB) about 3,600 to 7,600.
//!
//! The browser compresses and inflates (`CompressionStream` and `DecompressionStream`, format
//! `deflate-raw`), so the pages carry no DEFLATE code of their own; both are asynchronous, and
//! so are [`Carried::encode`] and [`Carried::decode`]. Their tests run as WASM under Node
//! (`app/tests/link.rs`, `make wasm-unit`).
//!
//! Both directions are bounded: a link longer than [`LINK_CHARS_MAX`] is not made, and a link
//! is never inflated past its kind's `bytes_max` (the inflating stream is cancelled there), so a
//! hostile link cannot make the page allocate without limit.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;

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

impl Carried {
    /// Encodes a text for the address; an error says why it cannot be shared as a link.
    pub async fn encode(self, text: &str) -> Result<String, String> {
        let Carried { what, bytes_max } = self;
        if text.len() > bytes_max {
            return Err(format!(
                "the {what} is {} bytes; a link can carry at most {bytes_max}",
                text.len()
            ));
        }
        let packed = through(Direction::Compress, text.as_bytes(), usize::MAX)
            .await
            .map_err(|fault| match fault {
                Fault::Unsupported => format!("this browser cannot compress the {what}"),
                _ => format!("the {what} could not be compressed"),
            })?;
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
    pub async fn decode(self, value: &str) -> Result<String, String> {
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
        let bytes = through(Direction::Inflate, &packed, bytes_max)
            .await
            .map_err(|fault| match fault {
                Fault::TooLong => format!("the link's {what} is longer than {bytes_max} bytes"),
                Fault::Unsupported => format!("this browser cannot open the link's {what}"),
                Fault::Damaged => format!("the link's {what} is damaged (it does not inflate)"),
            })?;
        String::from_utf8(bytes).map_err(|_| format!("the link's {what} is not UTF-8 text"))
    }
}

#[wasm_bindgen]
extern "C" {
    /// The browser's compressing stream (a readable and writable pair).
    type CompressionStream;
    #[wasm_bindgen(constructor, catch)]
    fn new(format: &str) -> Result<CompressionStream, JsValue>;

    /// The browser's inflating stream (a readable and writable pair).
    type DecompressionStream;
    #[wasm_bindgen(constructor, catch)]
    fn new(format: &str) -> Result<DecompressionStream, JsValue>;
}

/// Which way the bytes go.
#[derive(Clone, Copy)]
enum Direction {
    Compress,
    Inflate,
}

/// Why bytes did not go through.
#[derive(Debug)]
enum Fault {
    /// The output would pass the limit.
    TooLong,
    /// The input is not raw DEFLATE (or the stream failed).
    Damaged,
    /// The browser has no such stream.
    Unsupported,
}

/// `input` through the browser's raw-DEFLATE stream, read chunk by chunk: past `limit` bytes
/// of output the stream is cancelled.
async fn through(direction: Direction, input: &[u8], limit: usize) -> Result<Vec<u8>, Fault> {
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{ReadableStreamDefaultReader, ReadableStreamReadResult, ReadableWritablePair};
    const FORMAT: &str = "deflate-raw";
    let pair: JsValue = match direction {
        Direction::Compress => CompressionStream::new(FORMAT).map(Into::into),
        Direction::Inflate => DecompressionStream::new(FORMAT).map(Into::into),
    }
    .map_err(|_| Fault::Unsupported)?;
    let parts = js_sys::Array::of1(&js_sys::Uint8Array::from(input));
    let blob = web_sys::Blob::new_with_u8_array_sequence(&parts).map_err(|_| Fault::Damaged)?;
    let reader: ReadableStreamDefaultReader = blob
        .stream()
        .pipe_through(pair.unchecked_ref::<ReadableWritablePair>())
        .get_reader()
        .unchecked_into();
    let mut out = Vec::new();
    loop {
        let chunk: ReadableStreamReadResult = JsFuture::from(reader.read())
            .await
            .map_err(|_| Fault::Damaged)?
            .unchecked_into();
        if chunk.get_done().unwrap_or(true) {
            return Ok(out);
        }
        let part: js_sys::Uint8Array = chunk.get_value().unchecked_into();
        let start = out.len();
        let length = part.length() as usize;
        if length > limit.saturating_sub(start) {
            // Nothing waits on the cancelling.
            let _ = reader.cancel();
            return Err(Fault::TooLong);
        }
        out.resize(start + length, 0);
        part.copy_to(&mut out[start..]);
    }
}
