// Debian's headless Chromium, driven by playwright-core from npm (never a browser of playwright's own),
// for the page checks: the same flags for every one, and the same way to end (a screenshot either way,
// then one JSON line with what was seen, and the exit status).
'use strict';

const path = require('path');
const { chromium } = require(path.join(process.env.P2PLIVE_NODE_MODULES, 'playwright-core'));

async function openPage(profile) {
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--autoplay-policy=no-user-gesture-required'],
  });
  const page = context.pages()[0] || await context.newPage();
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
  return { context, page, consoleLines };
}

async function finish({ context, page, consoleLines }, result, screenshot) {
  result.console = consoleLines.slice(-20);
  await page.screenshot({ path: screenshot }).catch(() => {});
  await context.close();
  console.log(JSON.stringify(result));
  process.exit(result.ok ? 0 : 1);
}

function run(main) {
  main().catch((e) => { console.log(JSON.stringify({ ok: false, error: String(e) })); process.exit(1); });
}

module.exports = { openPage, finish, run };
