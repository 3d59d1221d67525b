// Loads klaxon's status page in Debian's Chromium (headless, through playwright-core), runs
// axe-core on it, saves screenshots at desktop and phone widths, and exits 1 on any serious
// or critical accessibility violation, on a script or a request to another host, or on a page
// that is wider than a phone's screen.
//   node tests/node/status_page_check.js URL ARTIFACT_DIR
// Prints one JSON line: {"violations": [...], "screenshots": [...], "requests": [...]}.
'use strict';
const fs = require('fs');
const path = require('path');
const { chromium } = require('playwright-core');

const [url, outDir] = process.argv.slice(2);
if (!url || !outDir) {
  console.error('usage: status_page_check.js URL ARTIFACT_DIR');
  process.exit(2);
}
const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

async function main() {
  fs.mkdirSync(outDir, { recursive: true });
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox'],
  });
  const report = { violations: [], screenshots: [], requests: [], problems: [] };
  try {
    const widths = [['desktop', 1280, 900, false], ['phone', 390, 844, true]];
    for (const [name, width, height, mobile] of widths) {
      const context = await browser.newContext({ viewport: { width, height }, isMobile: mobile,
                                                 javaScriptEnabled: true });
      const page = await context.newPage();
      const origin = new URL(url).origin;
      page.on('request', (r) => {
        if (!r.url().startsWith(origin) && !r.url().startsWith('data:')) report.requests.push(r.url());
      });
      const resp = await page.goto(url, { waitUntil: 'load' });
      if (!resp || resp.status() !== 200) report.problems.push(`${name}: status ${resp && resp.status()}`);
      const scripts = await page.$$eval('script', (s) => s.length);
      if (scripts) report.problems.push(`${name}: ${scripts} script elements in the page`);
      const scrollWidth = await page.evaluate(() => document.documentElement.scrollWidth);
      if (scrollWidth > width + 1) report.problems.push(`${name}: ${scrollWidth}px wide in a ${width}px screen`);
      const file = path.join(outDir, `status-${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      report.screenshots.push(file);
      await page.addScriptTag({ content: axeSource });
      const result = await page.evaluate(async () => await window.axe.run(document, {
        resultTypes: ['violations'],
      }));
      for (const v of result.violations) {
        report.violations.push({ width: name, id: v.id, impact: v.impact, help: v.help,
                                 nodes: v.nodes.length });
      }
      await context.close();
    }
  } finally {
    await browser.close();
  }
  console.log(JSON.stringify(report));
  const bad = report.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  process.exit(bad.length || report.requests.length || report.problems.length ? 1 : 0);
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : String(e));
  process.exit(3);
});
