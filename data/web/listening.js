// The listening layout's own parts: the big play button and the level meter. The media element starts
// muted (browsers let only muted media start on its own); the button turns the sound on and plays.
'use strict';

const PLAY_ICON = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M8 5.5v13l11-6.5z"/></svg>';
const PAUSE_ICON =
    '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M7 5h3.5v14H7zM13.5 5H17v14h-3.5z"/></svg>';

// Wires the play button to the media element; the button shows what a click will do.
function setUpPlayButton(media, button, meter) {
  const sounding = () => !media.paused && !media.muted;
  const render = () => {
    const playing = sounding();
    button.innerHTML = playing ? PAUSE_ICON : PLAY_ICON;
    button.setAttribute('aria-label', playing ? 'Pause' : 'Play with sound');
    button.dataset.state = playing ? 'playing' : (media.paused ? 'paused' : 'muted');
  };
  button.addEventListener('click', () => {
    if (sounding()) {
      media.pause();
    } else {
      media.muted = false;
      // Inside the click: the one moment a browser lets an AudioContext start.
      meter.start();
      const started = media.play();
      if (started && started.catch) started.catch(() => {});
    }
    render();
  });
  for (const e of ['play', 'pause', 'volumechange', 'playing']) media.addEventListener(e, render);
  render();
}

// A level meter from the sound itself: Web Audio's AnalyserNode, drawn as bars (log-spaced bands) and the
// waveform on a canvas. Without Web Audio (or if the browser refuses it) the music still plays, and the
// meter stays still. canvas.dataset.peak holds the highest level (0..1) seen in the last second.
class LevelMeter {
  constructor(media, canvas, onLevel) {
    this.media = media;
    this.canvas = canvas;
    this.onLevel = onLevel || (() => {});
    this.analyser = null;
    this.context = null;
  }

  // Call from a user gesture. createMediaElementSource takes the element's sound into the graph for
  // good, so it is made only when the context can run; a suspended context would silence the music.
  start() {
    if (this.context) {
      this.context.resume().catch(() => {});
      return;
    }
    const Context = window.AudioContext || window.webkitAudioContext;
    if (!Context) return;
    try {
      const context = new Context();
      const analyser = context.createAnalyser();
      analyser.fftSize = 2048;
      analyser.smoothingTimeConstant = 0.75;
      context.createMediaElementSource(this.media).connect(analyser);
      analyser.connect(context.destination);
      context.resume().catch(() => {});
      this.context = context;
      this.analyser = analyser;
    } catch (e) {
      return;  // e.g. the element already belongs to another context: no meter, the sound is untouched
    }
    this.freq = new Uint8Array(this.analyser.frequencyBinCount);
    this.wave = new Float32Array(this.analyser.fftSize);
    this.peaks = [];  // [{ at, level }] over the last second
    this.bars = new Float32Array(40);
    const draw = () => {
      this.draw();
      requestAnimationFrame(draw);
    };
    requestAnimationFrame(draw);
  }

  draw() {
    const {canvas, analyser} = this;
    // The canvas is drawn at the screen's resolution, whatever its CSS size.
    const ratio = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(canvas.clientWidth * ratio));
    const h = Math.max(1, Math.round(canvas.clientHeight * ratio));
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
    }
    analyser.getByteFrequencyData(this.freq);
    analyser.getFloatTimeDomainData(this.wave);

    let level = 0;
    for (const v of this.wave) level = Math.max(level, Math.abs(v));
    level = Math.min(1, level);
    const now = performance.now();
    this.peaks.push({at: now, level});
    while (this.peaks.length && now - this.peaks[0].at > 1000) this.peaks.shift();
    const peak = this.peaks.reduce((m, p) => Math.max(m, p.level), 0);
    canvas.dataset.peak = peak.toFixed(3);
    this.onLevel(level);

    const ctx = canvas.getContext('2d');
    ctx.clearRect(0, 0, w, h);
    // Bands spaced evenly in pitch (40 Hz to 16 kHz), as ears hear them; a falling cap keeps motion smooth.
    const nyquist = this.context.sampleRate / 2;
    const n = this.bars.length;
    const gap = Math.max(1, Math.round(w / n * 0.25));
    const barW = w / n - gap;
    for (let i = 0; i < n; ++i) {
      const lo = 40 * Math.pow(400, i / n), hi = 40 * Math.pow(400, (i + 1) / n);
      const a = Math.floor(lo / nyquist * this.freq.length);
      const b = Math.max(a + 1, Math.ceil(hi / nyquist * this.freq.length));
      let v = 0;
      for (let k = a; k < b && k < this.freq.length; ++k) v = Math.max(v, this.freq[k]);
      v /= 255;
      this.bars[i] = Math.max(v, this.bars[i] - 0.02);
      const barH = Math.max(2 * ratio, this.bars[i] * h * 0.9);
      const gradient = ctx.createLinearGradient(0, h, 0, h - barH);
      gradient.addColorStop(0, `hsl(${280 - 240 * i / n}, 85%, 45%)`);
      gradient.addColorStop(1, `hsl(${300 - 240 * i / n}, 95%, 65%)`);
      ctx.fillStyle = gradient;
      ctx.fillRect(i * (barW + gap) + gap / 2, h - barH, barW, barH);
    }
    // The waveform over the bars: a sine tone shows as a moving wave even where it fills one band only.
    ctx.strokeStyle = 'rgba(255, 255, 255, 0.55)';
    ctx.lineWidth = 1.5 * ratio;
    ctx.beginPath();
    const step = Math.max(1, Math.floor(this.wave.length / w));
    for (let x = 0, k = 0; x < w && k < this.wave.length; ++x, k += step) {
      const y = h * 0.45 - this.wave[k] * h * 0.4;
      if (x === 0)
        ctx.moveTo(x, y);
      else
        ctx.lineTo(x, y);
    }
    ctx.stroke();
  }
}

if (typeof module === 'object' && module.exports) module.exports = {setUpPlayButton, LevelMeter};
