// Sums twiggy's CSV (`twiggy top -f csv`, on standard input) by crate, and by module for
// Lockstep's own crates, so the bundle's contributors read as a short list. Names left by the
// compiler for generic code (`core`, `alloc`) stand for code instantiated by the other crates.
import fs from 'node:fs';

const lines = fs.readFileSync(0, 'utf8').trim().split('\n').slice(1);
const sums = new Map();
let total = 0;
for (const line of lines) {
  // Name,ShallowSize,ShallowSizePercent,RetainedSize,RetainedSizePercent; the name may hold commas.
  const fields = line.split(',');
  const bytes = Number(fields[fields.length - 4]);
  const name = fields.slice(0, fields.length - 4).join(',').replace(/^"|"$/g, '');
  if (/function names|__wasm_bindgen_unstable|__wbindgen_describe/.test(name)) continue;
  // The first path in the name: `<T as tachys::view::Render>::build` is tachys's code.
  const crate = name.match(/^[<&]*(?:mut |dyn |[A-Z]\w* as )*([a-z_][a-z0-9_]*)(?:::|\[)/)?.[1];
  let key = crate ?? (name.startsWith('data segment') ? 'data (strings, tables, lesson text)' : 'other');
  if (crate && crate.startsWith('lockstep')) key = name.replace(/^</, '').split('::').slice(0, 2).join('::');
  sums.set(key, (sums.get(key) ?? 0) + bytes);
  total += bytes;
}
const kb = (b) => `${(b / 1024).toFixed(1)} KB`;
for (const [key, bytes] of [...sums].sort((a, b) => b[1] - a[1]).slice(0, 20)) {
  console.log(`  ${kb(bytes).padStart(9)} ${((100 * bytes) / total).toFixed(1).padStart(5)} %  ${key}`);
}
console.log(`  ${kb(total).padStart(9)} in all (code and data, before wasm-opt)`);
