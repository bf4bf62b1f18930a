// WebKit end-to-end smoke: the release bundle, served by the reference server,
// in WebKitGTK's MiniBrowser (the engine of iOS's KakaoTalk webview), driven
// through WebKitWebDriver. Run under a display: `xvfb-run -a node smoke.mjs`
// (`cargo xtask test` does). Prints `N passed, M failed` for xtask's tally.
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { deflateSync } from 'node:zlib';
import { Driver, waitFor } from './webdriver.mjs';

const here = import.meta.dirname;
const bin = process.env.MAEUM_SERVER_BIN ?? resolve(here, '../../target/server/maeum-server');
const dist = process.env.MAEUM_DIST ?? resolve(here, '../../dist');
const failures = process.env.WEBKIT_FAILURES ?? resolve(here, '../../target/webkit-failures');

// The shipped campaign opens at 2023-01-05T09:00:00+09:00; this server stands a day before.
const DAY_BEFORE = '2023-01-04T09:00:00+09:00';
const TEASER_TEXT = '1월 5일 (목) 오전 9:00에 열립니다';

const cleanups = [];

/** A reference server on a free loopback port with a fresh database. */
async function startServer(extra = []) {
  const dataDir = mkdtempSync(join(tmpdir(), 'maeum-webkit-'));
  const child = spawn(bin, ['serve', '--addr', '127.0.0.1:0', '--data-dir', dataDir, '--dist', dist, '--dev', ...extra], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((ok) => child.once('exit', ok));
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  };
  cleanups.push(stop);
  const url = await new Promise((ok, fail) => {
    setTimeout(() => fail(new Error('the server did not start within 10 s')), 10_000).unref();
    child.once('exit', (code) => fail(new Error(`server exited with ${code}`)));
    createInterface({ input: child.stdout }).on('line', (line) => {
      const m = /^listening on (\S+)/.exec(line);
      if (m) ok(m[1]);
    });
  });
  const tokens = new Map();
  const token = (user) => {
    if (!tokens.has(user)) tokens.set(user, execFileSync(bin, ['token', user, '--data-dir', dataDir], { encoding: 'utf8' }).trim());
    return tokens.get(user);
  };
  const api = async (path, user) => {
    const res = await fetch(`${url}/api${path}`, { headers: { Authorization: `Bearer ${token(user)}` } });
    if (!res.ok) throw new Error(`${path} answered ${res.status}`);
    return res.json();
  };
  return { url, dataDir, token, api, stop };
}

function check(ok, message) {
  if (!ok) throw new Error(message);
}

/** The text of each package card (an <li> holding the item's title), by title. */
function cards(s) {
  return s.run(() => Object.fromEntries([...document.querySelectorAll('li')]
    .map((li) => [li.querySelector('h2, h3, h4')?.textContent.trim(), li.textContent])
    .filter(([title]) => title)));
}

/** A w×h PNG of one colour, built byte by byte (as tests/e2e/files.ts does). */
function png(w = 8, h = 8) {
  const crc32 = (buf) => {
    let c = ~0;
    for (const b of buf) {
      c ^= b;
      for (let k = 0; k < 8; k++) c = (c >>> 1) ^ (0xedb88320 & -(c & 1));
    }
    return ~c >>> 0;
  };
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr.set([8, 2, 0, 0, 0], 8);
  const row = Buffer.concat([Buffer.from([0]), Buffer.alloc(w * 3, 0xcc)]);
  return Buffer.concat([
    Buffer.from('\x89PNG\r\n\x1a\n', 'latin1'),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(Array.from({ length: h }, () => row)))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const tests = {
  async 'package: 모두 받기 shows every code, and a reload keeps them'(s) {
    const server = await startServer();
    await s.go(`${server.url}/#access_token=${server.token('wk-all')}`);
    await s.click(await s.waitForButton('모두 받기'));
    const items = (await server.api('/v1/package', 'wk-all')).items;
    check(items.length === 6, `the package has ${items.length} items`);
    const held = async () => {
      const claims = (await server.api('/v1/me/claims', 'wk-all')).claims;
      check(claims.length === 6, `the server holds ${claims.length} claims, not 6`);
      return claims;
    };
    const shown = async () => {
      const text = await cards(s);
      const codes = (await held()).map((c) => c.code).filter(Boolean);
      return items.every((i) => text[i.title]?.includes('받음'))
        && codes.every((code) => Object.values(text).some((t) => t.includes(code)))
        && !(await s.run(() => [...document.querySelectorAll('button')].some((b) => b.textContent.trim() === '받기')));
    };
    await waitFor('every card 받음 with its code', shown);
    check((await held()).some((c) => c.code), 'no claim carries a code');
    await s.reload();
    await waitFor('every card 받음 with its code after the reload', shown);
  },

  async 'teaser: before the release only the opening time shows, and nothing is asked for'(s) {
    const server = await startServer(['--fake-now', DAY_BEFORE]);
    await s.go(`${server.url}/#access_token=${server.token('wk-early')}`);
    await waitFor(`"${TEASER_TEXT}"`, () => s.run((t) => document.body.innerText.includes(t), TEASER_TEXT));
    // The status was read (so the app ran), and nothing gated was requested.
    const asked = await s.run(() => performance.getEntriesByType('resource').map((e) => new URL(e.name).pathname));
    check(asked.some((p) => p.endsWith('/v1/status')), `no status read: ${asked.join(' ')}`);
    const gated = asked.filter((p) => /\/v1\/(package|me\/claims|claims)/.test(p));
    check(gated.length === 0, `gated requests before the release: ${gated.join(' ')}`);
    check(!(await s.run(() => [...document.querySelectorAll('button')].some((b) => /받기/.test(b.textContent)))), 'a 받기 button shows before the release');
  },

  async 'business: the first step, then one evidence file uploaded'(s) {
    const server = await startServer();
    await s.go(`${server.url}/#access_token=${server.token('wk-shop')}`);
    await s.click(await s.waitFor('[data-testid=business-link]'));
    await s.waitFor('[data-testid=business-form][data-step=info]');
    for (const [id, value] of [['f-brn', '124-81-00998'], ['f-business_name', '카카오 분식'], ['f-representative', '김카카오'], ['f-phone', '010-1234-5678']]) {
      await s.type(await s.waitFor(`#${id}`), value);
    }
    await s.click(await s.find('[data-testid=continue]'));
    await s.waitFor('[data-testid=business-form][data-step=damage]');
    await s.click(await s.find('[data-testid=services-kakaotalk_channel]'));
    await s.click(await s.find('[data-testid=paid_service-paid]'));
    // WebKitGTK draws its own picker for <input type=date>; set the day as the
    // picker does (value, then input and change events).
    for (const [id, day] of [['f-period_from', '2022-10-15'], ['f-period_to', '2022-10-16']]) {
      await s.run((id, day) => {
        const el = document.getElementById(id);
        el.value = day;
        el.dispatchEvent(new Event('input', { bubbles: true }));
        el.dispatchEvent(new Event('change', { bubbles: true }));
      }, id, day);
    }
    await s.type(await s.find('#f-loss_won'), '250000');
    await s.type(await s.find('#f-description'), '주문 알림이 오지 않아 손님을 놓쳤어요.');
    await s.click(await s.find('[data-testid=continue]'));
    await s.waitFor('[data-testid=business-form][data-step=evidence]');
    const dir = mkdtempSync(join(tmpdir(), 'maeum-webkit-file-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    const file = join(dir, '화면.png');
    writeFileSync(file, png());
    await s.type(await waitFor('the service_use file input', () => s.find('[data-testid=evidence-input-service_use]')), file);
    const done = await s.waitFor('[data-testid=evidence-file][data-state=done]', 20_000);
    const id = await s.cmd('GET', `/element/${done}/attribute/data-upload-id`);
    check(id, 'the uploaded file has no upload id');
  },
};

async function main() {
  const driver = await Driver.start();
  cleanups.push(() => driver.stop());
  try {
    return await runAll(driver);
  } finally {
    await driver.stop();
  }
}

async function runAll(driver) {
  let passed = 0;
  let failed = 0;
  for (const [name, body] of Object.entries(tests)) {
    const s = await driver.session();
    const started = Date.now();
    try {
      await body(s);
      passed++;
      console.log(`  ✓ webkit › ${name} (${Date.now() - started} ms)`);
    } catch (e) {
      failed++;
      console.log(`  ✘ webkit › ${name}\n      ${e.stack ?? e}`);
      try {
        const path = join(failures, `${name.split(':')[0]}.png`);
        mkdirSync(failures, { recursive: true });
        writeFileSync(path, await s.screenshot());
        console.log(`      screenshot: ${path}`);
      } catch {
        // no screenshot; the message above says what failed
      }
    } finally {
      await s.close();
      // Each test's servers end with it.
      while (cleanups.length > 1) await cleanups.pop()();
    }
  }
  console.log(`\n  webkit: ${passed} passed, ${failed} failed`);
  return failed === 0;
}

function cleanup() {
  while (cleanups.length) cleanups.pop()();
}
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => { cleanup(); process.exit(1); });

main()
  .then((ok) => { cleanup(); process.exit(ok ? 0 : 1); })
  .catch((e) => {
    console.log(`  ✘ webkit: ${e.stack ?? e}\n\n  webkit: 0 passed, 1 failed`);
    cleanup();
    process.exit(1);
  });
