// The listening page in Debian's headless Chromium (playwright-core from npm): an audio-only stream shows
// the listening layout (no video box, a play button, a moving level meter, the title and the listener
// count), and a new title written to the broadcaster's --now-playing file reaches the page.
// The title must show when its sound plays: the page's media time then must lie within 1 s of the ID3 tag's
// time. The link's QR code is saved as QR.png for the test to read back.
//   node listening_check.js URL SCREENSHOT.png PROFILE_DIR TITLE_FILE NEW_TITLE QR.png
// Prints one JSON line with what it saw; exits non-zero on failure, with a screenshot either way.
'use strict';

const fs = require('fs');
const { openPage, finish, run } = require('./chromium.js');

const [url, screenshot, profile, titleFile, newTitle, qrShot] = process.argv.slice(2);

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
        qr_modules: Number(document.getElementById('qr').dataset.modules || 0),
      };
    }));
    await page.locator('#qr').screenshot({path: qrShot});
    const wroteAt = Date.now();
    fs.writeFileSync(titleFile, newTitle + '\n');
    await page.waitForFunction((t) => document.getElementById('now-playing').textContent === t, newTitle,
      { timeout: 15000 });
    Object.assign(result, await page.evaluate(() => {
      const el = document.getElementById('now-playing');
      return {
        title_after: el.textContent,
        shown_at_ms: Number(el.dataset.shownAtMs),
        shown_at_media_s: Number(el.dataset.mediaTime),
        // "" when the title showed on arrival (no timed ID3, or a time the page could not place)
        id3_pts_ms: el.dataset.id3PtsMs,
        behind: document.getElementById('behind').textContent,
      };
    }));
    result.change_wall_ms = result.shown_at_ms - wroteAt;
    if (result.id3_pts_ms !== '')
      result.title_vs_audio_ms = Math.round(result.shown_at_media_s * 1000 - Number(result.id3_pts_ms));
    result.ok = result.layout === 'listening' && result.video_box_px === 0 && result.play_button_px > 0 &&
      result.title_before.length > 0 && result.meter_peak > 0 && result.page_link.startsWith('p2plive:');
  } catch (e) {
    result.ok = false;
    result.error = String(e.message || e).split('\n')[0];
  }
  await finish(browser, result, screenshot);
}

run(main);
