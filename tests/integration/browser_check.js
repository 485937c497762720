// Opens the viewer's web page in Debian's headless Chromium (driven by playwright-core from npm; never a
// browser of playwright's own) and checks that the video plays and the stats update.
//   node browser_check.js URL SCREENSHOT.png PROFILE_DIR     (P2PLIVE_NODE_MODULES: where npm put playwright-core)
// Prints one JSON line with what it saw; exits non-zero on failure, with a screenshot either way.
'use strict';

const { openPage, finish, run } = require('./chromium.js');

const [url, screenshot, profile] = process.argv.slice(2);
const PLAY_SECONDS = 3;

async function main() {
  const browser = await openPage(profile);
  const { page } = browser;
  const result = { url };
  try {
    await page.goto(url, { waitUntil: 'load', timeout: 20000 });
    await page.waitForFunction(() => document.getElementById('video').currentTime > 0, null, { timeout: 20000 });
    const start = await page.evaluate(() => ({
      time: document.getElementById('video').currentTime,
      updates: Number(document.getElementById('stats').dataset.updates),
      t: document.getElementById('stats').dataset.t,
    }));
    await page.waitForFunction((t0) => document.getElementById('video').currentTime >= t0 + 3, start.time,
      { timeout: 30000 });
    await page.waitForFunction((s) => Number(document.getElementById('stats').dataset.updates) >= s.updates + 2 &&
      document.getElementById('stats').dataset.t !== s.t, start, { timeout: 10000 });
    Object.assign(result, await page.evaluate(() => ({
      mode: document.getElementById('mode').textContent,
      current_time_s: document.getElementById('video').currentTime,
      peers: document.getElementById('peers').textContent,
      behind: document.getElementById('behind').textContent,
      player_buffer: document.getElementById('player-buffer').textContent,
      down: document.getElementById('down').textContent,
      ontime: document.getElementById('ontime').textContent,
      stats_updates: Number(document.getElementById('stats').dataset.updates),
    })));
    result.advanced_s = result.current_time_s - start.time;
    result.ok = result.advanced_s >= PLAY_SECONDS && result.peers !== '–';
  } catch (e) {
    result.ok = false;
    result.error = String(e.message || e).split('\n')[0];
  }
  await finish(browser, result, screenshot);
}

run(main);
