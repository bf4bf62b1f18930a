// Issue 3: operators pause a running campaign; the app says so and recovers by itself.
import { test, expect, expectAccessible } from '../fixtures';
import { installClock } from './clock';

test('a paused campaign shows a notice and recovers after resume', async ({ page, server }) => {
  // The notice asks again after its retry interval (15 s plus up to 5 s of
  // jitter), without a reload: the page's clock is moved, nobody waits.
  await installClock(page);
  server.admin('pause');
  await server.open(page, 'waiting');
  const notice = page.getByRole('status').filter({ hasText: '일시' });
  await expect(notice.first()).toBeVisible();
  await expect(page.getByRole('button', { name: '받기' })).toHaveCount(0);
  await expectAccessible(page);
  server.admin('resume');
  await page.clock.fastForward(10_000);
  await expect(notice.first(), 'not before its interval').toBeVisible();
  await page.clock.fastForward(10_000);
  await expect(page.getByRole('button', { name: '모두 받기' })).toBeVisible();
});
