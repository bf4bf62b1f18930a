// Where a wasm's bytes go, by the crate that owns each function, from twiggy's
// CSV (`twiggy top -n 1000000 --format csv`) of a wasm built like the release
// one but with its names kept. Prints a Markdown table: one column per wasm.
// Usage: node xtask/wasm-breakdown.mjs NAME=TWIGGY_CSV [NAME=TWIGGY_CSV ...]
import { readFileSync } from 'node:fs';

const GROUPS = [
  ['Leptos (tachys, reactive_graph, leptos…)', /^(tachys|reactive_graph|leptos\w*|any_spawner|either_of|throw_error|oco_ref|slotmap|server_fn|hydration_context|send_wrapper|guardian|or_poisoned|wasm_streams|futures_\w+|futures)$/],
  ['Rust std (core, alloc, fmt, allocator…)', /^(core|alloc|std|dlmalloc|hashbrown|indexmap|rustc_hash|__rustc|compiler_builtins|char|str|u8|i32|u32|i64|u64|isize|usize|f64)$/],
  ['wasm-bindgen, js-sys, web-sys', /^(wasm_bindgen\w*|js_sys|web_sys|console_error_panic_hook)$/],
  ['the app (maeum, maeum_contract)', /^(maeum\w*)$/],
];
const OTHER = 'glue: imports, exports, table, types';
const DATA = 'data (strings, tables)';

/** The crate named first in a symbol: `<T as tachys::…>` → tachys, `core[abc]::…` → core. */
function crateOf(name) {
  const m = name.replace(/^[<(&\s]+|^mut /g, '').replace(/^(dyn |impl )/, '').match(/^([A-Za-z_][\w]*)(\[[0-9a-f]+\])?>?::/);
  if (m) return m[1];
  const t = name.match(/ as ([A-Za-z_]\w*)(\[[0-9a-f]+\])?::/); // `<T as crate::Trait>`
  return t ? t[1] : null;
}

/** Minimal CSV (quoted fields may hold commas and doubled quotes). */
function rows(text) {
  const out = [];
  for (const line of text.split('\n').slice(1)) {
    if (!line) continue;
    const fields = [];
    let i = 0;
    while (i <= line.length) {
      if (line[i] === '"') {
        let v = '';
        i++;
        while (i < line.length) {
          if (line[i] === '"' && line[i + 1] === '"') { v += '"'; i += 2; } else if (line[i] === '"') { i++; break; } else v += line[i++];
        }
        fields.push(v);
        i++; // the comma
      } else {
        const end = line.indexOf(',', i);
        fields.push(line.slice(i, end < 0 ? line.length : end));
        i = end < 0 ? line.length + 1 : end + 1;
      }
    }
    out.push({ name: fields[0], size: Number(fields[1]) });
  }
  return out;
}

const columns = process.argv.slice(2).map((a) => {
  const at = a.indexOf('=');
  const sums = new Map();
  let total = 0;
  for (const { name, size } of rows(readFileSync(a.slice(at + 1), 'utf8'))) {
    // Names and other custom sections are not shipped (the release wasm has none).
    if (/subsection"?$|^custom section/.test(name)) continue;
    let group = OTHER;
    if (name.startsWith('data segment')) group = DATA;
    else {
      const crate = crateOf(name);
      const hit = crate && GROUPS.find(([, re]) => re.test(crate));
      if (hit) group = hit[0];
    }
    sums.set(group, (sums.get(group) ?? 0) + size);
    total += size;
  }
  return { name: a.slice(0, at), sums, total };
});

const kb = (n) => (n / 1024).toFixed(1);
const names = [...GROUPS.map(([g]) => g), DATA, OTHER];
console.log(`| part | ${columns.map((c) => `${c.name} KB`).join(' | ')} |`);
console.log(`|---|${columns.map(() => '---:').join('|')}|`);
for (const g of names) console.log(`| ${g} | ${columns.map((c) => kb(c.sums.get(g) ?? 0)).join(' | ')} |`);
console.log(`| **total** | ${columns.map((c) => `**${kb(c.total)}**`).join(' | ')} |`);
