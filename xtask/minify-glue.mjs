// Trunk post-build hook (see Trunk.toml): minifies the wasm-bindgen glue of a
// release build in the staging dir. Trunk's own minifier gives up on the
// glue's `export … as default`, and the glue is a third of the JS shipped.
// Debug builds (`trunk serve`) are left as they are.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

if (process.env.TRUNK_PROFILE !== 'release') process.exit(0);
const staging = process.env.TRUNK_STAGING_DIR;
if (!staging) { console.error('minify-glue: TRUNK_STAGING_DIR is not set'); process.exit(2); }

// terser is installed with the build's other npm tools (binaryen) in tests/e2e.
const require = createRequire(new URL('../tests/e2e/package.json', import.meta.url));
const { minify } = require('terser');

for (const name of readdirSync(staging).filter((f) => f.endsWith('.js'))) {
  const path = join(staging, name);
  const source = readFileSync(path, 'utf8');
  const out = await minify(source, { module: true, compress: { passes: 2 }, mangle: true });
  writeFileSync(path, out.code);
  console.log(`minify-glue: ${name} ${source.length} -> ${out.code.length} bytes`);
}
