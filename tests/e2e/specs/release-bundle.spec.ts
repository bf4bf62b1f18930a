// Issue 3: a release bundle can never show preview fixtures to a real user.
import { test, expect } from '@playwright/test';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const dist = process.env.MAEUM_DIST ?? '../../dist';
// Strings that exist only in the preview bar and its fixtures (see src/preview/).
const PREVIEW_MARKERS = ['미리보기', 'maeum-preview-fixture'];

test('the release bundle contains no preview bar or fixture data', () => {
  const files = readdirSync(dist).filter((f) => statSync(join(dist, f)).isFile());
  expect(files.some((f) => f.endsWith('.wasm'))).toBeTruthy();
  for (const f of files) {
    const bytes = readFileSync(join(dist, f));
    for (const marker of PREVIEW_MARKERS) {
      expect(bytes.includes(Buffer.from(marker, 'utf8')), `${f} contains "${marker}"`).toBeFalsy();
    }
  }
});
