// Lighthouse (mobile profile, simulated slow 4G, 4x CPU) on each page given,
// median of RUNS runs; prints a Markdown table and one JSON line for xtask.
// Usage: node run.mjs NAME=URL [NAME=URL ...]
import lighthouse from 'lighthouse';
import * as chromeLauncher from 'chrome-launcher';

// Five: on a shared 2-core machine one run in five or so lands on a busy moment.
const runs = Number(process.env.RUNS ?? 5);
const pages = process.argv.slice(2).map((a) => {
  const i = a.indexOf('=');
  return { name: a.slice(0, i), url: a.slice(i + 1) };
});
const flags = [
  '--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync', '--disable-quic',
];
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const results = [];
const lcpElements = {};
for (const { name, url } of pages) {
  const samples = [];
  for (let i = 0; i < runs; i++) {
    const chrome = await chromeLauncher.launch({ chromePath: process.env.CHROME_PATH ?? '/usr/bin/chromium', chromeFlags: flags });
    try {
      const r = await lighthouse(url, { port: chrome.port, output: 'json', logLevel: 'error', onlyCategories: ['performance', 'accessibility'] });
      const a = r.lhr.audits;
      samples.push({
        perf: Math.round(r.lhr.categories.performance.score * 100),
        a11y: Math.round(r.lhr.categories.accessibility.score * 100),
        fcp: a['first-contentful-paint'].numericValue,
        lcp: a['largest-contentful-paint'].numericValue,
        tbt: a['total-blocking-time'].numericValue,
        cls: a['cumulative-layout-shift'].numericValue,
        si: a['speed-index'].numericValue,
        bytes: a['total-byte-weight'].numericValue,
      });
      const lcpItem = a['largest-contentful-paint-element']?.details?.items?.[0]?.items?.[0]?.node;
      if (lcpItem) lcpElements[name] = lcpItem.snippet;
    } finally {
      await chrome.kill();
    }
  }
  const m = {};
  for (const k of Object.keys(samples[0])) m[k] = median(samples.map((s) => s[k]));
  results.push({ name, ...m });
}

console.log(`| page | perf | a11y | FCP ms | LCP ms | TBT ms | CLS | SI ms | bytes |`);
console.log(`|---|---:|---:|---:|---:|---:|---:|---:|---:|`);
for (const r of results) {
  console.log(`| ${r.name} | ${r.perf} | ${r.a11y} | ${Math.round(r.fcp)} | ${Math.round(r.lcp)} | ${Math.round(r.tbt)} | ${r.cls.toFixed(3)} | ${Math.round(r.si)} | ${Math.round(r.bytes)} |`);
}
for (const [name, el] of Object.entries(lcpElements)) console.log(`LCP element (${name}): \`${el}\``);
console.log(`lighthouse-json: ${JSON.stringify(results)}`);
