// Issue 5: flaky phones. Offline claims are held and sent once; slow, dropped
// and malformed answers end in a Korean message and a recovery, never a panic.
import { test, expect } from '../fixtures';

test('a claim made offline is sent once when the network returns', async ({ page, context, server }) => {
  await server.open(page, 'subway');
  const card = page.getByTestId('item-card').first();
  await expect(card).toHaveAttribute('data-state', 'available');
  const keys: string[] = [];
  page.on('request', (r) => { if (r.url().endsWith('/api/v1/claims')) keys.push(r.headers()['idempotency-key']); });

  await context.setOffline(true);
  await card.getByTestId('item-claim').click();
  await expect(page.getByTestId('offline-notice')).toBeVisible();
  await context.setOffline(false);
  await expect(card).toHaveAttribute('data-state', 'claimed', { timeout: 20_000 });

  const held = (await server.api('/v1/me/claims', 'subway')).claims;
  expect(held).toHaveLength(1);
  // Every attempt of this one intent carried the same key.
  expect(new Set(keys.filter(Boolean)).size).toBe(1);
});

test('malformed JSON from the backend shows a message and recovers', async ({ page, server }) => {
  let broken = true;
  await page.route('**/api/v1/package', (route) =>
    broken ? route.fulfill({ status: 200, contentType: 'application/json', body: '{"items": [ {"id": ' }) : route.continue());
  await server.open(page, 'garbled');
  await expect(page.getByTestId('error-notice')).toBeVisible({ timeout: 30_000 });
  broken = false;
  await page.getByTestId('retry').click();
  await expect(page.getByTestId('item-card')).toHaveCount(6);
});

test('a dropped connection on claim is retried with the same key and grants once', async ({ page, server }) => {
  await server.open(page, 'dropped');
  let dropped = 0;
  const keys: string[] = [];
  await page.route('**/api/v1/claims', (route) => {
    keys.push(route.request().headers()['idempotency-key']);
    if (dropped++ === 0) return route.abort('connectionreset');
    return route.continue();
  });
  const card = page.getByTestId('item-card').first();
  await card.getByTestId('item-claim').click();
  await expect(card).toHaveAttribute('data-state', 'claimed', { timeout: 20_000 });
  expect(keys.length).toBeGreaterThanOrEqual(2);
  expect(new Set(keys).size).toBe(1);
  const id = await card.getAttribute('data-item-id');
  const held = (await server.api('/v1/me/claims', 'dropped')).claims.filter((c: any) => c.item_id === id);
  expect(held).toHaveLength(1);
});

test('slow answers keep the page alive and usable', async ({ page, server }) => {
  // Every read is slow; the claim is held until the test has seen the tap answered.
  let release: () => void = () => {};
  const answered = new Promise<void>((r) => { release = r; });
  await page.route('**/api/v1/**', async (route) => {
    if (route.request().url().endsWith('/api/v1/claims')) await answered;
    else await new Promise((r) => setTimeout(r, 2_000));
    await route.continue();
  });
  await server.open(page, 'slow');
  await expect(page.getByTestId('item-card')).toHaveCount(6, { timeout: 20_000 });
  const card = page.getByTestId('item-card').first();
  await card.getByTestId('item-claim').click();
  // The tap answers at once, before the network does (the claim is still held).
  await expect(card).toHaveAttribute('data-state', 'pending');
  release();
  await expect(card).toHaveAttribute('data-state', 'claimed', { timeout: 20_000 });
});
