// Issue 6: usable by everyone, in every state, on a small phone, light and dark;
// and the screenshots of each main state for docs/screenshots/.
import { test, expect, expectAccessible, shoot, Server } from '../fixtures';
import type { Page } from '@playwright/test';

/** Every visible button and link is at least 44×44 CSS px. */
async function expectLargeTargets(page: Page) {
  const small = await page.evaluate(() =>
    [...document.querySelectorAll('button, a[href], input, select')]
      .filter((e) => (e as HTMLElement).offsetParent !== null)
      .map((e) => ({ e, r: e.getBoundingClientRect() }))
      .filter(({ e, r }) => r.height < 44 || (r.width < 44 && !(e as HTMLElement).closest('p')))
      .map(({ e, r }) => `${e.outerHTML.slice(0, 80)} ${Math.round(r.width)}x${Math.round(r.height)}`));
  expect(small).toEqual([]);
}

test('the open package: keyboard alone claims, focus is visible, targets are large', async ({ page, server }) => {
  await server.open(page, 'keys');
  await expect(page.getByTestId('item-claim').first()).toBeVisible();
  expect(await page.getAttribute('html', 'lang')).toBe('ko');
  await shoot(page, 'package');
  await expectLargeTargets(page);

  // Tab from the top of the page to the first 받기 and press Enter.
  let found = false;
  for (let i = 0; i < 10 && !found; i++) {
    await page.keyboard.press('Tab');
    found = await page.evaluate(() => document.activeElement?.getAttribute('data-testid') === 'item-claim');
  }
  expect(found, 'a 받기 button is reachable by Tab').toBeTruthy();
  const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
  expect(outline).not.toBe('none');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('item-card').first()).toHaveAttribute('data-state', 'claimed');
  // The result is announced politely.
  await expect(page.getByTestId('announcer')).not.toBeEmpty();
  await page.getByTestId('claim-all').click();
  await expect(page.locator('[data-testid=item-card][data-state=available]')).toHaveCount(0);
  await shoot(page, 'claimed');
});

test('states are accessible and designed: sold out, ineligible, open-from-app, error', async ({ page, server }) => {
  server.admin('cap', 'drawer-plus-1m', '0');
  await server.open(page, 'soldout');
  await expect(page.locator('[data-state=sold-out]')).toHaveCount(1);
  await shoot(page, 'sold-out');

  server.admin('ineligible', 'dormant', '--reason', '휴면 상태인 계정이에요');
  await server.open(page, 'dormant');
  await expect(page.getByTestId('ineligible-notice')).toBeVisible();
  await shoot(page, 'ineligible');

  await page.evaluate(() => sessionStorage.clear());
  await page.goto(server.url + '/');
  await expect(page.getByTestId('open-from-app')).toBeVisible();
  await shoot(page, 'open-from-app');

  await page.route('**/api/v1/package', (r) => r.fulfill({ status: 502, body: 'bad gateway' }));
  await server.open(page, 'error');
  await expect(page.getByTestId('retry')).toBeVisible({ timeout: 30_000 });
  await shoot(page, 'error');
});

test('the teaser and the paused notice are accessible', async ({ page }) => {
  const server = await Server.start(['--fake-now', '2023-01-04T09:00:00+09:00']);
  try {
    await server.open(page, 'early');
    await expect(page.getByTestId('teaser')).toBeVisible();
    await expect(page.getByTestId('countdown')).toBeVisible();
    await shoot(page, 'teaser');
  } finally {
    server.stop();
  }
  const paused = await Server.start();
  try {
    paused.admin('pause');
    await paused.open(page, 'paused');
    await expect(page.getByTestId('paused-notice')).toBeVisible();
    await shoot(page, 'paused');
  } finally {
    paused.stop();
  }
});

test('text at 200% on a 320 px screen needs no sideways scrolling', async ({ page, server }) => {
  await page.setViewportSize({ width: 320, height: 640 });
  await server.open(page, 'zoom');
  await expect(page.getByTestId('item-claim').first()).toBeVisible();
  await page.addStyleTag({ content: 'html { font-size: 200% !important; }' });
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  expect(overflow).toBeLessThanOrEqual(0);
});

test('with reduced motion asked for, spinners stop and taps do not move', async ({ page, server }) => {
  await page.emulateMedia({ reducedMotion: 'reduce' });
  // The static shell's spinner, before the wasm takes over.
  await page.route('**/*.wasm', () => {});
  await page.goto(`${server.url}/`);
  const motion = await page.locator('[data-testid=loading] .spinner').evaluate((e) => {
    const s = getComputedStyle(e);
    return { iterations: s.animationIterationCount, duration: parseFloat(s.animationDuration) };
  });
  expect(motion.iterations).toBe('1');
  expect(motion.duration).toBeLessThan(0.01);
  const transition = await page.evaluate(() => {
    const b = document.createElement('button');
    b.className = 'btn';
    document.body.append(b);
    return getComputedStyle(b).transitionDuration;
  });
  expect(transition).toBe('0s');
});

test('a webview without WebAssembly gets a Korean page that says what to do', async ({ page, server, pageErrors }) => {
  await page.addInitScript(() => { delete (window as any).WebAssembly; });
  await server.open(page, 'old-phone');
  const fallback = page.getByTestId('fallback');
  await expect(fallback).toBeVisible();
  await expect(fallback).toContainText('업데이트');
  await expect(fallback).toContainText('다른 브라우저');
  await shoot(page, 'no-wasm');
  pageErrors.length = 0; // the failed start is logged on purpose
});

test('a browser without module scripts runs only the nomodule line, which shows the same page', async ({ page, server }) => {
  await server.open(page, 'ancient-phone');
  await expect(page.getByTestId('fallback')).toBeHidden();
  // Chromium skips `nomodule` scripts; run this one as an old browser would.
  const src = await page.locator('script[nomodule]').getAttribute('src');
  const script = await (await page.request.get(new URL(src!, page.url()).href)).text();
  expect(script).toContain('no-wasm');
  await page.evaluate((code) => new Function(code)(), script);
  await expect(page.getByTestId('fallback')).toBeVisible();
  await expect(page.getByTestId('fallback')).toContainText('업데이트');
});
