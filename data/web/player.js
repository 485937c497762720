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
    showNowPlaying(s.now_playing || '');
    if (s.link && $('page-link').textContent !== s.link) showLink(s.link);
    if (s.listeners > 0) {
      $('listeners').textContent = `${s.listeners} listening · peak ${Math.max(s.listeners, s.listeners_peak)}`;
      $('listeners').dataset.value = String(s.listeners);
    }
    if (s.media === 'audio' && document.body.dataset.layout !== 'listening') useListeningLayout();
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

// The title as the node last read it from the stream's timed ID3. The node is ahead of the player by the
// player's buffer (under a second with latency chasing), so a title shows that much before its music.
function showNowPlaying(title) {
  const el = $('now-playing');
  if (title === el.textContent) return;
  el.textContent = title;
  el.dataset.changes = String(Number(el.dataset.changes) + 1);
  el.dataset.shownAtMs = String(Date.now());
  el.dataset.mediaTime = String(video.currentTime);
}

// Sound alone: no video box; a big play button and a level meter drawn from the audio itself.
function useListeningLayout() {
  document.body.dataset.layout = 'listening';
  $('listening').hidden = false;
  $('unmute').hidden = true;
  $('play').addEventListener('click', () => {
    if (video.paused || video.muted) {
      video.muted = false;
      video.play();
      startMeter();
      $('play').textContent = '❚❚';
    } else {
      video.pause();
      $('play').textContent = '▶';
    }
  });
  startMeter();
}

let meterStarted = false;
function startMeter() {
  if (meterStarted) return;
  const Context = window.AudioContext || window.webkitAudioContext;
  if (!Context) return;  // no Web Audio: the music plays, without a meter
  let analyser;
  try {
    const audio = new Context();
    analyser = audio.createAnalyser();
    audio.createMediaElementSource(video).connect(analyser);
    analyser.connect(audio.destination);
    audio.resume();
  } catch (e) {
    return;
  }
  meterStarted = true;
  analyser.fftSize = 256;
  const bins = new Uint8Array(analyser.frequencyBinCount);
  const canvas = $('level-meter');
  const ctx = canvas.getContext('2d');
  let peak = 0, peakAt = 0;
  const draw = () => {
    analyser.getByteFrequencyData(bins);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    const bars = 48, width = canvas.width / bars;
    let level = 0;
    for (let i = 0; i < bars; ++i) {
      const v = bins[Math.floor(i * bins.length / bars)] / 255;
      level = Math.max(level, v);
      ctx.fillStyle = `hsl(${30 + 200 * i / bars}, 80%, 55%)`;
      ctx.fillRect(i * width + 1, canvas.height * (1 - v), width - 2, canvas.height * v);
    }
    const now = performance.now();
    if (level > peak || now - peakAt > 1000) { peak = level; peakAt = now; }
    canvas.dataset.peak = peak.toFixed(3);
    requestAnimationFrame(draw);
  };
  draw();
}

// The link this node plays, to copy and share; and a web+p2plive: link this page was opened with
// (?open=...), when it names another stream: this node plays one stream, so it says what to run.
function showLink(link) {
  $('page-link').textContent = link;
  const opened = new URLSearchParams(location.search).get('open');
  if (!opened) return;
  const wanted = opened.replace(/^web\+p2plive:/, '').replace(/^(?!p2plive:)/, 'p2plive:');
  if (wanted === link) return;
  const box = $('open-other');
  box.hidden = false;
  box.textContent = `This node plays another stream. To watch this one run: p2plive watch '${wanted}' --play`;
}

async function copyText(text) {
  try {
    await navigator.clipboard.writeText(text);
    return true;
  } catch (e) {  // no clipboard API here (or no permission): select the text for Ctrl+C
    const range = document.createRange();
    range.selectNodeContents($('page-link'));
    getSelection().removeAllRanges();
    getSelection().addRange(range);
    return document.execCommand && document.execCommand('copy');
  }
}

$('copy-link').addEventListener('click', async () => {
  $('copy-link').textContent = (await copyText($('page-link').textContent)) ? 'Copied' : 'Select and copy';
});

$('register-handler').addEventListener('click', () => {
  try {
    navigator.registerProtocolHandler('web+p2plive', `${location.origin}/?open=%s`);
    $('register-result').textContent = 'asked; the browser confirms it';
  } catch (e) {
    $('register-result').textContent = `this browser refused: ${e.message}`;
  }
});

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
