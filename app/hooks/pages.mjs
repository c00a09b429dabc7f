// Trunk post-build hook: writes the course's lessons, minifies the pages' scripts, writes the
// sandbox's and the studio's pages beside the lesson page, then gives every page a
// Content-Security-Policy.
//
// The lessons. A lesson page fetches its own lesson, `lessons/SLUG.json`, and no other: the
// lessons crate's `lesson-files` writes them, as embedded in the bundles that read every lesson
// (the studio's and the explorer's worker).
//
// The other pages. Trunk builds one page (index.html, the lesson player) and, beside it, the
// sandbox's and the studio's bundles (index.html's `data-type="worker"` links, so Trunk
// neither loads them nor names them by content). This hook names each bundle's files by a hash
// of their content, as Trunk does its own, so a browser never runs an old .js with a new .wasm,
// and writes its page: the lesson page with that bundle in place of the lesson player's, and
// without the forwarding script that sends old links (`?sandbox=1`, `?spec=`, `?studio=1`,
// `?lesson_src=`) from the lesson page to them.
//
// The policy. The page is embedded in other people's blog posts, so it must be unable to load
// a script or open a connection anywhere but its own folder. Each page has inline scripts (the
// loader that fetches the .wasm; on the lesson page also the forwarding script); the policy
// allows exactly those by their SHA-256 hashes, so `'unsafe-inline'` is never needed for
// scripts. `'wasm-unsafe-eval'` lets the page compile its own WebAssembly, and nothing else;
// the explorer's worker is a script of the page's own folder, which `script-src 'self'` allows.
//
// Runs with TRUNK_STAGING_DIR set (Trunk's `post_build` stage); `node app/hooks/pages.mjs DIR`
// works on DIR instead, for trying it by hand.
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { minify } from "terser";

const dir = process.argv[2] ?? process.env.TRUNK_STAGING_DIR ?? "dist";
const read = (name) => readFileSync(join(dir, name), "utf8");

// --- the lessons --------------------------------------------------------------------------

const lessonFiles = spawnSync(
  "cargo",
  ["run", "--quiet", "-p", "lockstep-lessons", "--bin", "lesson-files", "--", join(dir, "lessons")],
  { stdio: "inherit" },
);
if (lessonFiles.status !== 0) throw new Error(`lesson-files failed (${lessonFiles.status ?? lessonFiles.error})`);
// index.html starts fetching the lesson its address names while the player loads; it names
// only the course's lessons, so a link to no lesson fetches nothing (and logs no 404).
const slugs = readdirSync(join(dir, "lessons"))
  .filter((file) => file.endsWith(".json"))
  .map((file) => file.slice(0, -".json".length))
  .sort();
const anySlug = "lesson=([a-z0-9-]+)(&|$)";
const withSlugs = read("index.html");
if (!withSlugs.includes(anySlug)) throw new Error(`index.html: no \`${anySlug}\` in its early fetch`);
writeFileSync(join(dir, "index.html"), withSlugs.replace(anySlug, `lesson=(${slugs.join("|")})(&|$)`));
console.log(`lessons: ${slugs.length} written to ${join(dir, "lessons")}`);

// --- the scripts --------------------------------------------------------------------------

// The three pages' bundles load through wasm-bindgen's ES-module glue, which Trunk's minifier
// cannot parse (`export { initSync, __wbg_init as default }`: it warns and leaves the file as
// written), so terser minifies them. The explorer's worker is a classic script whose globals
// its loader reads; Trunk minifies it already.
const modules = readdirSync(dir).filter((file) => /^lockstep-(lesson|sandbox|studio)\b.*\.js$/.test(file));
if (modules.length !== 3) throw new Error(`expected the three pages' scripts, found ${modules.join(", ")}`);
for (const file of modules) {
  const code = read(file);
  const { code: minified } = await minify(code, { module: true, compress: true, mangle: true });
  writeFileSync(join(dir, file), minified);
  console.log(`scripts: ${file} minified, ${code.length} -> ${minified.length} bytes`);
}

// --- the other pages ----------------------------------------------------------------------

const lessonPage = read("index.html");
const lessonBundle = lessonPage.match(/\.\/(lockstep-lesson-[0-9a-f]+)\.js/);
if (!lessonBundle) throw new Error("index.html: no lesson bundle loader; did Trunk change its output?");
const forward = /\s*<script id="?forward-to-other-pages"?>[\s\S]*?<\/script>/;
if (!forward.test(lessonPage)) throw new Error("index.html: no forwarding script for old links");

const pages = [
  {
    page: "sandbox.html",
    bundle: "lockstep-sandbox",
    title: "Lockstep sandbox — run an isolation spec step by step",
    description:
      "Paste a PostgreSQL isolation-tester spec, step through its permutations, see locks and waits, and share it as a link.",
  },
  {
    page: "studio.html",
    bundle: "lockstep-studio",
    title: "Lockstep studio — write your own incident as a lesson",
    description:
      "Write a database concurrency incident as a Lockstep lesson, play it step by step, check every schedule, and share or embed it as a link.",
  },
];

for (const { page, bundle, title, description } of pages) {
  const hash = createHash("sha256").update(readFileSync(join(dir, `${bundle}_bg.wasm`))).digest("hex");
  const named = `${bundle}-${hash.slice(0, 16)}`;
  renameSync(join(dir, `${bundle}.js`), join(dir, `${named}.js`));
  renameSync(join(dir, `${bundle}_bg.wasm`), join(dir, `${named}_bg.wasm`));
  const html = lessonPage
    .replace(forward, "")
    .replaceAll(lessonBundle[1], named)
    .replace(/<title>[^<]*<\/title>/, `<title>${title}</title>`)
    .replace(/<meta name="?description"?[^>]*>/, `<meta name="description" content="${description}" />`);
  writeFileSync(join(dir, page), html);
  console.log(`pages: ${page} loads ${named}`);
}

// --- the policy ---------------------------------------------------------------------------

for (const page of ["index.html", ...pages.map((p) => p.page)]) {
  let html = read(page);
  if (html.includes('http-equiv="Content-Security-Policy"')) {
    throw new Error(`${page} already has a Content-Security-Policy`);
  }
  // Every inline script, hashed exactly as the browser sees its text.
  const inline = [...html.matchAll(/<script(?![^>]*\bsrc=)[^>]*>([\s\S]*?)<\/script>/g)];
  if (inline.length === 0) {
    throw new Error(`${page}: no inline loader script found; did Trunk change its output?`);
  }
  const hashes = inline.map(
    ([, body]) => `'sha256-${createHash("sha256").update(body, "utf8").digest("base64")}'`,
  );
  const policy = [
    "default-src 'none'",
    `script-src 'self' 'wasm-unsafe-eval' ${hashes.join(" ")}`,
    // The .wasm and the lesson are fetched from the page's own folder; nothing else ever is.
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
  if (!anchor) throw new Error(`${page}: no <head>`);
  html = html.replace(anchor[0], `${anchor[0]}\n    ${meta}`);
  writeFileSync(join(dir, page), html);
  console.log(`csp: ${inline.length} inline script(s) allowed by hash in ${page}`);
}
