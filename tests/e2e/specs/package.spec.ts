// Issue 2: the 전 국민 마음 패키지 page, end to end against the reference server.
import { test, expect, expectAccessible, type Server } from '../fixtures';
import type { Page } from '@playwright/test';

const won = (n: number) => `${n.toLocaleString('en-US')}원`;

async function items(server: Server, user: string): Promise<any[]> {
  return (await server.api('/v1/package', user)).items;
}

function card(page: Page, title: string) {
  return page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: title }) });
}

test('shows the six items of the package with kind, price and validity', async ({ page, server }) => {
  await server.open(page, 'viewer');
  await expect(page.getByRole('heading', { level: 1 })).toBeVisible();
  const list = await items(server, 'viewer');
  expect(list).toHaveLength(6);
  for (const item of list) {
    const c = card(page, item.title);
    await expect(c).toBeVisible();
    await expect(c).toContainText(won(item.price_won));
    await expect(c.getByRole('button', { name: '받기' })).toBeEnabled();
  }
  await expect(card(page, list.find((i) => i.cap).title)).toContainText(/잔여 [\d,]+개 · \d\d:\d\d 기준/);
  // The token is gone from the address bar at once.
  expect(page.url()).not.toContain('access_token');
  await expectAccessible(page);
});

test('claiming one item shows the code and the expiry date in Korea time', async ({ page, server }) => {
  await server.open(page, 'one');
  const list = await items(server, 'one');
  const emoticon = list.find((i) => i.validity.type === 'days_from_claim');
  const c = card(page, emoticon.title);
  await c.getByRole('button', { name: '받기' }).click();
  await expect(c).toContainText('받음');
  const held = (await server.api('/v1/me/claims', 'one')).claims;
  expect(held).toHaveLength(1);
  // The browser runs in Los Angeles; the date shown is the Korean calendar day.
  const expires = new Date(held[0].expires_at);
  const kst = new Date(expires.getTime() + 9 * 3600_000);
  await expect(c).toContainText(`${kst.getUTCFullYear()}년 ${kst.getUTCMonth() + 1}월 ${kst.getUTCDate()}일까지`);

  const coupon = list.find((i) => i.kind === 'coupon');
  const cc = card(page, coupon.title);
  await cc.getByRole('button', { name: '받기' }).click();
  await expect(cc).toContainText('받음');
  const code = (await server.api('/v1/me/claims', 'one')).claims.find((x: any) => x.item_id === coupon.id).code;
  expect(code).toBeTruthy();
  await expect(cc).toContainText(code);
  await expectAccessible(page);
});

test('claim all grants every item once and survives a reload', async ({ page, server }) => {
  await server.open(page, 'all');
  await page.getByRole('button', { name: '모두 받기' }).click();
  const list = await items(server, 'all');
  for (const item of list) await expect(card(page, item.title)).toContainText('받음');
  expect((await server.api('/v1/me/claims', 'all')).claims).toHaveLength(6);

  await page.reload();
  for (const item of list) await expect(card(page, item.title)).toContainText('받음');
  await expect(page.getByRole('button', { name: '받기', exact: true })).toHaveCount(0);
  expect((await server.api('/v1/me/claims', 'all')).claims).toHaveLength(6);
});

test('a fast double tap grants once', async ({ page, server }) => {
  await server.open(page, 'double');
  const list = await items(server, 'double');
  const c = card(page, list[0].title);
  const claims: string[] = [];
  page.on('request', (r) => { if (r.url().endsWith('/api/v1/claims') && r.method() === 'POST') claims.push(r.headers()['idempotency-key']); });
  await c.getByRole('button', { name: '받기' }).dblclick();
  await expect(c).toContainText('받음');
  const held = (await server.api('/v1/me/claims', 'double')).claims;
  expect(held.filter((x: any) => x.item_id === list[0].id)).toHaveLength(1);
  // At most one intent: every request sent carries the same key.
  expect(new Set(claims).size).toBe(1);
});

test('a sold-out voucher shows 마감', async ({ page, server }) => {
  const list = await items(server, 'late');
  const voucher = list.find((i) => i.cap);
  server.admin('cap', voucher.id, '0');
  await server.open(page, 'late');
  const c = card(page, voucher.title);
  await expect(c).toContainText('마감');
  await expect(c.getByRole('button', { name: '받기' })).toHaveCount(0);
  await expectAccessible(page);
});

test('an ineligible user sees 대상 아님 with the reason', async ({ page, server }) => {
  server.admin('ineligible', 'dormant', '--reason', '휴면 상태인 계정이에요');
  await server.open(page, 'dormant');
  await expect(page.getByText('대상 아님').first()).toBeVisible();
  await expect(page.getByText('휴면 상태인 계정이에요').first()).toBeVisible();
  await expectAccessible(page);
});

test('without a token the page says to open it from KakaoTalk', async ({ page, server }) => {
  await page.goto(server.url + '/');
  await expect(page.getByText('카카오톡').first()).toBeVisible();
  await expect(page.getByRole('button', { name: '받기' })).toHaveCount(0);
  await expectAccessible(page);
});

test('a rejected token shows the same page, not a blank one', async ({ page, server }) => {
  await page.goto(`${server.url}/#access_token=forged.token.value`);
  await expect(page.getByText('카카오톡').first()).toBeVisible();
  await expect(page.getByRole('button', { name: '받기' })).toHaveCount(0);
});

test('a backend error shows a Korean message with a retry, and the app recovers', async ({ page, server }) => {
  let fail = true;
  await page.route('**/api/v1/package', (route) =>
    fail
      ? route.fulfill({ status: 500, contentType: 'application/problem+json', body: '{"title":"x","status":500,"code":"internal"}' })
      : route.continue(),
  );
  await server.open(page, 'unlucky');
  const retry = page.getByRole('button', { name: '다시 시도' });
  await expect(retry).toBeVisible();
  await expectAccessible(page);
  fail = false;
  await retry.click();
  const list = await items(server, 'unlucky');
  await expect(card(page, list[0].title)).toBeVisible();
});

test('a server that is down shows that it cannot be reached', async ({ page, server }) => {
  await page.route('**/api/**', (route) => route.abort('connectionrefused'));
  await server.open(page, 'offline');
  await expect(page.getByText('연결할 수 없어요').first()).toBeVisible();
  await expect(page.getByRole('button', { name: '다시 시도' })).toBeVisible();
});
