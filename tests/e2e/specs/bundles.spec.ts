// Issues 2 and 6: the package page and the small-business journey are two
// bundles. The banner's page never downloads the business code, the wasm
// starts downloading only after the static shell has painted, and moving
// between the two keeps the user's session. Issue 11: the page asks for
// config.json and /v1/status without waiting for the wasm, and the app takes
// that answer instead of asking again.
import { test, expect } from '../fixtures';
import type { Page } from '@playwright/test';

/** Paths of every wasm the page fetched. */
const wasmFetched = (page: Page) =>
  page.evaluate(() =>
    performance
      .getEntriesByType('resource')
      .map((e) => new URL(e.name).pathname)
      .filter((p) => p.endsWith('.wasm')));

test('the package page loads only its own bundle after the first paint, and asks for the status meanwhile', async ({ page, server }) => {
  // Hold the wasm until the status request has gone out: the loader must not wait for it.
  let release = () => {};
  const held = new Promise<void>((r) => { release = r; });
  await page.route(/\.wasm$/, async (route) => { await held; await route.continue(); });
  const asked: string[] = [];
  page.on('request', (r) => asked.push(new URL(r.url()).pathname));
  const status = page.waitForRequest((r) => r.url().endsWith('/api/v1/status'));
  await server.open(page, 'bundles-package');
  await status;
  expect(asked.filter((p) => /\/v1\/(package|me\/claims|claims)$/.test(p)), 'nothing gated before the status').toEqual([]);
  release();
  await expect(page.getByTestId('item-card')).toHaveCount(6);
  const wasm = await wasmFetched(page);
  expect(wasm).toHaveLength(1);
  expect(wasm[0]).not.toContain('business');
  // The business entry is drawn by this bundle, with this page's styles.
  const entry = page.getByTestId('business-entry');
  await expect(entry).toBeVisible();
  expect(await entry.evaluate((e) => getComputedStyle(e).borderTopLeftRadius)).not.toBe('0px');

  const [paint, wasmStart] = await page.evaluate(() => [
    performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN,
    performance.getEntriesByType('resource').find((e) => e.name.endsWith('.wasm'))?.startTime ?? NaN,
  ]);
  expect(paint).toBeGreaterThan(0);
  expect(wasmStart, 'the wasm request waits for the shell to paint').toBeGreaterThanOrEqual(paint);
  // One read each: the app took the loader's config and status.
  expect(asked.filter((p) => p === '/config.json')).toHaveLength(1);
  expect(asked.filter((p) => p === '/api/v1/status')).toHaveLength(1);
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
