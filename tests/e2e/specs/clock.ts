// Playwright's clock for the specs that move the page's time instead of waiting.
import type { Page } from '@playwright/test';

/** Installs Playwright's fake clock in `page`, with small timer ids and
 *  every random jitter at the middle of its range (`Math.random() = 0.5`), so
 *  that each jump of the clock fires exactly the timers the spec means: the
 *  teaser's re-read at 47.5 s, the paused page's at 17.5 s, the opening
 *  spread at 5 s (and not, in the same jump, the 12 s time-out of a request
 *  the jump started).
 *
 *  The fake timers number their timers from 10^12 (so they never collide with
 *  real ones), but web-sys reads a timer id as an `i32`: the app's
 *  `clearTimeout` would then name another timer, and a cleared time-out would
 *  still fire. A real browser's ids are small, so the shim hands out small
 *  ids and maps them back. */
export async function installClock(page: Page): Promise<void> {
  await page.clock.install();
  await page.addInitScript(() => {
    Math.random = () => 0.5;
    for (const [set, clear] of [['setTimeout', 'clearTimeout'], ['setInterval', 'clearInterval']] as const) {
      const realSet = (window as any)[set];
      const realClear = (window as any)[clear];
      const ids = new Map<number, unknown>();
      let next = 1;
      (window as any)[set] = function (...args: unknown[]) {
        const small = next++;
        ids.set(small, realSet.apply(window, args));
        return small;
      };
      (window as any)[clear] = function (small: number) {
        if (ids.has(small)) {
          realClear.call(window, ids.get(small));
          ids.delete(small);
        }
      };
    }
  });
}
