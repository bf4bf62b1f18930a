// Issue 5: the app runs under the server's Content-Security-Policy with no violation.
import { test, expect } from '../fixtures';

test.use({ bypassCSP: false });

test('the app loads and claims under the real CSP with no violation reported', async ({ page, server }) => {
  await page.addInitScript(() => {
    (window as any).__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      (window as any).__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const response = await page.goto(`${server.url}/#access_token=${server.token('csp')}`);
  const csp = response?.headers()['content-security-policy'] ?? '';
  expect(csp).toContain("'wasm-unsafe-eval'");
  expect(csp).toContain("object-src 'none'");
  expect(csp).toContain("base-uri 'none'");
  expect(csp).not.toContain("'unsafe-inline'");
  expect(response?.headers()['x-content-type-options']).toBe('nosniff');

  const claim = page.getByTestId('item-claim').first();
  await claim.click();
  await expect(page.getByTestId('item-card').first()).toHaveAttribute('data-state', 'claimed');
  expect(await page.evaluate(() => (window as any).__cspViolations)).toEqual([]);
});

test('the business bundle runs under the same policy with no violation reported', async ({ page, server }) => {
  await page.addInitScript(() => {
    (window as any).__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) =>
      (window as any).__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`));
  });
  const response = await page.goto(`${server.url}/business/info#access_token=${server.token('csp-biz')}`);
  expect(response?.headers()['content-security-policy'] ?? '').not.toContain("'unsafe-inline'");
  await expect(page.locator('[data-testid=business-form][data-step=info]')).toBeVisible();
  // The inlined stylesheet applies (a blocked one would leave the fallback visible).
  await expect(page.getByTestId('fallback')).toBeHidden();
  expect(await page.evaluate(() => (window as any).__cspViolations)).toEqual([]);
});
