// Issue 3: a release bundle can never show preview fixtures to a real user.
import { test, expect } from '@playwright/test';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

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
