// Issue 3: a release bundle can never show preview fixtures to a real user.
import { test, expect } from '@playwright/test';
import { test as served } from '../fixtures';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';

const dist = process.env.MAEUM_DIST ?? '../../dist';
// Strings that exist only in the preview bar and its fixtures (see src/preview/).
const PREVIEW_MARKERS = ['미리보기', 'maeum-preview-fixture'];

/** Every file under `dir`, as paths relative to `dist`. */
const walk = (dir: string): string[] =>
  readdirSync(join(dist, dir)).flatMap((f) => {
    const rel = join(dir, f);
    return statSync(join(dist, rel)).isDirectory() ? walk(rel) : [rel];
  });

test('the release bundles contain no preview bar or fixture data', () => {
  const files = walk('');
  // The package bundle and the business bundle.
  expect(files.filter((f) => f.endsWith('.wasm'))).toHaveLength(2);
  for (const f of files) {
    const bytes = readFileSync(join(dist, f));
    for (const marker of PREVIEW_MARKERS) {
      expect(bytes.includes(Buffer.from(marker, 'utf8')), `${f} contains "${marker}"`).toBeFalsy();
    }
  }
});

// xtask/shrink-glue.mjs drops server_fn's stream classes (a CSR app never
// makes one); the pages still running is covered by every other spec.
test('the release bundles ship no stream classes the app never builds', async () => {
  for (const f of walk('').filter((f) => f.endsWith('_bg.wasm'))) {
    const exports = WebAssembly.Module.exports(await WebAssembly.compile(readFileSync(join(dist, f))));
    expect(exports.map((e) => e.name).filter((n) => /intounderlying/i.test(n)), f).toEqual([]);
    const glue = readFileSync(join(dist, f.replace(/_bg\.wasm$/, '.js')), 'utf8');
    expect(glue, f).not.toMatch(/IntoUnderlying/);
  }
});

// xtask/precompress.mjs: the content-hashed assets go out compressed at the
// highest levels, not on the fly.
const hashed = () => walk('').filter((f) => /-[0-9a-f]{8,16}(_bg)?\.(wasm|js|css)$/.test(f));

test('every hashed asset ships brotli and gzip siblings of the same bytes', () => {
  const files = hashed();
  expect(files.length, files.join(', ')).toBeGreaterThanOrEqual(4);
  for (const f of files) {
    const raw = readFileSync(join(dist, f));
    expect(brotliDecompressSync(readFileSync(join(dist, `${f}.br`))).equals(raw), `${f}.br`).toBe(true);
    expect(gunzipSync(readFileSync(join(dist, `${f}.gz`))).equals(raw), `${f}.gz`).toBe(true);
  }
});

served('the server sends the brotli sibling of each wasm', async ({ server }) => {
  for (const f of hashed().filter((f) => f.endsWith('.wasm'))) {
    const res = await fetch(`${server.url}/${f}`, { headers: { 'Accept-Encoding': 'br' } });
    expect(res.status, f).toBe(200);
    expect(res.headers.get('content-encoding'), f).toBe('br');
    expect(res.headers.get('content-type'), f).toBe('application/wasm');
    expect(Number(res.headers.get('content-length')), f).toBe(statSync(join(dist, `${f}.br`)).size);
  }
});
