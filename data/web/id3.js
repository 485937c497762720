// Track titles from the stream's timed ID3 (MPEG-TS stream_type 0x15): the node writes an ID3v2.4 tag with a
// TIT2 frame right after the media packet it belongs to, with that packet's PTS, and repeats it at every
// join point. The page shows a title when the matching sound plays, not when its bytes arrive.
'use strict';

// The few ID3v2 parts a now-playing line needs: the header, syncsafe sizes, frames, and TIT2's text.
// Returns the tag's text frames as { TIT2: 'Artist – Title', ... }; null when the bytes are not an ID3v2 tag.
function parseId3(bytes) {
  if (!bytes || bytes.length < 10 || bytes[0] !== 0x49 || bytes[1] !== 0x44 || bytes[2] !== 0x33) return null;
  const version = bytes[3];  // 3 = ID3v2.3, 4 = ID3v2.4; 2 has three-letter frame ids, which we do not read
  if (version < 3 || version > 4) return null;
  const flags = bytes[5];
  const syncsafe = (i) => ((bytes[i] & 0x7f) << 21) | ((bytes[i + 1] & 0x7f) << 14) |
      ((bytes[i + 2] & 0x7f) << 7) | (bytes[i + 3] & 0x7f);
  const plain32 = (i) => ((bytes[i] << 24) | (bytes[i + 1] << 16) | (bytes[i + 2] << 8) | bytes[i + 3]) >>> 0;
  const end = Math.min(bytes.length, 10 + syncsafe(6));
  let pos = 10;
  if (flags & 0x40) {  // an extended header: v2.4 counts itself in its syncsafe size, v2.3 does not
    pos += version === 4 ? syncsafe(pos) : 4 + plain32(pos);
  }
  const frames = {};
  while (pos + 10 <= end) {
    if (bytes[pos] === 0) break;  // padding
    const id = String.fromCharCode(bytes[pos], bytes[pos + 1], bytes[pos + 2], bytes[pos + 3]);
    // v2.4 frame sizes are syncsafe; v2.3's are plain 32-bit numbers.
    const size = version === 4 ? syncsafe(pos + 4) : plain32(pos + 4);
    const body = pos + 10;
    if (size === 0 || body + size > end) break;  // a damaged tag: keep what was read before it
    const frameFlags = bytes[pos + 9];
    // Compressed, encrypted or unsynchronised frames (v2.4 format flags) are not for us: skip them.
    const opaque = version === 4 ? (frameFlags & 0x0e) !== 0 : (frameFlags & 0xc0) !== 0;
    if (id[0] === 'T' && id !== 'TXXX' && !opaque)
      frames[id] = decodeId3Text(bytes.subarray(body, body + size));
    pos = body + size;
  }
  return frames;
}

// A text frame: one encoding byte, then the text. 0 = latin1, 1 = UTF-16 with a BOM, 2 = UTF-16BE,
// 3 = UTF-8. v2.4 may hold several strings split by NULs; a now-playing line is the first.
function decodeId3Text(body) {
  if (body.length === 0) return '';
  const encoding = body[0];
  const text = body.subarray(1);
  let s;
  try {
    if (encoding === 0)
      s = new TextDecoder('latin1').decode(text);
    else if (encoding === 3)
      s = new TextDecoder('utf-8').decode(text);
    else if (encoding === 1)
      s = new TextDecoder('utf-16').decode(text);  // the decoder reads the BOM
    else if (encoding === 2)
      s = new TextDecoder('utf-16be').decode(text);
    else
      return '';
  } catch (e) {
    return '';
  }
  return s.split('\0')[0].trim();
}

// When titles show. Timed titles wait in a queue until the media element reaches their time; titles whose
// time is not known (no plausible mapping, or the stats.json fallback) show at once.
//   onShow(title, { mediaTime, id3PtsMs })  — id3PtsMs null when shown on arrival
class TitleSchedule {
  constructor(media, onShow) {
    this.media = media;
    this.onShow = onShow;
    this.queue = [];  // [{ title, atS }] in the media element's seconds, oldest first
    this.shown = '';
    this.lastId3WallMs = 0;  // Date.now() of the last ID3 title; 0 = none yet
  }

  // A restarted player starts a new timeline (mpegts.js rebases again): queued times mean nothing now.
  reset() { this.queue = []; }

  // An ID3 title. ptsMs is on the media element's timeline in ms, or null when that is not known.
  id3(title, ptsMs) {
    this.lastId3WallMs = Date.now();
    if (ptsMs === null) {
      this.queue = [];
      this.show(title, null);
      return;
    }
    // The node repeats the tag every second or so; queue a title only when it changes, so the shown
    // title keeps the time of the tag that first carried it and the queue stays short.
    const last = this.queue.length ? this.queue[this.queue.length - 1].title : this.shown;
    if (title === last) return;
    this.queue.push({title, atS: ptsMs / 1000});
    this.tick();
  }

  // The node's own reading (stats.json now_playing): used only while no ID3 title comes, e.g. a node
  // or a stream that does not carry the timed ID3.
  fallback(title) {
    if (title && title !== this.shown) {
      this.queue = [];
      this.show(title, null);
    }
  }

  id3SilentFor(ms) { return this.lastId3WallMs === 0 || Date.now() - this.lastId3WallMs > ms; }

  // Called often (every 50 ms and on timeupdate): shows the newest queued title whose time has come.
  // A latency-chasing jump past several titles lands on the last one passed.
  tick() {
    const now = this.media.currentTime;
    let due = null;
    while (this.queue.length && this.queue[0].atS <= now) due = this.queue.shift();
    if (due) this.show(due.title, Math.round(due.atS * 1000));
  }

  show(title, id3PtsMs) {
    if (title === this.shown) return;
    this.shown = title;
    this.onShow(title, {mediaTime: this.media.currentTime, id3PtsMs});
  }
}

// Maps a TIMED_ID3_METADATA_ARRIVED pts to the media element's timeline, in ms, or null when it cannot.
// mpegts.js 1.8.2 already subtracts its remuxer's timestamp base (the first sample's dts, which becomes
// time 0 in the media element; transmuxing-controller.js _onTimedID3Metadata), so its pts is on the
// element's timeline as long as the remuxer has not shifted the samples (it does on a timestamp jump).
// A version that left the pts raw would put it hours away; so would a broadcaster that restarted its
// clock. The tag comes right after its media packet, so its time must lie near the newest buffered sound:
// outside that window the mapping is not trusted and the title shows on arrival.
const ID3_WINDOW_BEHIND_S = 10;  // the buffer the page could hold behind the newest sound (a pause)
const ID3_WINDOW_AHEAD_S = 5;    // a tag may be demuxed before its own samples reach the buffer
function mapId3Pts(ptsMs, media) {
  if (typeof ptsMs !== 'number' || !isFinite(ptsMs)) return null;
  const b = media.buffered;
  const newest = b.length ? b.end(b.length - 1) : media.currentTime;
  const atS = ptsMs / 1000;
  if (atS < Math.min(media.currentTime, newest) - ID3_WINDOW_BEHIND_S || atS > newest + ID3_WINDOW_AHEAD_S) {
    return null;
  }
  return ptsMs;
}

// For the page checks in node (tests); a browser loads this file as a plain script.
if (typeof module === 'object' && module.exports)
  module.exports = {parseId3, decodeId3Text, TitleSchedule, mapId3Pts};
