// Writes a brotli (quality 11) and a gzip (level 9) sibling next to every
// content-hashed asset of a release bundle (`NAME-<hex>.ext`: trunk writes its 64-bit hash without leading zeros), recursively:
// `maeum-….wasm.br`, `maeum-….wasm.gz`. The reference server (ServeDir's
// precompressed_br/gzip) and static hosts (nginx brotli_static/gzip_static)
// send those instead of compressing on the fly at a low level: the package
// wasm goes out as 140 KB instead of 166 KB. Only hashed names: their content
// never changes under the same name, so a sibling can never be stale (an
// operator may still edit config.json or index.html after the build).
// Usage: node xtask/precompress.mjs DIST_DIR
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, gzipSync, constants } from 'node:zlib';

const dist = process.argv[2];
if (!dist) { console.error('usage: node precompress.mjs DIST_DIR'); process.exit(2); }
const HASHED = /-[0-9a-f]{8,16}(_bg)?\.(wasm|js|css)$/;

let count = 0;
(function walk(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) walk(path);
    else if (HASHED.test(entry.name)) {
      const raw = readFileSync(path);
      writeFileSync(`${path}.br`, brotliCompressSync(raw, {
        params: { [constants.BROTLI_PARAM_QUALITY]: 11, [constants.BROTLI_PARAM_SIZE_HINT]: raw.length },
      }));
      writeFileSync(`${path}.gz`, gzipSync(raw, { level: 9 }));
      count += 1;
    }
  }
})(dist);
if (count === 0) { console.error(`precompress: no hashed asset under ${dist}`); process.exit(1); }
console.log(`precompress: ${count} assets under ${dist}`);
