//! The lessons' Markdown subset rendered to view nodes (never innerHTML): paragraphs, `- `
//! lists, `#` headings, `code`, **bold**, *em* and [links](?lesson=x).

use leptos::prelude::*;

/// Renders a Markdown text as blocks.
pub fn render(text: &str) -> Vec<AnyView> {
    let mut blocks = Vec::new();
    let mut paragraph: Vec<&str> = Vec::new();
    let mut items: Vec<String> = Vec::new();
    let flush_paragraph = |paragraph: &mut Vec<&str>, blocks: &mut Vec<AnyView>| {
        if !paragraph.is_empty() {
            let joined = paragraph.join(" ");
            blocks.push(view! { <p>{inline(&joined)}</p> }.into_any());
            paragraph.clear();
        }
    };
    let flush_items = |items: &mut Vec<String>, blocks: &mut Vec<AnyView>| {
        if !items.is_empty() {
            let lis: Vec<AnyView> = items
                .drain(..)
                .map(|i| view! { <li>{inline(&i)}</li> }.into_any())
                .collect();
            blocks.push(view! { <ul>{lis}</ul> }.into_any());
        }
    };
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.is_empty() {
            flush_paragraph(&mut paragraph, &mut blocks);
            flush_items(&mut items, &mut blocks);
        } else if let Some(item) = trimmed
            .strip_prefix("- ")
            .or_else(|| trimmed.strip_prefix("* "))
        {
            flush_paragraph(&mut paragraph, &mut blocks);
            items.push(item.to_string());
        } else if let Some(heading) = trimmed.strip_prefix('#') {
            flush_paragraph(&mut paragraph, &mut blocks);
            flush_items(&mut items, &mut blocks);
            let heading = heading.trim_start_matches('#').trim().to_string();
            blocks.push(view! { <h3>{inline(&heading)}</h3> }.into_any());
        } else if !items.is_empty() && line.starts_with(' ') {
            // A continuation line of the last list item.
            if let Some(last) = items.last_mut() {
                last.push(' ');
                last.push_str(trimmed);
            }
        } else {
            flush_items(&mut items, &mut blocks);
            paragraph.push(trimmed);
        }
    }
    flush_paragraph(&mut paragraph, &mut blocks);
    flush_items(&mut items, &mut blocks);
    blocks
}

/// Only links that stay on the site or go to the web are rendered as links.
fn safe_href(href: &str) -> bool {
    href.starts_with('?')
        || href.starts_with('#')
        || href.starts_with("https://")
        || href.starts_with("http://")
}

/// Renders inline markup.
pub fn inline(text: &str) -> Vec<AnyView> {
    let mut out: Vec<AnyView> = Vec::new();
    let mut plain = String::new();
    let mut rest = text;
    let flush = |plain: &mut String, out: &mut Vec<AnyView>| {
        if !plain.is_empty() {
            out.push(std::mem::take(plain).into_any());
        }
    };
    while let Some(c) = rest.chars().next() {
        if c == '`' {
            if let Some(end) = rest[1..].find('`') {
                flush(&mut plain, &mut out);
                let code = rest[1..1 + end].to_string();
                out.push(view! { <code>{code}</code> }.into_any());
                rest = &rest[end + 2..];
                continue;
            }
        } else if rest.starts_with("**") {
            if let Some(end) = rest[2..].find("**") {
                flush(&mut plain, &mut out);
                let inner = inline(&rest[2..2 + end]);
                out.push(view! { <strong>{inner}</strong> }.into_any());
                rest = &rest[end + 4..];
                continue;
            }
        } else if c == '*' || c == '_' {
            let marker = if c == '*' { "*" } else { "_" };
            if let Some(end) = rest[1..].find(marker).filter(|&e| e > 0) {
                flush(&mut plain, &mut out);
                let inner = inline(&rest[1..1 + end]);
                out.push(view! { <em>{inner}</em> }.into_any());
                rest = &rest[end + 2..];
                continue;
            }
        } else if c == '[' {
            if let Some(close) = rest.find("](") {
                if let Some(end) = rest[close + 2..].find(')') {
                    let label = inline(&rest[1..close]);
                    let href = rest[close + 2..close + 2 + end].to_string();
                    flush(&mut plain, &mut out);
                    if safe_href(&href) {
                        out.push(view! { <a href=href>{label}</a> }.into_any());
                    } else {
                        out.push(view! { <span>{label}</span> }.into_any());
                    }
                    rest = &rest[close + 3 + end..];
                    continue;
                }
            }
        }
        plain.push(c);
        rest = &rest[c.len_utf8()..];
    }
    flush(&mut plain, &mut out);
    out
}
