// The viewer's page, served by its own p2plive node. mpegts.js plays /stream.ts through Media Source
// Extensions with a small buffer (low latency); browsers without MSE fall back to the node's HLS.
// id3.js times the track titles, listening.js draws the listening layout, share.js the link.
'use strict';

const video = document.getElementById('video');
const base = new URL('.', location.href);
const streamUrl = new URL('stream.ts', base).href;
const hlsUrl = new URL('live.m3u8', base).href;
const $ = (id) => document.getElementById(id);
$('ts-url').textContent = streamUrl;
$('hls-url').textContent = hlsUrl;

let player = null;
// What you see is behind live by the node's own lag (the swarm, reordering) plus what the player buffers.
let nodeBehindMs = null;
// What stats.json says the stream carries ("audio", "video"; "" before the node knows): it decides the
// layout; before it knows, mpegts.js's MEDIA_INFO does.
let statsMedia = '';

// stats.json's now_playing stands in for the timed ID3 when none comes: within this long of the first
// title at the start, and once ID3 titles stop for longer than a few join points (a video stream's
// keyframes may be seconds apart).
const FALLBACK_FIRST_MS = 3000;
const FALLBACK_SILENT_MS = 10000;
let statsTitleSinceMs = 0;

function setStatus(text) { $('status').textContent = text; }

const titles = new TitleSchedule(video, showNowPlaying);
const meter = new LevelMeter(video, $('level-meter'), (level) => {
  // The play button's ring breathes with the sound.
  $('play').style.setProperty('--level', level.toFixed(3));
});
const share = new SharePanel({
  link: $('page-link'),
  copy: $('copy-link'),
  qr: $('qr'),
  open: $('open-app'),
  other: $('open-other'),
  otherCommand: $('open-other-command'),
  otherCopy: $('copy-command'),
  register: $('register-handler'),
  registerResult: $('register-result'),
});
setUpPlayButton(video, $('play'), meter);

function canUseMpegts() {
  return typeof mpegts !== 'undefined' && mpegts.isSupported() && mpegts.getFeatureList().mseLivePlayback;
}

function startMpegts() {
  $('mode').textContent = 'mpegts.js, low latency';
  titles.reset();  // a new player, a new timeline
  player = mpegts.createPlayer({ type: 'mpegts', isLive: true, url: streamUrl }, {
    enableWorker: false,
    enableStashBuffer: false,       // hand bytes to the decoder as they arrive
    lazyLoad: false,
    // The node starts the stream at the last keyframe, up to a keyframe interval behind live: once the
    // player holds more than that, it jumps ahead to near the newest frame it has.
    liveBufferLatencyChasing: true,
    liveBufferLatencyMaxLatency: 0.9,
    liveBufferLatencyMinRemain: 0.3,
  });
  player.attachMediaElement(video);
  player.on(mpegts.Events.ERROR, (type, detail) => restart(`stream error (${type}: ${detail}); reconnecting`));
  player.on(mpegts.Events.LOADING_COMPLETE, () => restart('the stream ended; reconnecting'));
  player.on(mpegts.Events.MEDIA_INFO, (info) => {
    if (!statsMedia && info) setLayout(info.hasVideo ? 'video' : 'listening');
  });
  player.on(mpegts.Events.TIMED_ID3_METADATA_ARRIVED, (m) => {
    const frames = parseId3(m && m.data);
    if (frames && 'TIT2' in frames) titles.id3(frames.TIT2, mapId3Pts(m.pts, video));
  });
  player.load();
  const started = player.play();
  if (started && started.catch) started.catch(() => setStatus('press play to start'));
}

function restart(reason) {
  setStatus(reason);
  if (player) {
    player.destroy();
    player = null;
  }
  setTimeout(() => { setStatus(''); startMpegts(); }, 1000);
}

function startHls() {
  if (!video.canPlayType('application/vnd.apple.mpegurl')) {
    $('mode').textContent = 'no player';
    setStatus('This browser cannot play the stream here; open one of the addresses below in VLC or mpv.');
    return;
  }
  $('mode').textContent = 'HLS';
  video.src = hlsUrl;
  video.play().catch(() => setStatus('press play to start'));
}

function fmtMs(ms) { return ms >= 10000 ? `${(ms / 1000).toFixed(0)} s` : `${Math.round(ms)} ms`; }
function fmtRate(kbit) { return kbit >= 1000 ? `${(kbit / 1000).toFixed(2)} Mbit/s` : `${Math.round(kbit)} kbit/s`; }

async function refreshStats() {
  try {
    const response = await fetch(new URL('stats.json', base), { cache: 'no-store' });
    const s = await response.json();
    $('peers').textContent = s.peers;
    nodeBehindMs = s.started ? s.behind_live_ms : null;
    if (!s.started) $('behind').textContent = 'waiting for a keyframe';
    $('delay').textContent = fmtMs(s.delay_ms_p50);
    $('down').textContent = fmtRate(s.down_kbit_s);
    $('up').textContent = fmtRate(s.up_kbit_s);
    $('ontime').textContent = `${s.on_time_percent.toFixed(2)} %`;
    useStatsTitle(s.now_playing || '');
    share.setLink(s.link || '');
    showListeners(Number(s.listeners) || 0, Number(s.listeners_peak) || 0);
    if (s.media === 'audio' || s.media === 'video') {
      statsMedia = s.media;
      setLayout(s.media === 'audio' ? 'listening' : 'video');
    }
    const stats = $('stats');
    stats.dataset.updates = String(Number(stats.dataset.updates) + 1);
    stats.dataset.t = String(s.t);
  } catch (e) {
    setStatus('cannot reach the p2plive node; is `p2plive watch` still running?');
  }
}

// The node's own reading of the title runs ahead of the sound by the player's buffer; it shows only
// when the stream's timed ID3 does not come (see FALLBACK_*).
function useStatsTitle(title) {
  if (!title) return;
  const now = Date.now();
  if (!statsTitleSinceMs) statsTitleSinceMs = now;
  const noneYet = titles.lastId3WallMs === 0 && now - statsTitleSinceMs >= FALLBACK_FIRST_MS;
  const stopped = titles.lastId3WallMs !== 0 && titles.id3SilentFor(FALLBACK_SILENT_MS);
  if (noneYet || stopped) titles.fallback(title);
}

function showListeners(count, peak) {
  const el = $('listeners');
  el.dataset.value = String(count);
  el.textContent = count > 0 ? `${count} listening · peak ${Math.max(count, peak)}` : '';
}

function refreshLocal() {
  const now = new Date();
  $('clock').textContent = now.toTimeString().slice(0, 8) + '.' + String(now.getMilliseconds()).padStart(3, '0');
  if (video.buffered.length > 0) {
    const aheadMs = Math.max(0, video.buffered.end(video.buffered.length - 1) - video.currentTime) * 1000;
    $('player-buffer').textContent = fmtMs(aheadMs);
    if (nodeBehindMs !== null) $('behind').textContent = fmtMs(nodeBehindMs + aheadMs);
  }
}

// The attributes are for the page checks (tests/integration/listening_check.js): when a title showed, at
// which media time, and the ID3 time it was due at ("" when it showed on arrival).
function showNowPlaying(title, {mediaTime, id3PtsMs}) {
  const el = $('now-playing');
  el.textContent = title;
  el.title = title;
  el.dataset.changes = String(Number(el.dataset.changes) + 1);
  el.dataset.shownAtMs = String(Date.now());
  el.dataset.mediaTime = mediaTime.toFixed(3);
  el.dataset.id3PtsMs = id3PtsMs === null ? '' : String(id3PtsMs);
  document.title = title ? `${title} · p2p-live` : 'p2p-live';
}

// "listening": sound alone, no video box; a big play button and the level meter. "video": today's player.
function setLayout(kind) {
  if (document.body.dataset.layout === kind) return;
  document.body.dataset.layout = kind;
  $('unmute').hidden = kind === 'listening' || !video.muted;
}

$('unmute').addEventListener('click', () => {
  video.muted = false;
  $('unmute').hidden = true;
  video.play();
});
video.addEventListener('volumechange', () => {
  $('play-hint').textContent = video.muted ? 'tap to listen' : '';
  if (!video.muted) $('unmute').hidden = true;
});
video.addEventListener('timeupdate', () => titles.tick());

if (canUseMpegts()) startMpegts();
else startHls();
refreshStats();
setInterval(refreshStats, 1000);
setInterval(refreshLocal, 100);
setInterval(() => titles.tick(), 50);
