// Issue 5: two API servers on one database; the first dies mid-claim, the
// claim completes through the second, exactly once, and the user sees no error.
import { test, expect, shoot, Server } from '../fixtures';

test('the claim completes through the second backend when the first is killed mid-claim', async ({ page, server }) => {
  const a = await Server.start(['--allow-origin', server.url], { dataDir: server.dataDir });
  const b = await Server.start(['--allow-origin', server.url], { dataDir: server.dataDir });
  try {
    await page.route('**/config.json', (r) => r.fulfill({ json: { api_bases: [`${a.url}/api`, `${b.url}/api`] } }));
    const keys: string[] = [];
    page.on('request', (r) => { if (r.url().endsWith('/api/v1/claims')) keys.push(r.headers()['idempotency-key']); });
    // The first backend commits the claim, then dies before its answer arrives.
    await page.route(`${a.url}/api/v1/claims`, async (route) => {
      await route.fetch();
      a.kill('SIGKILL');
      await route.abort('connectionreset');
    });

    await server.open(page, 'failover');
    const card = page.getByTestId('item-card').first();
    await card.getByTestId('item-claim').click();
    await expect(card).toHaveAttribute('data-state', 'claimed', { timeout: 20_000 });
    await expect(page.getByTestId('error-notice')).toHaveCount(0);

    const id = await card.getAttribute('data-item-id');
    const res = await fetch(`${b.url}/api/v1/me/claims`, { headers: { Authorization: `Bearer ${server.token('failover')}` } });
    const held = (await res.json()).claims.filter((c: any) => c.item_id === id);
    expect(held).toHaveLength(1);
    expect(keys.length).toBeGreaterThanOrEqual(2);
    expect(new Set(keys).size).toBe(1);
  } finally {
    a.stop();
    b.stop();
  }
});

test('a crowd on the claim path shows the waiting state, then grants', async ({ page, server }) => {
  let busy = 4;
  await page.route('**/api/v1/claims', (route) =>
    busy-- > 0
      ? route.fulfill({
          status: 503,
          headers: { 'Retry-After': '1', 'Content-Type': 'application/problem+json' },
          body: JSON.stringify({ title: '접속자가 많아요', status: 503, code: 'busy', queue_position: 42 }),
        })
      : route.continue());
  await server.open(page, 'crowd');
  const card = page.getByTestId('item-card').first();
  await card.getByTestId('item-claim').click();
  const waiting = page.getByTestId('waiting');
  await expect(waiting).toContainText('접속자가 많아 순서대로 처리하고 있어요');
  await expect(waiting).toContainText('42');
  await shoot(page, 'waiting');
  await expect(page.getByTestId('error-notice')).toHaveCount(0);
  await expect(card).toHaveAttribute('data-state', 'claimed', { timeout: 30_000 });
});
