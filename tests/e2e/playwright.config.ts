import { defineConfig } from '@playwright/test';

// Runs against the release bundle served by the reference server (see fixtures.ts).
// The browser is Debian's Chromium; Playwright never downloads one.
export default defineConfig({
  testDir: './specs',
  timeout: 45_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 2,
  retries: 0,
  reporter: 'list',
  use: {
    viewport: { width: 360, height: 740 },
    locale: 'ko-KR',
    // A device far from Korea: every date on screen must still be Korea time.
    timezoneId: 'America/Los_Angeles',
    // The server's CSP would block axe's injected script; csp.spec.ts checks the
    // app under the real policy with this off.
    bypassCSP: true,
    launchOptions: {
      executablePath: process.env.CHROME_PATH || '/usr/bin/chromium',
      args: [
        '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic',
      ],
    },
  },
});
