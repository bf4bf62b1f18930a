// Time to a tappable 받기, for `cargo xtask bench`: the release bundle against
// a plain-JavaScript page (plain/index.html) making the same reads, both
// served by the reference server, in one run, interleaved so a busy moment on
// the machine lands on both. Chromium via CDP under the mobile profile:
// 150 ms RTT, 1.6 Mbps down, 750 kbps up, 4x CPU slowdown, cold cache (a
// fresh browser context per load).
//
// The moment is taken in the page: a MutationObserver, installed before any
// script of the page runs, stamps performance.now() (ms since navigation
// start) when the first enabled, laid-out <button> whose text is 받기 appears,
// and hands it to Node through a CDP binding: no polling, no sleeps.
//
// Usage: MAEUM_SERVER_BIN=... MAEUM_DATA_DIR=... node measure.mjs APP_URL PLAIN_URL
// Prints a Markdown section and one `tappable-json: {...}` line for xtask.
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import { resolve } from 'node:path';

const require = createRequire(resolve(import.meta.dirname, '../../tests/e2e/package.json'));
const { chromium } = require('playwright-core');

const runs = Number(process.env.RUNS ?? 7);
const [appUrl, plainUrl] = process.argv.slice(2);
const bin = process.env.MAEUM_SERVER_BIN;
const dataDir = process.env.MAEUM_DATA_DIR;
if (!appUrl || !plainUrl || !bin || !dataDir) {
  console.error('usage: MAEUM_SERVER_BIN=... MAEUM_DATA_DIR=... node measure.mjs APP_URL PLAIN_URL');
  process.exit(2);
}
const NETWORK = { offline: false, latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 750e3 / 8 }; // bytes/s
const CPU_SLOWDOWN = 4;
const flags = [
  '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic',
];

// Runs in the page before its own scripts.
function watchForTappable() {
  const tappable = () => [...document.querySelectorAll('button')]
    .some((b) => !b.disabled && b.textContent.trim() === '받기' && b.getClientRects().length > 0);
  const observer = new MutationObserver(() => {
    if (!tappable()) return;
    const at = performance.now();
    observer.disconnect();
    window.__maeumTappable(at);
  });
  observer.observe(document, { childList: true, subtree: true, characterData: true, attributes: true, attributeFilter: ['disabled', 'hidden', 'class', 'style'] });
}

// What the page fetched and painted, in ms since navigation start.
function pageTrace() {
  const nav = performance.getEntriesByType('navigation')[0];
  const rows = [{ what: 'the page (document)', start: nav.startTime, end: nav.responseEnd }];
  for (const p of performance.getEntriesByType('paint')) rows.push({ what: p.name, start: p.startTime });
  for (const r of performance.getEntriesByType('resource')) {
    const u = new URL(r.name);
    rows.push({ what: u.pathname.replace(/-[0-9a-f]{8,16}(?=[._])/, '-<hash>'), start: r.startTime, end: r.responseEnd, bytes: r.transferSize });
  }
  return rows.sort((a, b) => a.start - b.start);
}

const browser = await chromium.launch({ executablePath: process.env.CHROME_PATH ?? '/usr/bin/chromium', args: flags });

async function once(base, user) {
  const token = execFileSync(bin, ['token', user, '--data-dir', dataDir], { encoding: 'utf8' }).trim();
  const context = await browser.newContext({ viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'ko-KR' });
  try {
    let done;
    const tapped = new Promise((ok) => { done = ok; });
    await context.exposeBinding('__maeumTappable', (_source, at) => done(at));
    await context.addInitScript(watchForTappable);
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });
    await cdp.send('Network.emulateNetworkConditions', NETWORK);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: CPU_SLOWDOWN });
    const timeout = new Promise((_, fail) => setTimeout(() => fail(new Error(`no tappable 받기 on ${base} within 60 s`)), 60_000));
    await page.goto(new URL(`/#access_token=${token}`, base).href, { waitUntil: 'commit' });
    const at = await Promise.race([tapped, timeout]);
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
    const trace = await page.evaluate(pageTrace);
    return { at, trace };
  } finally {
    await context.close();
  }
}

const samples = { app: [], plain: [] };
try {
  for (let i = 0; i < runs; i++) {
    samples.app.push(await once(appUrl, `tap-app-${i}`));
    samples.plain.push(await once(plainUrl, `tap-plain-${i}`));
  }
} finally {
  await browser.close();
}

const median = (xs) => [...xs].sort((a, b) => a.at - b.at)[Math.floor(xs.length / 2)];
const app = median(samples.app);
const plain = median(samples.plain);
const ratio = app.at / plain.at;
const ms = (x) => (x === undefined ? '' : Math.round(x).toLocaleString('en-US'));
const runsOf = (xs) => xs.map((s) => ms(s.at)).join(', ');
const traceTable = (run) => [
  '| what | start ms | end ms |',
  '|---|---:|---:|',
  ...run.trace.map((r) => `| ${r.what} | ${ms(r.start)} | ${ms(r.end)} |`),
  `| **tappable 받기** | **${ms(run.at)}** | |`,
].join('\n');

// Where the app's time goes, from its median run.
const row = (what) => app.trace.find((r) => r.what === what || r.what.endsWith(what));
const [wasm, fcp] = [row('_bg.wasm'), row('first-contentful-paint')];
const split = wasm && fcp
  ? `In that run the wasm was asked for at ${ms(wasm.start)} ms, once the shell had painted (first contentful paint ${ms(fcp.start)} ms; the loader waits for the paint, see Trunk.toml), and took ${ms(wasm.end - wasm.start)} ms to arrive (${ms(wasm.bytes)} bytes on the wire); the app drew 받기 ${ms(app.at - wasm.end)} ms after it arrived (compile, start, draw).\n`
  : '';

console.log(`| page | median ms | runs (ms, in order) |
|---|---:|---|
| app (release bundle) | ${ms(app.at)} | ${runsOf(samples.app)} |
| plain JavaScript (\`xtask/tappable/plain\`) | ${ms(plain.at)} | ${runsOf(samples.plain)} |

**Ratio: ${ratio.toFixed(2)}×** the plain page.

The app's median run, in ms since navigation start (resource timing; \`end\` is the response's last byte):

${traceTable(app)}

${split}
The plain page's median run:

${traceTable(plain)}
`);
console.log(`tappable-json: ${JSON.stringify({ app: app.at, plain: plain.at, ratio })}`);
