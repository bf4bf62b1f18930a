// Prints the release bundle's sizes (raw, gzip -9, brotli q11) as a Markdown
// table, then the first-load total. Usage: node xtask/sizes.mjs DIST_DIR
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, extname } from 'node:path';
import { gzipSync, brotliCompressSync, constants } from 'node:zlib';

const dist = process.argv[2];
if (!dist) { console.error('usage: node sizes.mjs DIST_DIR'); process.exit(2); }

const files = readdirSync(dist).filter((f) => statSync(join(dist, f)).isFile());
// The first load is what index.html pulls in: the page, its css, js glue and
// wasm (not no-module.js, which only browsers too old for the app fetch).
const firstLoad = files.filter((f) => ['.html', '.css', '.js', '.wasm'].includes(extname(f)) && f !== 'no-module.js');
const rows = firstLoad.map((f) => {
  const raw = readFileSync(join(dist, f));
  const gz = gzipSync(raw, { level: 9 }).length;
  const br = brotliCompressSync(raw, { params: { [constants.BROTLI_PARAM_QUALITY]: 11 } }).length;
  return { f, raw: raw.length, gz, br };
});
rows.sort((a, b) => b.raw - a.raw);
const sum = (k) => rows.reduce((s, r) => s + r[k], 0);
console.log('| file | raw | gzip | brotli |');
console.log('|---|---:|---:|---:|');
for (const r of rows) console.log(`| ${r.f.replace(/-[0-9a-f]{8,16}/, '-<hash>')} | ${r.raw} | ${r.gz} | ${r.br} |`);
console.log(`| **first load** | ${sum('raw')} | ${sum('gz')} | ${sum('br')} |`);
console.log('');
console.log(`first-load brotli bytes: ${sum('br')}`);
