// Issue 3: operators pause a running campaign; the app says so and recovers by itself.
import { test, expect, expectAccessible } from '../fixtures';

test('a paused campaign shows a notice and recovers after resume', async ({ page, server }) => {
  // The notice asks again after its retry interval (15 s plus jitter), without a reload.
  test.setTimeout(90_000);
  server.admin('pause');
  await server.open(page, 'waiting');
  const notice = page.getByRole('status').filter({ hasText: '일시' });
  await expect(notice.first()).toBeVisible();
  await expect(page.getByRole('button', { name: '받기' })).toHaveCount(0);
  await expectAccessible(page);
  server.admin('resume');
  await expect(page.getByRole('button', { name: '모두 받기' })).toBeVisible({ timeout: 60_000 });
});
