// Trunk post-build hook: gives the page a Content-Security-Policy.
//
// The page is embedded in other people's blog posts, so it must be unable to load a script or
// open a connection anywhere but its own folder. Trunk writes one inline module script (the
// loader that fetches the .wasm); the policy allows exactly that script by its SHA-256 hash, so
// `'unsafe-inline'` is never needed for scripts. `'wasm-unsafe-eval'` lets the page compile its
// own WebAssembly, and nothing else.
//
// Runs with TRUNK_STAGING_DIR set (Trunk's `post_build` stage); `node app/hooks/csp.mjs FILE`
// rewrites FILE instead, for trying it by hand.
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const file = process.argv[2] ?? join(process.env.TRUNK_STAGING_DIR ?? "dist", "index.html");
let html = readFileSync(file, "utf8");

if (html.includes('http-equiv="Content-Security-Policy"')) {
  throw new Error(`${file} already has a Content-Security-Policy`);
}

// Every inline script (one today), hashed exactly as the browser sees its text.
const inline = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)];
if (inline.length === 0) {
  throw new Error(`${file}: no inline loader script found; did Trunk change its output?`);
}
const hashes = inline.map(
  ([, body]) => `'sha256-${createHash("sha256").update(body, "utf8").digest("base64")}'`,
);

const policy = [
  "default-src 'none'",
  `script-src 'self' 'wasm-unsafe-eval' ${hashes.join(" ")}`,
  // The .wasm is fetched from the page's own folder; nothing else is ever fetched.
  "connect-src 'self'",
  // Leptos sets style attributes (bar widths, SVG positions); CSS cannot run code.
  "style-src 'self' 'unsafe-inline'",
  // Exported SVGs are offered as blob: downloads.
  "img-src 'self' data: blob:",
  "base-uri 'none'",
  "form-action 'none'",
  "object-src 'none'",
].join("; ");

const meta = `<meta http-equiv="Content-Security-Policy" content="${policy}" />`;
// The policy covers only what comes after it, so it goes first in <head> (after the charset).
const anchor = html.match(/<meta charset[^>]*>/) ?? html.match(/<head[^>]*>/);
if (!anchor) throw new Error(`${file}: no <head>`);
html = html.replace(anchor[0], `${anchor[0]}\n    ${meta}`);
writeFileSync(file, html);
console.log(`csp: ${inline.length} inline script(s) allowed by hash in ${file}`);
