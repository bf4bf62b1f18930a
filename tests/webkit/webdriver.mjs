// A W3C WebDriver client for WebKitWebDriver, on Node's own fetch.
//
// Hand-written on purpose (about a dozen endpoints): webdriverio would add
// ~150 npm packages to the test run, and its defaults (WebDriver BiDi, driver
// downloads) are exactly what WebKitGTK's driver and an offline CI must avoid.
// Every wait here polls a condition with a deadline; none sleeps a fixed time.
import { spawn } from 'node:child_process';
import { createServer } from 'node:net';

const ELEMENT = 'element-6066-11e4-a52e-4f735466cecf';
const MINIBROWSER = process.env.WEBKIT_MINIBROWSER ?? '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser';

/** Resolves once `check()` returns something truthy; fails with `what` after `ms`. */
export async function waitFor(what, check, ms = 15_000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}${last ? ` (${last.message})` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** One WebKitWebDriver process; `session()` starts a MiniBrowser for each test. */
export class Driver {
  static async start() {
    const port = await freePort();
    // Its own process group, so stop() also ends any MiniBrowser it started.
    const child = spawn('WebKitWebDriver', [`--port=${port}`], { stdio: ['ignore', 'ignore', 'inherit'], detached: true });
    const driver = new Driver(`http://127.0.0.1:${port}`, child);
    const exited = new Promise((_, reject) => child.once('exit', (c) => reject(new Error(`WebKitWebDriver exited (${c})`))));
    exited.catch(() => {});
    try {
      await Promise.race([exited, waitFor('WebKitWebDriver to listen', () => driver.send('GET', '/status').then((s) => s.ready), 10_000)]);
    } catch (e) {
      driver.stop();
      throw e;
    }
    return driver;
  }

  constructor(base, child) {
    this.base = base;
    this.child = child;
  }

  async send(method, path, body) {
    const res = await fetch(this.base + path, {
      method,
      headers: { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      // A browser that stops answering fails the test instead of hanging the run.
      signal: AbortSignal.timeout(60_000),
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${method} ${path}: ${json.value?.error}: ${json.value?.message}`);
    return json.value;
  }

  async session() {
    const v = await this.send('POST', '/session', {
      capabilities: {
        alwaysMatch: {
          // MiniBrowser has no --headless; it draws on the Xvfb display xvfb-run gives it.
          'webkitgtk:browserOptions': { binary: MINIBROWSER, args: ['--automation'] },
        },
      },
    });
    const session = new Session(this, v.sessionId);
    // About a phone's size (an iPhone's 390×844; MiniBrowser's toolbar keeps its
    // page a little wider), not a desktop window's.
    await session.cmd('POST', '/window/rect', { width: 390, height: 844 });
    return session;
  }

  /** Ends the driver and its browsers; resolves once the driver has exited (reaped, not left a zombie). */
  stop() {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return Promise.resolve();
    const gone = new Promise((ok) => this.child.once('exit', ok));
    try {
      process.kill(-this.child.pid, 'SIGTERM');
    } catch {
      return Promise.resolve(); // already gone
    }
    return gone;
  }
}

export class Session {
  constructor(driver, id) {
    this.driver = driver;
    this.id = id;
  }

  cmd(method, path, body) {
    return this.driver.send(method, `/session/${this.id}${path}`, body);
  }

  go(url) {
    return this.cmd('POST', '/url', { url });
  }

  reload() {
    return this.cmd('POST', '/refresh', {});
  }

  /** Runs `fn` (a function's source) in the page with `args`; elements come back as element ids. */
  run(fn, ...args) {
    return this.cmd('POST', '/execute/sync', { script: `return (${fn}).apply(null, arguments)`, args });
  }

  /** The first element matching `css`, or null. */
  async find(css) {
    const found = await this.cmd('POST', '/elements', { using: 'css selector', value: css });
    return found.length ? found[0][ELEMENT] : null;
  }

  /** Waits for the first element matching `css` that is shown, and returns it. */
  waitFor(css, ms) {
    return waitFor(`${css} to be shown`, async () => {
      const el = await this.find(css);
      return el && (await this.cmd('GET', `/element/${el}/displayed`)) ? el : null;
    }, ms);
  }

  /** Waits for an enabled <button> whose text is exactly `text`. */
  waitForButton(text, ms) {
    return waitFor(`an enabled button "${text}"`, async () => {
      const el = await this.run((t) => [...document.querySelectorAll('button')].find((b) => b.textContent.trim() === t && !b.disabled) ?? null, text);
      return el ? el[ELEMENT] : null;
    }, ms);
  }

  click(el) {
    return this.cmd('POST', `/element/${el}/click`, {});
  }

  /** Types `text` into a field, as a person does (a file path for a file input). */
  type(el, text) {
    return this.cmd('POST', `/element/${el}/value`, { text });
  }

  async screenshot() {
    return Buffer.from(await this.cmd('GET', '/screenshot'), 'base64');
  }

  close() {
    return this.cmd('DELETE', '').catch(() => {});
  }
}
