"""Audio packets compared byte for byte: what an encoder made against what a viewer wrote."""

import hashlib
import subprocess


def audio_packet_hashes(media):
    """The MD5 of every audio packet's bytes, in order. ADTS headers are stripped (MPEG-TS carries AAC in
    them, other containers do not), as are Opus-in-TS control headers (FFmpeg's demuxer does that)."""
    codec = audio_codecs(media)
    bsf = ["-bsf:a", "aac_adtstoasc"] if codec == ["aac"] and media.endswith(".ts") else []
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", media, "-map", "0:a", "-c", "copy"] + bsf +
                         ["-f", "framemd5", "-"], check=True, capture_output=True, text=True).stdout
    # stream, dts, pts, duration, size, hash[, side data...]
    return [line.split(",")[5].strip() for line in out.splitlines() if line and not line.startswith("#")]


def audio_codecs(media):
    out = subprocess.run(["ffprobe", "-v", "error", "-select_streams", "a", "-show_entries", "stream=codec_name",
                          "-of", "csv=p=0", media], check=True, capture_output=True, text=True).stdout
    return sorted(set(out.split()))  # a stream can be listed under its program as well


def compare(sent, got):
    """(packets of `got` equal to the run of `sent` that starts at got's first packet, len(got)); a viewer
    joins mid-stream, so its packets are a run of the encoder's."""
    if not got or got[0] not in sent:
        return 0, len(got)
    start = sent.index(got[0])
    return sum(a == b for a, b in zip(sent[start:start + len(got)], got)), len(got)


def dumped_packet_hashes(path):
    """The MD5 of every packet in a dump of 4-byte little-endian lengths, each followed by its bytes."""
    with open(path, "rb") as f:
        data = f.read()
    hashes, at = [], 0
    while at + 4 <= len(data):
        size = int.from_bytes(data[at:at + 4], "little")
        hashes.append(hashlib.md5(data[at + 4:at + 4 + size]).hexdigest())
        at += 4 + size
    return hashes
