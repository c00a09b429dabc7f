//! The keyboard shortcuts, shown with `?`.

use super::lesson_view::Player;
use leptos::prelude::*;

/// The help overlay.
#[component]
pub fn HelpOverlay() -> impl IntoView {
    let player = expect_context::<Player>();
    view! {
        <Show when=move || player.help.get()>
            <div class="overlay" data-testid="help" on:click=move |_| player.help.set(false)>
                <div class="overlay-card" role="dialog" aria-label="Keyboard shortcuts">
                    <h2>"Keyboard shortcuts"</h2>
                    <dl>
                        <dt><kbd>"space"</kbd></dt><dd>"Play / Pause"</dd>
                        <dt><kbd>"→"</kbd>" or "<kbd>"s"</kbd></dt><dd>"Step"</dd>
                        <dt><kbd>"←"</kbd>" or "<kbd>"b"</kbd></dt><dd>"Back (exact undo)"</dd>
                        <dt><kbd>"r"</kbd></dt><dd>"Reset"</dd>
                        <dt><kbd>"?"</kbd></dt><dd>"This help"</dd>
                    </dl>
                    <p>"Click a task's lane to run that task next: you are the scheduler."</p>
                    <button on:click=move |_| player.help.set(false)>"Close"</button>
                </div>
            </div>
        </Show>
    }
}
