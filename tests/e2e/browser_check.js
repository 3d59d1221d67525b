#!/usr/bin/env node
// browser_check.js — open a page in headless Chromium (Debian's /usr/bin/chromium through
// playwright-core), run axe-core in it, and take a full-page screenshot at each width.
//
//   node tests/e2e/browser_check.js --url URL --out PREFIX.png [--widths 1280,390]
//                                   [--fail-on serious,critical]
//
// Writes PREFIX-<width>.png for each width. Prints one JSON object on stdout:
//   {"url", "screenshots": [paths], "violations": [{id, impact, help, nodes}],
//    "scripts": <script elements>, "svgs": <svg elements>, "offhost": [requests to other hosts],
//    "console_errors": [..]}
// Exit 0 when no violation has an impact in --fail-on and nothing was fetched from another
// host; 1 otherwise; 2 for a usage error. Shared by the tests that need a real browser: keep
// the CLI stable.
'use strict';
const path = require('path');
const fs = require('fs');

const NODE_MODULES = path.join(__dirname, '..', 'node', 'node_modules');
const { chromium } = require(path.join(NODE_MODULES, 'playwright-core'));
const AXE = path.join(NODE_MODULES, 'axe-core', 'axe.min.js');

function args(argv) {
  const o = { widths: [1280, 390], failOn: ['serious', 'critical'] };
  for (let i = 2; i < argv.length; i++) {
    const a = argv[i], v = argv[i + 1];
    if (a === '--url') { o.url = v; i++; }
    else if (a === '--out') { o.out = v; i++; }
    else if (a === '--widths') { o.widths = v.split(',').map(Number); i++; }
    else if (a === '--fail-on') { o.failOn = v.split(','); i++; }
    else { return null; }
  }
  if (!o.url || !o.out || o.widths.some((w) => !(w > 0))) return null;
  return o;
}

(async () => {
  const o = args(process.argv);
  if (!o) {
    process.stderr.write('usage: browser_check.js --url URL --out PREFIX.png [--widths 1280,390] ' +
                         '[--fail-on serious,critical]\n');
    process.exit(2);
  }
  const origin = new URL(o.url).host;
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium',
                                          args: ['--no-sandbox'] });
  const result = { url: o.url.replace(/token=[^&]*/, 'token=…'), screenshots: [], violations: [],
                   scripts: 0, svgs: 0, offhost: [], console_errors: [] };
  try {
    for (const width of o.widths) {
      const page = await browser.newPage({ viewport: { width, height: 900 } });
      page.on('request', (r) => {
        const u = new URL(r.url());
        if (u.protocol !== 'data:' && u.host !== origin) result.offhost.push(r.url());
      });
      page.on('console', (m) => { if (m.type() === 'error') result.console_errors.push(m.text()); });
      const resp = await page.goto(o.url, { waitUntil: 'load' });
      if (!resp || resp.status() !== 200) throw new Error('HTTP ' + (resp && resp.status()));
      const counts = await page.evaluate(() => ({
        scripts: document.querySelectorAll('script').length,
        svgs: document.querySelectorAll('svg').length }));
      result.scripts = counts.scripts;
      result.svgs = counts.svgs;
      // axe goes in through the DevTools protocol after the counts (the page itself has none,
      // and its Content-Security-Policy rightly refuses a script tag)
      await page.evaluate(fs.readFileSync(AXE, 'utf8'));
      const axe = await page.evaluate(async () => await window.axe.run(document));
      for (const v of axe.violations) {
        if (o.failOn.includes(v.impact) && !result.violations.some((x) => x.id === v.id))
          result.violations.push({ id: v.id, impact: v.impact, help: v.help,
                                   nodes: v.nodes.slice(0, 3).map((n) => n.html) });
      }
      const shot = o.out.replace(/\.png$/, '') + '-' + width + '.png';
      await page.screenshot({ path: shot, fullPage: true });
      result.screenshots.push(shot);
      await page.close();
    }
  } finally {
    await browser.close();
  }
  process.stdout.write(JSON.stringify(result) + '\n');
  process.exit(result.violations.length || result.offhost.length ? 1 : 0);
})().catch((e) => { process.stderr.write(String(e && e.stack || e) + '\n'); process.exit(1); });
