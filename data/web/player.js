// The viewer's page, served by its own p2plive node. mpegts.js plays /stream.ts through Media Source
// Extensions with a small buffer (low latency); browsers without MSE fall back to the node's HLS.
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

function setStatus(text) { $('status').textContent = text; }

function canUseMpegts() {
  return typeof mpegts !== 'undefined' && mpegts.isSupported() && mpegts.getFeatureList().mseLivePlayback;
}

function startMpegts() {
  $('mode').textContent = 'mpegts.js, low latency';
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
    const stats = $('stats');
    stats.dataset.updates = String(Number(stats.dataset.updates) + 1);
    stats.dataset.t = String(s.t);
  } catch (e) {
    setStatus('cannot reach the p2plive node; is `p2plive watch` still running?');
  }
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

$('unmute').addEventListener('click', () => {
  video.muted = false;
  $('unmute').hidden = true;
  video.play();
});

if (canUseMpegts()) startMpegts();
else startHls();
refreshStats();
setInterval(refreshStats, 1000);
setInterval(refreshLocal, 100);
