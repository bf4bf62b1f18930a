// Issue 3: nobody sees or claims the package before the server says it is open.
import { test as base, expect, Server, expectAccessible } from '../fixtures';
import { installClock } from './clock';

// The shipped campaign opens at 2023-01-05T09:00:00+09:00.
const RELEASE = Date.parse('2023-01-05T09:00:00+09:00');
const iso = (ms: number) => new Date(ms).toISOString();

// A server whose clock stands a minute before the release.
const test = base.extend<{ server: Server }>({
  server: async ({}, use) => {
    const server = await Server.start(['--fake-now', iso(RELEASE - 60_000)]);
    await use(server);
    server.stop();
  },
});

test('with the phone a day ahead, the teaser shows and no package or claim request is sent', async ({ page, server }) => {
  // The page's clock is Playwright's: the test moves it instead of waiting.
  await installClock(page);
  // The device clock is a day after the release: it must not matter.
  await page.addInitScript(() => {
    const skew = 86_400_000;
    const now = Date.now;
    (Date as any).now = () => now() + skew;
  });
  const gated: string[] = [];
  page.on('request', (r) => {
    if (/\/api\/v1\/(package|me\/claims|claims)/.test(r.url())) gated.push(r.url());
  });
  await server.open(page, 'early');
  await expect(page.getByText('1월 5일 (목) 오전 9:00에 열립니다')).toBeVisible();
  await expect(page.getByRole('button', { name: '받기' })).toHaveCount(0);
  await expectAccessible(page);
  expect(gated, gated.join('\n')).toEqual([]);

  // A minute passes for the server as for the page: the server's clock
  // moves by answering from a second server on the same database whose clock
  // is past the release, the page's by Playwright's clock. The page opens by
  // itself, after the usual random spread (up to 10 s).
  const later = await Server.start(['--fake-now', iso(RELEASE + 1_000)], { dataDir: server.dataDir });
  try {
    await page.clock.pauseAt((await page.evaluate(() => new Date().getTime())) + 1_000);
    await page.route('**/api/**', (route) =>
      route.continue({ url: route.request().url().replace(server.url, later.url) }));
    await page.clock.fastForward(60_000);
    await expect(page.getByTestId('opening')).toBeVisible();
    await page.clock.fastForward(10_000);
    await expect(page.getByRole('button', { name: '모두 받기' })).toBeVisible();
    expect(gated.length).toBeGreaterThan(0);
  } finally {
    later.stop();
  }
});

for (const path of ['/package', '/business', '/business/claims/R-1', '/anything']) {
  test(`the deep link ${path} lands on the teaser before opening`, async ({ page, server }) => {
    await server.open(page, 'deeplink', path);
    await expect(page.getByText('1월 5일 (목) 오전 9:00에 열립니다')).toBeVisible();
    await expect(page.getByRole('button', { name: '받기' })).toHaveCount(0);
    await expect(page.getByRole('textbox')).toHaveCount(0);
  });
}

test('the server refuses an early claim whatever the client does', async ({ server }) => {
  const res = await fetch(`${server.url}/api/v1/claims`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${server.token('script')}`, 'Content-Type': 'application/json', 'Idempotency-Key': 'k1' },
    body: JSON.stringify({ item_ids: ['drawer-plus-1m'] }),
  });
  expect(res.status).toBe(403);
  const problem = await res.json();
  expect(problem.code).toBe('not_open');
  expect(Date.parse(problem.release_at)).toBe(RELEASE);
});
