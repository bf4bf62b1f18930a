// Issues 2 and 6: the package page and the small-business journey are two
// bundles. The banner's page never downloads the business code, the wasm
// starts downloading only after the static shell has painted, and moving
// between the two keeps the user's session. Issue 11: the page asks for
// config.json and /v1/status without waiting for the wasm, then — once the
// status says open — for the package and the 선물함, and the app takes those
// answers instead of asking again.
import { test, expect } from '../fixtures';
import type { Page } from '@playwright/test';

/** Paths of every wasm the page fetched. */
const wasmFetched = (page: Page) =>
  page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .map((e) => new URL(e.name).pathname)
      .filter((p) => p.endsWith('.wasm')));

test('the package page loads only its own bundle after the first paint, and reads the status, then the package, meanwhile', async ({ page, server }) => {
  // Hold the wasm until the package and 선물함 reads have gone out: the loader must not wait for it.
  let release = () => {};
  const held = new Promise<void>((r) => { release = r; });
  await page.route(/\.wasm$/, async (route) => { await held; await route.continue(); });
  const asked: string[] = [];
  const events: string[] = [];
  const gated = (p: string) => /\/v1\/(package|me\/claims|claims)$/.test(p);
  page.on('request', (r) => {
    const p = new URL(r.url()).pathname;
    asked.push(p);
    if (gated(p)) events.push(`asked ${p}`);
  });
  page.on('response', (r) => { if (r.url().endsWith('/api/v1/status')) events.push('status answered'); });
  const reads = Promise.all(['/api/v1/package', '/api/v1/me/claims']
    .map((p) => page.waitForRequest((r) => new URL(r.url()).pathname === p)));
  await server.open(page, 'bundles-package');
  await reads;
  expect(events[0], 'nothing gated before the status said open').toBe('status answered');
  release();
  await expect(page.getByTestId('item-card')).toHaveCount(6);
  const wasm = await wasmFetched(page);
  expect(wasm).toHaveLength(1);
  expect(wasm[0]).not.toContain('business');
  // The business entry is drawn by this bundle, with this page's styles.
  const entry = page.getByTestId('business-entry');
  await expect(entry).toBeVisible();
  expect(await entry.evaluate((e) => getComputedStyle(e).borderTopLeftRadius)).not.toBe('0px');

  const [paint, wasmStart, configStart] = await page.evaluate(() => [
    performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
    ...['.wasm', '/config.json'].map((end) =>
      performance.getEntriesByType('resource').find((e) => e.name.endsWith(end))?.startTime ?? NaN),
  ]);
  expect(paint).toBeGreaterThan(0);
  expect(wasmStart, 'the wasm request waits for the shell to paint').toBeGreaterThanOrEqual(paint);
  // So do the reads: Lighthouse's simulated LCP charges the paint with whatever ended before it.
  expect(configStart, 'config.json waits for the shell to paint').toBeGreaterThanOrEqual(paint);
  // One read each: the app took the loader's config, status, package and 선물함.
  for (const read of ['/config.json', '/api/v1/status', '/api/v1/package', '/api/v1/me/claims']) {
    expect(asked.filter((p) => p === read), read).toHaveLength(1);
  }
});

test('the business link loads the business bundle and keeps the session; the way back loads the package', async ({ page, server }) => {
  await server.open(page, 'bundles-business');
  await page.getByTestId('business-link').click();
  // The form replaces `/business` with the step it shows.
  await expect(page).toHaveURL(/\/business(\/info)?$/);
  await expect(page.locator('[data-testid=business-form][data-step=info]')).toBeVisible();
  expect(await page.title()).toContain('소상공인');
  const wasm = await wasmFetched(page);
  expect(wasm).toHaveLength(1);
  expect(wasm[0]).toMatch(/^\/business\/maeum-business-[0-9a-f]+_bg\.wasm$/);

  await page.goBack();
  await expect(page.getByTestId('item-card')).toHaveCount(6);
  expect(await page.getByTestId('open-from-app').count(), 'the token survived both page loads').toBe(0);
});
