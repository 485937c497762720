// The listening page in Debian's headless Chromium (playwright-core from npm): an audio-only stream shows
// the listening layout (no video box, a play button, a moving level meter, the title and the listener
// count), and a new title written to the broadcaster's --now-playing file reaches the page.
//   node listening_check.js URL SCREENSHOT.png PROFILE_DIR TITLE_FILE NEW_TITLE
// Prints one JSON line with what it saw; exits non-zero on failure, with a screenshot either way.
'use strict';

const fs = require('fs');
const { openPage, finish, run } = require('./chromium.js');

const [url, screenshot, profile, titleFile, newTitle] = process.argv.slice(2);

async function main() {
  const browser = await openPage(profile);
  const { page } = browser;
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
        page_link: document.getElementById('page-link').textContent,
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
      result.title_before.length > 0 && result.meter_peak > 0 && result.page_link.startsWith('p2plive:');
  } catch (e) {
    result.ok = false;
    result.error = String(e.message || e).split('\n')[0];
  }
  await finish(browser, result, screenshot);
}

run(main);
