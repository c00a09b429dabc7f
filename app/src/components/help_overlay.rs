//! The keyboard shortcuts, shown with `?`.

use crate::player::Player;
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
                        <dt><kbd>"space"</kbd>" or "<kbd>"p"</kbd></dt><dd>"Play / Pause"</dd>
                        <dt><kbd>"→"</kbd>" or "<kbd>"s"</kbd></dt><dd>"Step (redoes an undone step first)"</dd>
                        <dt><kbd>"←"</kbd>" or "<kbd>"b"</kbd></dt><dd>"Back (exact undo)"</dd>
                        <dt><kbd>"Home"</kbd>" / "<kbd>"End"</kbd></dt><dd>"Start / end of the run (the scrubber)"</dd>
                        <dt><kbd>"1"</kbd>"–"<kbd>"9"</kbd></dt><dd>"Run the 1st–9th task next (like clicking its lane)"</dd>
                        <dt><kbd>"r"</kbd></dt><dd>"Reset (forget the run)"</dd>
                        <dt><kbd>"c"</kbd></dt><dd>"Check every schedule / cancel the check"</dd>
                        <dt><kbd>"w"</kbd></dt><dd>"Workshop mode: large type for a projector"</dd>
                        <dt><kbd>"?"</kbd></dt><dd>"This help"</dd>
                        <dt><kbd>"Esc"</kbd></dt><dd>"Close this help, cancel a check"</dd>
                    </dl>
                    <p>"Click a task's lane to run that task next: you are the scheduler. "
                    "Going back and then choosing a different move forks the run."</p>
                    <button on:click=move |_| player.help.set(false)>"Close"</button>
                </div>
            </div>
        </Show>
    }
}
