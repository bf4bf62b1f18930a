// Each test gets its own reference server on a random loopback port with a
// fresh SQLite database, serving the release bundle: real HTTP, real storage.
import { test as base, expect, type Page } from '@playwright/test';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

const bin = process.env.MAEUM_SERVER_BIN ?? '../../target/server/maeum-server';
const dist = process.env.MAEUM_DIST ?? '../../dist';

export class Server {
  constructor(readonly url: string, readonly dataDir: string, private readonly child: ChildProcess, private readonly owned = true) {}

  /** `opts.dataDir` shares another server's database (and token key): a redundant pair. */
  static async start(extra: string[] = [], opts: { dataDir?: string } = {}): Promise<Server> {
    const owned = !opts.dataDir;
    const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'maeum-e2e-'));
    const child = spawn(bin, ['serve', '--addr', '127.0.0.1:0', '--data-dir', dataDir, '--dist', dist, '--dev', ...extra], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('server did not start within 10 s')), 10_000);
      child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const m = /^listening on (\S+)/.exec(line);
        if (m) { clearTimeout(timer); resolve(m[1]); }
      });
    });
    return new Server(url, dataDir, child, owned);
  }

  /** `maeum-server admin ...` against this server's database. */
  admin(...args: string[]): string {
    return execFileSync(bin, ['admin', ...args, '--data-dir', this.dataDir], { encoding: 'utf8' });
  }

  token(user: string): string {
    return execFileSync(bin, ['token', user, '--data-dir', this.dataDir], { encoding: 'utf8' }).trim();
  }

  /** Opens the app as `user`, the way the KakaoTalk banner does: a token in the fragment. */
  async open(page: Page, user: string, path = '/'): Promise<void> {
    // A fragment-only change would not load the page again; start from nothing.
    if (page.url() !== 'about:blank') await page.goto('about:blank');
    await page.goto(`${this.url}${path}#access_token=${this.token(user)}`);
  }

  /** The API as the user sees it, to check what the database holds. */
  async api(path: string, user: string): Promise<any> {
    const res = await fetch(`${this.url}/api${path}`, { headers: { Authorization: `Bearer ${this.token(user)}` } });
    expect(res.ok, `${path} answered ${res.status}`).toBeTruthy();
    return res.json();
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    this.child.kill(signal);
  }

  stop(): void {
    this.child.kill('SIGTERM');
    if (this.owned) rmSync(this.dataDir, { recursive: true, force: true });
  }
}

const axeSource = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core against WCAG 2.0–2.2 A/AA; fails the test on any violation. */
export async function expectAccessible(page: Page): Promise<void> {
  await page.addScriptTag({ content: axeSource });
  const violations = await page.evaluate(async () => {
    const r = await (window as any).axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'] },
    });
    return r.violations.map((v: any) => `${v.id}: ${v.help} (${v.nodes.map((n: any) => n.target.join(' ')).join(', ')})`);
  });
  expect(violations).toEqual([]);
}

/** Screenshots `name` at the current size into docs/screenshots/, light and
 *  dark, checking accessibility (contrast included) in both themes. */
export async function shoot(page: Page, name: string): Promise<void> {
  for (const scheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme: scheme });
    await expectAccessible(page);
    await page.screenshot({ path: `../../docs/screenshots/${name}-${scheme}.png` });
  }
  await page.emulateMedia({ colorScheme: 'light' });
}

type Fixtures = { server: Server; pageErrors: string[] };

export const test = base.extend<Fixtures>({
  server: async ({}, use) => {
    const server = await Server.start();
    await use(server);
    server.stop();
  },
  // A panic or an uncaught exception in the wasm app fails the test.
  pageErrors: [async ({ page }, use) => {
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await use(errors);
    expect(errors, 'uncaught errors in the page').toEqual([]);
  }, { auto: true }],
});

export { expect };
