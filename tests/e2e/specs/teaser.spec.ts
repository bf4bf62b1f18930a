// Issue 11: the teaser follows the operator. While it shows, the page reads
// /v1/status again at least once a minute; a release moved later or earlier
// shows within that minute, and one moved into the past opens the page.
// Playwright's clock moves the page's time: nobody waits for real.
import { test as base, expect, Server } from '../fixtures';
import { installClock } from './clock';

// The shipped bundle's baked instant; the operator may only postpone past it.
const RELEASE = Date.parse('2023-01-05T09:00:00+09:00');
const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const iso = (ms: number) => new Date(ms).toISOString();

// The server's clock stands an hour after the baked instant; the operator
// has postponed the release by a day.
const test = base.extend<{ server: Server }>({
  server: async ({}, use) => {
    const server = await Server.start(['--fake-now', iso(RELEASE + HOUR)]);
    server.admin('release-at', iso(RELEASE + DAY));
    await use(server);
    server.stop();
  },
});

test('the teaser follows a release moved later, then earlier, then into the past', async ({ page, server }) => {
  const gated: string[] = [];
  page.on('request', (r) => {
    if (/\/api\/v1\/(package|me\/claims|claims)/.test(r.url())) gated.push(r.url());
  });
  const statusReads = () => page.waitForRequest((r) => r.url().endsWith('/api/v1/status'));
  await installClock(page);
  await server.open(page, 'follower');
  const opensAt = page.getByTestId('teaser-opens-at');
  const countdown = page.getByTestId('countdown');
  await expect(opensAt).toHaveText('1월 6일 (금) 오전 9:00에 열립니다');
  await expect(countdown).toHaveText(/^22:5\d:\d\d$/);
  await opensAt.focus();
  // From here the page's time moves only when the test moves it.
  await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 1_000);

  // Later: a day more. Within a minute the heading and the countdown follow
  // (the re-read comes 40-55 s after the last; here at 47.5 s, see clock.ts).
  server.admin('release-at', iso(RELEASE + 2 * DAY));
  let read = statusReads();
  await page.clock.fastForward(50_000);
  await read;
  await expect(opensAt).toHaveText('1월 7일 (토) 오전 9:00에 열립니다');
  await expect(countdown).toHaveText(/^1일 22:5\d:\d\d$/);
  await expect(page.getByTestId('announcer')).toContainText('여는 시간이 바뀌었어요');
  await expect(opensAt, 'updated in place: focus stays').toBeFocused();

  // Earlier, still ahead: two hours after the baked instant.
  server.admin('release-at', iso(RELEASE + 2 * HOUR));
  read = statusReads();
  await page.clock.fastForward(50_000);
  await read;
  await expect(opensAt).toHaveText('1월 5일 (목) 오전 11:00에 열립니다');
  await expect(countdown).toHaveText(/^00:5\d:\d\d$/);
  expect(gated, 'nothing gated is asked before the server says open').toEqual([]);

  // Into the past: the page opens by itself, after the usual spread (up to 10 s).
  server.admin('release-at', iso(RELEASE));
  read = statusReads();
  await page.clock.fastForward(50_000);
  await read;
  await expect(page.getByTestId('opening')).toBeVisible();
  await page.clock.fastForward(10_000);
  await expect(page.getByRole('button', { name: '모두 받기' })).toBeVisible();
  expect(gated.length).toBeGreaterThan(0);
});
