// Trunk post-build hook (see Trunk.toml) for release builds, on each
// `NAME_bg.wasm` + `NAME.js` pair in the staging dir:
// 1. Short import names. wasm-bindgen names each import of the wasm from its
//    glue like `__wbg_setAttribute_d5540a19be09f8dc`, spelled out in both
//    files; the hex suffix does not compress. They become `a`, `b`, … in the
//    wasm's import section and in the glue, together (about 3.5 KB brotli of
//    the first load). A name the glue does not hold exactly once fails the build.
// 2. No dead classes. Leptos always links server_fn, whose wasm-streams
//    exports three stream classes from the wasm; a CSR app never makes one,
//    but an export keeps its code alive. Their exports and glue go, and
//    binaryen drops the code only they reached (about 1.5 KB brotli of the
//    first load). A glue that still calls a dropped export fails the build.
// 3. Minified glue. Trunk's own minifier gives up on its `export … as default`.
// 4. A second optimization of the wasm: `wasm-opt --flatten --rereloop -Oz -Oz
//    --converge`. Trunk's `wasm-opt -Oz` (index.html) stops at a local minimum;
//    rebuilding the control flow first finds a smaller one (measured with
//    `cargo xtask build` then `node xtask/sizes.mjs`: package wasm 139,987 →
//    137,790 B brotli, business 188,412 → 185,687 B; it adds 20-50 s a bundle
//    to a release build on a busy 2-core machine).
// Debug builds (`trunk serve`) are left as they are.
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

if (process.env.TRUNK_PROFILE !== 'release') process.exit(0);
const staging = process.env.TRUNK_STAGING_DIR;
if (!staging) fail('TRUNK_STAGING_DIR is not set');

// terser is installed with the build's other npm tools (binaryen) in tests/e2e.
const require = createRequire(new URL('../tests/e2e/package.json', import.meta.url));
const { minify } = require('terser');
const { default: binaryen } = await import(require.resolve('binaryen'));

/** Exported classes nobody constructs in a client-side-rendered app. */
const DEAD_CLASSES = ['IntoUnderlyingByteSource', 'IntoUnderlyingSink', 'IntoUnderlyingSource'];

function fail(message) {
  console.error(`shrink-glue: ${message}`);
  process.exit(1);
}

/** Step 4, in place, with the wasm-opt (binaryen 132) trunk also runs. */
function reoptimize(wasmPath) {
  execFileSync(process.execPath, [
    require.resolve('binaryen/bin/wasm-opt'),
    '--flatten', '--rereloop', '-Oz', '-Oz', '--converge',
    // As trunk runs it (index.html), for the features Rust's wasm32 target emits.
    '--low-memory-unused',
    '--enable-bulk-memory', '--enable-nontrapping-float-to-int', '--enable-sign-ext',
    '--enable-mutable-globals', '--enable-reference-types', '--enable-multivalue',
    wasmPath, '-o', wasmPath,
  ], { stdio: 'inherit' });
}

/** `a` … `Z`, then `aa`, `ab`, …: the `i`-th short name. */
function shortName(i) {
  const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  let name = '';
  do {
    name = letters[i % letters.length] + name;
    i = Math.floor(i / letters.length) - 1;
  } while (i >= 0);
  return name;
}

function uleb(n) {
  const out = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n) byte |= 0x80;
    out.push(byte);
  } while (n);
  return Buffer.from(out);
}

/** Rewrites the import section of `wasm`: every import from `glue` gets a short
 *  field name. Returns the new module and the renames (old → new). */
function renameImports(wasm, glue) {
  let p = 8; // magic and version
  const read = () => {
    let result = 0, shift = 0, byte;
    do {
      byte = wasm[p++];
      result += (byte & 0x7f) * 2 ** shift;
      shift += 7;
    } while (byte & 0x80);
    return result;
  };
  const out = [wasm.subarray(0, 8)];
  const renames = new Map();
  while (p < wasm.length) {
    const id = wasm[p++];
    const size = read();
    const end = p + size;
    if (id !== 2) {
      out.push(Buffer.from([id]), uleb(size), wasm.subarray(p, end));
      p = end;
      continue;
    }
    const count = read();
    const parts = [uleb(count)];
    for (let i = 0; i < count; i++) {
      const moduleLen = read();
      const module = wasm.subarray(p, (p += moduleLen));
      const fieldLen = read();
      const field = wasm.subarray(p, (p += fieldLen)).toString();
      const descStart = p;
      const kind = wasm[p++];
      if (kind === 0) read(); // function: type index
      else if (kind === 1) { p++; if (wasm[p++] & 1) { read(); read(); } else read(); } // table
      else if (kind === 2) { if (wasm[p++] & 1) { read(); read(); } else read(); } // memory
      else if (kind === 3) p += 2; // global
      else fail(`unknown import kind ${kind}`);
      let name = field;
      if (module.toString() === glue) {
        if (!renames.has(field)) renames.set(field, shortName(renames.size));
        name = renames.get(field);
      }
      parts.push(uleb(moduleLen), module, uleb(Buffer.byteLength(name)), Buffer.from(name), wasm.subarray(descStart, p));
    }
    if (p !== end) fail('import section does not add up');
    const body = Buffer.concat(parts);
    out.push(Buffer.from([2]), uleb(body.length), body);
  }
  return [Buffer.concat(out), renames];
}

/** Removes `DEAD_CLASSES` from the wasm (their exports, then everything only
 *  they reached) and from the glue. Returns both. */
function dropDeadClasses(wasm, js, stem) {
  const dead = DEAD_CLASSES.filter((c) => js.includes(`export class ${c} {`));
  if (!dead.length) return [wasm, js];
  const prefixes = dead.flatMap((c) => [`${c.toLowerCase()}_`, `__wbg_${c.toLowerCase()}_free`]);
  const module = binaryen.readBinary(wasm);
  // What Rust's wasm32 target emits (not `All`: that would let binaryen
  // write encodings browsers do not read yet).
  const f = binaryen.Features;
  module.setFeatures(f.MVP | f.MutableGlobals | f.SignExt | f.NontrappingFPToInt | f.BulkMemory | f.ReferenceTypes | f.Multivalue);
  const dropped = [];
  for (let i = module.getNumExports() - 1; i >= 0; i--) {
    const name = binaryen.getExportInfo(module.getExportByIndex(i)).name;
    if (prefixes.some((p) => name.startsWith(p))) dropped.push(name);
  }
  for (const name of dropped) module.removeExport(name);
  module.runPasses(['remove-unused-module-elements']);
  const out = Buffer.from(module.emitBinary());
  module.dispose();
  for (const c of dead) {
    // The class (up to its `Symbol.dispose` line) and its finalization registry.
    const cls = new RegExp(`export class ${c} \\{[\\s\\S]*?\\n\\}\\n(if \\(Symbol\\.dispose\\)[^\\n]*\\n)?`);
    const reg = new RegExp(`const ${c}Finalization = [\\s\\S]*?;\\n`);
    if (!cls.test(js) || !reg.test(js)) fail(`${stem}.js: class ${c} is not laid out as expected`);
    js = js.replace(cls, '').replace(reg, '');
  }
  const left = dropped.find((name) => js.includes(`wasm.${name}(`));
  if (left) fail(`${stem}.js still calls the dropped export ${left}`);
  return [out, js];
}

for (const wasmName of readdirSync(staging).filter((f) => f.endsWith('_bg.wasm'))) {
  const stem = wasmName.slice(0, -'_bg.wasm'.length);
  const jsPath = join(staging, `${stem}.js`);
  if (!existsSync(jsPath)) fail(`${wasmName} has no glue ${stem}.js`);
  const wasmPath = join(staging, wasmName);
  let wasm = readFileSync(wasmPath);
  let js = readFileSync(jsPath, 'utf8');
  [wasm, js] = dropDeadClasses(wasm, js, stem);
  // The glue hands the wasm its imports under its own file name.
  const glue = js.match(/"(\.\/[^"]+_bg\.js)": import0/)?.[1];
  if (!glue) fail(`${stem}.js: no import object found (wasm-bindgen's glue changed?)`);
  let renames;
  [wasm, renames] = renameImports(wasm, glue);
  for (const [from, to] of renames) {
    const at = js.indexOf(`${from}:`);
    if (at < 0 || js.indexOf(`${from}:`, at + 1) >= 0) fail(`${stem}.js does not hold ${from} exactly once`);
    js = js.slice(0, at) + to + js.slice(at + from.length);
  }
  const min = await minify(js, { module: true, compress: { passes: 2 }, mangle: true });
  writeFileSync(wasmPath, wasm);
  reoptimize(wasmPath);
  writeFileSync(jsPath, min.code);
  console.log(`shrink-glue: ${stem}: ${renames.size} imports renamed, glue ${min.code.length} bytes`);
}
