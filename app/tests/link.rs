//! Share links, through the browser's own compression streams: run as WASM under Node
//! (`make wasm-unit`), which has the same `CompressionStream` and `DecompressionStream`.
#![cfg(target_arch = "wasm32")]

use lockstep_app::link::{Carried, LESSON, LINK_CHARS_MAX, SPEC};
use wasm_bindgen_test::wasm_bindgen_test;

#[wasm_bindgen_test]
async fn a_spec_survives_the_round_trip_through_a_link() {
    let text = "session s1\nstep a { SELECT 'é' AS \"x\"; }  # ünïcode & <angle>\n";
    let value = SPEC.encode(text).await.unwrap();
    assert!(value.starts_with('1'));
    assert!(value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    assert_eq!(SPEC.decode(&value).await.unwrap(), text);
}

#[wasm_bindgen_test]
async fn links_made_before_the_browser_compressed_them_still_open() {
    // Made by the pages' earlier DEFLATE code (miniz_oxide, level 9): the format is the same.
    let text = "session s1\nstep a { SELECT 'é' AS \"x\"; }  # ünïcode & <angle>\npermutation a\n";
    assert_eq!(SPEC.decode(OLD_LINK).await.unwrap(), text);
    let text = include_str!("../src/pages/sandbox/examples/deadlock.spec");
    assert_eq!(SPEC.decode(OLD_DEADLOCK_LINK).await.unwrap(), text);
}

/// Links of [`links_made_before_the_browser_compressed_them_still_open`]: a short text (a stored
/// block) and an example spec (compressed blocks).
const OLD_LINK: &str =
    "1AU8AsP9zZXNzaW9uIHMxCnN0ZXAgYSB7IFNFTEVDVCAnw6knIEFTICJ4IjsgfSAgIyDDvG7Dr2NvZGUgJiA8YW5nbGU-CnBlcm11dGF0aW9uIGEK";
const OLD_DEADLOCK_LINK: &str = "1nZFBb9swDIXv-hUEekmwLGh8XNBD2ghbsKYJHHdDT4UiMbHRWDIkGsZQ9L-Pljt7K1a0qA-27Ed-fI8-gyUqc3L6YQpZ44C8suGAPsAeqUG0QDlCUCUCsay0drWlAG1HlLxrAhRWnIGrKhcKQnDeMGAKUukccncyAZyNlaCsgUYVDDg4H_sd3_wXUAdCzxDz7OaeihJdTTCaQRjHyravsEfYK_2AzKFcEfjahqjqHNnRobAmvjNK_9InjBPV3nke2Y51je0yKk2Fs_PBQx-9_WTh6LAFeVcf86kQAamuxKMAuErlIpOQLS6v5bCPUWF4CwTbdLVepHfwXd5N2OlJWY2tMJ5z6-pmJ9OMH9lm6PyxuL6VO845gdn5-XgCo6Q7zcWTEITKGzYdRy_TzfbF4FgUMAQOAzTrfMKf6xEu5dfVzRyeRCCsuODe4L6gKN1ul22Q3shOZr3ji_70mb3Az28ylcARL2D2N0x7NC3tvbBPL2DJPzBXlh3sarNer7JWG6Ilb0VLPhAtec1N8oFoyWt7Sv4frUJf1qSo-3PP7vsYw3YHM8OSeqb4DQ";

#[wasm_bindgen_test]
async fn a_link_is_much_shorter_than_the_spec() {
    let text = include_str!("../src/pages/sandbox/examples/deadlock.spec");
    let value = SPEC.encode(text).await.unwrap();
    assert!(
        value.len() * 10 < text.len() * 7,
        "{} vs {}",
        value.len(),
        text.len()
    );
}

#[wasm_bindgen_test]
async fn damaged_or_unknown_links_are_errors_that_say_so() {
    let said = |value: &'static str| async move { SPEC.decode(value).await.unwrap_err() };
    assert!(said("").await.contains("empty"));
    assert!(said("2abc").await.contains("known format"));
    assert!(said("1***").await.contains("base64url"));
    assert!(said("1AAAA").await.contains("damaged"));
    // A stream cut short.
    let whole = SPEC
        .encode("session s1 step a { SELECT 1; }")
        .await
        .unwrap();
    let cut = &whole[..whole.len() - 4];
    assert!(SPEC.decode(cut).await.unwrap_err().contains("damaged"));
}

#[wasm_bindgen_test]
async fn a_link_that_inflates_past_the_limit_is_refused() {
    // The same letter over and over compresses a thousandfold: a short link, a huge text.
    let huge = "a".repeat(SPEC.bytes_max + 1);
    let roomy = Carried {
        what: "spec",
        bytes_max: 4 * SPEC.bytes_max,
    };
    let value = roomy.encode(&huge).await.unwrap();
    assert!(value.len() < LINK_CHARS_MAX);
    assert!(SPEC
        .decode(&value)
        .await
        .unwrap_err()
        .contains("longer than"));
    assert!(SPEC.encode(&huge).await.unwrap_err().contains("at most"));
    // Far past the limit too: the inflating stops at the limit.
    let value = roomy.encode(&"a".repeat(roomy.bytes_max)).await.unwrap();
    assert!(SPEC
        .decode(&value)
        .await
        .unwrap_err()
        .contains("longer than"));
}

#[wasm_bindgen_test]
async fn every_course_lesson_travels_in_a_link_within_the_limit() {
    for lesson in lockstep_lessons::catalogue() {
        let text = lockstep_lessons::source(&lesson.slug).unwrap();
        let value = LESSON.encode(text).await.unwrap();
        assert!(value.len() <= LINK_CHARS_MAX, "{}", lesson.slug);
        assert_eq!(LESSON.decode(&value).await.unwrap(), text);
    }
    let err = LESSON.decode("2x").await.unwrap_err();
    assert!(err.starts_with("the link's lesson"), "{err}");
}

#[wasm_bindgen_test]
async fn any_value_decodes_or_says_why() {
    // Values of the link's alphabet, from a fixed seed (a linear congruential generator).
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut seed: u64 = 20_261_207;
    let mut next = move |below: usize| {
        seed = seed
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (seed >> 33) as usize % below
    };
    for _ in 0..300 {
        let length = next(300);
        let mut value = String::from(if next(4) == 0 { "" } else { "1" });
        value.extend((0..length).map(|_| ALPHABET[next(ALPHABET.len())] as char));
        if let Err(why) = LESSON.decode(&value).await {
            assert!(why.starts_with("the link's lesson"), "{value}: {why}");
        }
    }
}
