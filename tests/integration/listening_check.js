// The listening page in Debian's headless Chromium (playwright-core from npm): an audio-only stream shows
// the listening layout (no video box, a play button, a moving level meter, the title and the listener
// count), and a new title written to the broadcaster's --now-playing file reaches the page.
//   node listening_check.js URL SCREENSHOT.png PROFILE_DIR TITLE_FILE NEW_TITLE
// Prints one JSON line with what it saw; exits non-zero on failure, with a screenshot either way.
'use strict';

const fs = require('fs');
const path = require('path');
const { chromium } = require(path.join(process.env.P2PLIVE_NODE_MODULES, 'playwright-core'));

const [url, screenshot, profile, titleFile, newTitle] = process.argv.slice(2);

async function main() {
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--autoplay-policy=no-user-gesture-required'],
  });
  const page = context.pages()[0] || await context.newPage();
  await page.setViewportSize({ width: 1100, height: 700 });
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
  const result = { url };
  try {
    await page.goto(url, { waitUntil: 'load', timeout: 20000 });
    await page.waitForFunction(() => document.body.dataset.layout === 'listening', null, { timeout: 20000 });
    await page.click('#play');  // sound on: the meter hears the music
    await page.waitForFunction(() => document.getElementById('video').currentTime > 3, null, { timeout: 30000 });
    await page.waitForFunction(() => Number(document.getElementById('level-meter').dataset.peak) > 0, null,
      { timeout: 10000 });
    await page.waitForFunction(() => Number(document.getElementById('listeners').dataset.value) >= 1, null,
      { timeout: 15000 });
    Object.assign(result, await page.evaluate(() => {
      const box = document.querySelector('.player').getBoundingClientRect();
      const play = document.getElementById('play').getBoundingClientRect();
      return {
        layout: document.body.dataset.layout,
        video_box_px: box.width * box.height,
        play_button_px: play.width * play.height,
        title_before: document.getElementById('now-playing').textContent,
        listeners: document.getElementById('listeners').textContent,
        meter_peak: Number(document.getElementById('level-meter').dataset.peak),
      };
    }));
    const wroteAt = Date.now();
    fs.writeFileSync(titleFile, newTitle + '\n');
    await page.waitForFunction((t) => document.getElementById('now-playing').textContent === t, newTitle,
      { timeout: 15000 });
    Object.assign(result, await page.evaluate(() => ({
      title_after: document.getElementById('now-playing').textContent,
      shown_at_ms: Number(document.getElementById('now-playing').dataset.shownAtMs),
      behind: document.getElementById('behind').textContent,
    })));
    result.change_wall_ms = result.shown_at_ms - wroteAt;
    result.ok = result.layout === 'listening' && result.video_box_px === 0 && result.play_button_px > 0 &&
      result.title_before.length > 0 && result.meter_peak > 0;
  } catch (e) {
    result.ok = false;
    result.error = String(e.message || e).split('\n')[0];
  }
  result.console = consoleLines.slice(-20);
  await page.screenshot({ path: screenshot }).catch(() => {});
  await context.close();
  console.log(JSON.stringify(result));
  process.exit(result.ok ? 0 : 1);
}

main().catch((e) => { console.log(JSON.stringify({ ok: false, error: String(e) })); process.exit(1); });
