// Issue 4: a small business files a damage claim with real evidence files,
// against the reference server, and nothing is lost on the way.
import { test, expect, expectAccessible, shoot, type Server } from '../fixtures';
import { png, pdf, jpeg } from '../files';
import type { Page } from '@playwright/test';

const step = (page: Page, name: string) => page.locator(`[data-testid=business-form][data-step=${name}]`);
const next = (page: Page) => page.getByTestId('continue').click();

async function start(page: Page, server: Server, user: string) {
  await server.open(page, user);
  await page.getByTestId('business-link').click();
  await expect(step(page, 'info')).toBeVisible();
}

async function fillBusiness(page: Page) {
  await page.fill('#f-brn', '124-81-00998');
  await page.fill('#f-business_name', '카카오 분식');
  await page.fill('#f-representative', '김카카오');
  await page.fill('#f-phone', '010-1234-5678');
  await next(page);
  await expect(step(page, 'damage')).toBeVisible();
}

async function fillDamage(page: Page, loss: string) {
  await page.getByTestId('services-kakaotalk_channel').check();
  await page.getByTestId('paid_service-paid').check();
  await page.fill('#f-period_from', '2022-10-15');
  await page.fill('#f-period_to', '2022-10-16');
  await page.fill('#f-loss_won', loss);
  await page.fill('#f-description', '주문 알림이 오지 않아 손님을 놓쳤어요.');
  await next(page);
  await expect(step(page, 'evidence')).toBeVisible();
}

async function upload(page: Page, category: string, name: string, mimeType: string, buffer: Buffer) {
  await page.setInputFiles(`[data-testid=evidence-input-${category}]`, { name, mimeType, buffer });
}

async function finishAfterEvidence(page: Page) {
  await next(page);
  await expect(step(page, 'payout')).toBeVisible();
  await page.selectOption('#f-payout-bank_code', '090');
  await page.fill('#f-payout-account_no', '3333-01-1234567');
  await page.fill('#f-payout-holder', '김카카오');
  await next(page);
  await expect(step(page, 'consent')).toBeVisible();
  await expect(page.getByTestId('consent-required')).not.toBeChecked();
  await page.getByTestId('consent-required').check();
  await next(page);
  await expect(step(page, 'check')).toBeVisible();
}

function claimsFiled(server: Server): number {
  return server.admin('claims', 'list').split('\n').filter((l) => /D-\d{4}-/.test(l)).length;
}

test('the whole journey with real files, errors shown, a change made, then the receipt and status', async ({ page, server }) => {
  await start(page, server, 'shop');
  // Submitting the empty step shows the error summary, focused, and the title says so.
  await next(page);
  await expect(page.getByTestId('error-summary')).toBeFocused();
  await expect(page).toHaveTitle(/^오류: /);
  await shoot(page, 'business-errors');
  await page.fill('#f-brn', '124-81-00997');
  await next(page);
  await expect(page.locator('#f-brn-error')).toContainText('사업자등록번호');
  await expect(page.locator('#f-brn')).toHaveValue('124-81-00997'); // nothing cleared
  await fillBusiness(page);

  await page.fill('#f-loss_won', '420,000');
  await expect(page.getByTestId('support-preview')).toContainText('50,000원');
  await page.fill('#f-loss_won', '');
  await fillDamage(page, '1,200,000');

  // Above 500,000원, proof of lost sales is required.
  await next(page);
  await expect(page.getByTestId('sales-loss-required')).toBeVisible();
  await upload(page, 'sales_loss', '매출.pdf', 'application/pdf', pdf());
  await upload(page, 'service_use', '화면.png', 'image/png', png());
  await upload(page, 'small_business_cert', '확인서.jpg', 'image/jpeg', await jpeg(page));
  // A renamed executable is refused by its first bytes, before any upload.
  await upload(page, 'bankbook', '통장.jpg', 'image/jpeg', Buffer.from('MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00', 'latin1'));
  await expect(page.locator('[data-testid=evidence-file][data-state=done]')).toHaveCount(3, { timeout: 20_000 });
  await expect(page.locator('[data-testid=evidence-file][data-state=refused]')).toHaveCount(1);
  await shoot(page, 'business-evidence');
  await page.locator('[data-testid=evidence-file][data-state=refused] [data-testid=file-remove]').click();
  await expectAccessible(page);
  await finishAfterEvidence(page);

  // 변경 returns to the step, then back to the check page.
  await page.getByTestId('change-representative').click();
  await expect(step(page, 'info')).toBeVisible();
  await page.fill('#f-representative', '이카카오');
  await next(page);
  await expect(step(page, 'check')).toBeVisible();
  await expect(page.getByTestId('answer-representative')).toContainText('이카카오');
  await shoot(page, 'business-check');

  await page.getByTestId('submit').dblclick();
  await expect(page.getByTestId('receipt-no')).toBeVisible({ timeout: 20_000 });
  await expect(page.getByTestId('receipt-support')).toContainText('검토');
  expect(claimsFiled(server)).toBe(1);
  await shoot(page, 'business-receipt');

  const receipt = (await page.getByTestId('receipt-no').innerText()).trim();
  server.admin('claims', 'reject', receipt, '--reason', '매출 감소 증빙이 흐려서 읽을 수 없어요');
  await page.getByTestId('status-link').click();
  await expect(page.locator('[data-testid=claim-status]')).toHaveAttribute('data-status', 'rejected');
  await expect(page.getByTestId('claim-reason')).toContainText('흐려서');
  await shoot(page, 'business-status');

  // Channel cash, once per business.
  await page.goto(`${server.url}/business/cash`);
  await page.fill('#f-brn', '124-81-00998');
  await page.getByTestId('channel-cash-claim').click();
  const cash = page.getByTestId('channel-cash-result');
  await expect(cash).toContainText('50,000원을 받았어요');
  await expect(cash).not.toContainText('이미 받은');
  // Another phone (nothing remembered locally) asks for the same business: refused.
  await page.evaluate(() => localStorage.clear());
  await page.reload();
  await page.fill('#f-brn', '124-81-00998');
  await page.getByTestId('channel-cash-claim').click();
  await expect(cash).toContainText('이미 받은 사업자예요');
});

test('a reload in the middle of step 3 keeps the answers and the uploaded files', async ({ page, server }) => {
  await start(page, server, 'reloader');
  await fillBusiness(page);
  await fillDamage(page, '250000');
  await upload(page, 'service_use', '화면.png', 'image/png', png());
  const done = page.locator('[data-testid=evidence-file][data-state=done]');
  await expect(done).toHaveCount(1, { timeout: 20_000 });
  const id = await done.getAttribute('data-upload-id');

  await page.reload();
  await expect(step(page, 'evidence')).toBeVisible();
  await expect(done).toHaveCount(1);
  expect(await done.getAttribute('data-upload-id')).toBe(id);
  // The account number is never written to local storage.
  await finishAfterEvidence(page);
  const stored = await page.evaluate(() => JSON.stringify(localStorage));
  expect(stored).not.toContain('3333011234567');
  expect(stored).not.toContain('3333-01-1234567');
  await expect(page.getByTestId('answer-business_name')).toContainText('카카오 분식');
});

test('offline at submit: queued on the phone, filed exactly once when back online', async ({ page, context, server }) => {
  await start(page, server, 'offline-shop');
  await fillBusiness(page);
  await fillDamage(page, '100000');
  await finishAfterEvidence(page);
  await context.setOffline(true);
  await page.getByTestId('submit').click();
  await expect(page.getByTestId('submit-queued')).toBeVisible();
  expect(claimsFiled(server)).toBe(0);
  await context.setOffline(false);
  await expect(page.getByTestId('receipt-no')).toBeVisible({ timeout: 20_000 });
  await expect(page.getByTestId('receipt-support')).toContainText('30,000원');
  expect(claimsFiled(server)).toBe(1);
});

test('a claim queued and left is named on the package page, and its link sends it', async ({ page, server }) => {
  await start(page, server, 'left-shop');
  await fillBusiness(page);
  await fillDamage(page, '100000');
  await finishAfterEvidence(page);
  // The network drops the submit: queued on the phone.
  await page.route('**/api/v1/damage-claims', (route) => route.abort('internetdisconnected'));
  await page.getByTestId('submit').click();
  await expect(page.getByTestId('submit-queued')).toBeVisible();
  // The user goes back to the banner's page instead of waiting.
  await page.goto(`${server.url}/`);
  await expect(page.getByTestId('business-entry-text')).toHaveText(/아직 보내지 못한 피해 지원 신청이 있어요/);
  await expect(page.getByTestId('business-link')).toHaveText('피해 지원 신청 보내기');
  await expectAccessible(page);
  expect(claimsFiled(server)).toBe(0);
  await page.unroute('**/api/v1/damage-claims');
  await page.getByTestId('business-link').click();
  await expect(page.getByTestId('receipt-no')).toBeVisible({ timeout: 20_000 });
  expect(claimsFiled(server)).toBe(1);
  // Sent: the package page no longer speaks of it.
  await page.goto(`${server.url}/`);
  await expect(page.getByTestId('business-link')).toHaveText('피해 지원 신청하기');
  await expect(page.getByTestId('receipt-link')).toHaveCount(1);
});
