// Trunk post-build hook (see Trunk.toml) for release builds, on each
// `NAME_bg.wasm` + `NAME.js` pair in the staging dir:
// 1. Short import names. wasm-bindgen names each import of the wasm from its
//    glue like `__wbg_setAttribute_d5540a19be09f8dc`, spelled out in both
//    files; the hex suffix does not compress. They become `a`, `b`, … in the
//    wasm's import section and in the glue, together (about 3.5 KB brotli of
//    the first load). A name the glue does not hold exactly once fails the build.
// 2. Minified glue. Trunk's own minifier gives up on its `export … as default`.
// Debug builds (`trunk serve`) are left as they are.
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

if (process.env.TRUNK_PROFILE !== 'release') process.exit(0);
const staging = process.env.TRUNK_STAGING_DIR;
if (!staging) fail('TRUNK_STAGING_DIR is not set');

// terser is installed with the build's other npm tools (binaryen) in tests/e2e.
const require = createRequire(new URL('../tests/e2e/package.json', import.meta.url));
const { minify } = require('terser');

function fail(message) {
  console.error(`shrink-glue: ${message}`);
  process.exit(1);
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

for (const wasmName of readdirSync(staging).filter((f) => f.endsWith('_bg.wasm'))) {
  const stem = wasmName.slice(0, -'_bg.wasm'.length);
  const jsPath = join(staging, `${stem}.js`);
  if (!existsSync(jsPath)) fail(`${wasmName} has no glue ${stem}.js`);
  const wasmPath = join(staging, wasmName);
  let js = readFileSync(jsPath, 'utf8');
  // The glue hands the wasm its imports under its own file name.
  const glue = js.match(/"(\.\/[^"]+_bg\.js)": import0/)?.[1];
  if (!glue) fail(`${stem}.js: no import object found (wasm-bindgen's glue changed?)`);
  const [wasm, renames] = renameImports(readFileSync(wasmPath), glue);
  for (const [from, to] of renames) {
    const at = js.indexOf(`${from}:`);
    if (at < 0 || js.indexOf(`${from}:`, at + 1) >= 0) fail(`${stem}.js does not hold ${from} exactly once`);
    js = js.slice(0, at) + to + js.slice(at + from.length);
  }
  const min = await minify(js, { module: true, compress: { passes: 2 }, mangle: true });
  writeFileSync(wasmPath, wasm);
  writeFileSync(jsPath, min.code);
  console.log(`shrink-glue: ${stem}: ${renames.size} imports renamed, glue ${min.code.length} bytes`);
}
