//! Share: the link to exactly this moment of the lesson, and an iframe snippet that embeds it;
//! both shown as text (the clipboard may be unavailable) with a copy button each.

use crate::origin::{Authored, Origin};
use crate::url::{self, UrlState};
use leptos::prelude::*;
use lockstep_lessons::Lesson;
use wasm_bindgen_futures::JsFuture;

/// The page's address without its query: where the site lives, whatever folder that is.
fn site_base() -> String {
    let Some(location) = web_sys::window().map(|w| w.location()) else {
        return String::new();
    };
    let origin = location.origin().unwrap_or_default();
    let path = location.pathname().unwrap_or_default();
    format!("{origin}{path}")
}

/// The full link and the iframe snippet for the current address.
pub fn share_texts(lesson: &Lesson) -> (String, String) {
    let state = url::read();
    let base = site_base();
    let link = format!(
        "{base}{}",
        url::query(&UrlState {
            embed: false,
            ..state.clone()
        })
    );
    let embed = format!(
        "{base}{}",
        url::query(&UrlState {
            embed: true,
            workshop: false,
            ..state
        })
    );
    let title = lesson.title.replace('"', "&quot;");
    let snippet = format!(
        "<iframe src=\"{}\" title=\"Lockstep: {title}\" width=\"100%\" height=\"500\" style=\"border:1px solid #d9dce1;border-radius:8px\" loading=\"lazy\"></iframe>",
        embed.replace('&', "&amp;")
    );
    (link, snippet)
}

/// Copies `text` to the clipboard; says whether it worked.
async fn copy(text: String) -> bool {
    let Some(clipboard) = web_sys::window().map(|w| w.navigator().clipboard()) else {
        return false;
    };
    JsFuture::from(clipboard.write_text(&text)).await.is_ok()
}

/// One text to share, with its copy button.
#[component]
fn ShareField(label: &'static str, testid: &'static str, text: Signal<String>) -> impl IntoView {
    let copied = RwSignal::new(None::<bool>);
    let on_copy = move |_| {
        let text = text.get_untracked();
        leptos::task::spawn_local(async move {
            copied.set(Some(copy(text).await));
        });
    };
    let field_id = format!("share-{testid}");
    view! {
        <div class="share-field">
            <label for=field_id.clone()>{label}</label>
            <div class="share-row">
                <textarea
                    id=field_id
                    readonly
                    rows="2"
                    data-testid=testid
                    prop:value=move || text.get()
                    on:focus=move |ev| {
                        use wasm_bindgen::JsCast;
                        if let Some(area) = ev
                            .target()
                            .and_then(|t| t.dyn_into::<web_sys::HtmlTextAreaElement>().ok())
                        {
                            area.select();
                        }
                    }
                ></textarea>
                <button on:click=on_copy>"Copy"</button>
            </div>
            <span class="copy-state" role="status">
                {move || match copied.get() {
                    Some(true) => "Copied.",
                    Some(false) => "The clipboard is not available here: select the text and copy it.",
                    None => "",
                }}
            </span>
        </div>
    }
}

/// The Share button and its panel.
#[component]
pub fn Share(lesson: &'static Lesson) -> impl IntoView {
    let open = RwSignal::new(false);
    let texts = RwSignal::new((String::new(), String::new()));
    let toggle = move |_| {
        if !open.get_untracked() {
            texts.set(share_texts(lesson));
        }
        open.update(|o| *o = !*o);
    };
    let link = Signal::derive(move || texts.get().0);
    let snippet = Signal::derive(move || texts.get().1);
    // A studio lesson travels in its link; one too long for a link cannot be shared that way.
    let unshareable = match use_context::<Origin>() {
        Some(Origin::Authored(Authored { link: Err(why), .. })) => Some(why),
        _ => None,
    };
    view! {
        <div class="share">
            <button
                data-testid="share"
                aria-expanded=move || open.get().to_string()
                aria-controls="share-panel"
                title="A link to exactly this step, and an iframe snippet to embed it"
                on:click=toggle
            >
                "Share"
            </button>
            <Show when=move || open.get()>
                <div class="share-panel" id="share-panel" data-testid="share-panel">
                    {match unshareable.clone() {
                        Some(why) => view! {
                            <p class="notice error" data-testid="share-too-long">
                                {format!("This lesson cannot travel in a link: {why}. Download its lesson.toml and share the file instead.")}
                            </p>
                        }.into_any(),
                        None => view! {
                            <ShareField label="Link to this step" testid="share-link" text=link/>
                            <ShareField label="Embed (iframe)" testid="share-embed" text=snippet/>
                        }.into_any(),
                    }}
                    <button class="link-button" on:click=move |_| open.set(false)>"Close"</button>
                </div>
            </Show>
        </div>
    }
}
