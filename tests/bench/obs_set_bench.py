"""A long DJ set from OBS: headless libobs (tests/obs/headless_stream) encodes with obs_x264 and ffmpeg_aac at
320 kbit/s and streams through the p2p-live module for --minutes, while one viewer stays throughout and
--places more keep coming and going (each visit an exponential time, alternately killed with -9 and stopped
with Ctrl-C).

The picture and the sound come from one source (p2plive_test_marks): every 5 s a white flash and a loud
burst start at the same timestamp. The staying viewer's MPEG-TS then shows A/V sync directly: FFmpeg's
blackdetect and silencedetect find each flash and each burst by their PTS, and the drift is how far their
distance moves over the set. Its audio packets are checked against the encoder's (headless_stream --record):
each must be byte for byte one of them, and a gap in their PTS is a lost frame, to be set against the chunks
the viewer's stats call missing. Memory is the headless OBS's and the staying viewer's RSS, from /proc.

  obs_set_bench.py --build build --out build/bench [--minutes 60] [--places 4] [--mean-watch 120]

Writes OUT/obs_set.json; needs Xvfb and ffmpeg.
"""

import argparse
import json
import os
import random
import re
import signal
import subprocess
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "integration"))
sys.path.insert(0, os.path.join(here, "..", "obs"))
from audio_packets import compare, dumped_packet_hashes  # noqa: E402
from headless_stream_test import Children, LineReader, start_xvfb  # noqa: E402
from swarm_run import Swarm, Visits, stats, status_kib, summarize  # noqa: E402

MARK_PERIOD_S = 5.0  # tests/obs/test_sources.hpp
AUDIO_FRAME_TICKS = 1024 * 90000 // 48000  # one AAC frame in the TS's 90 kHz clock


def mark_onsets(ts_path):
    """(flash PTS list, burst PTS list) in seconds, from one FFmpeg pass over the viewer's file."""
    graph = ("[0:v]scale=160:90,blackdetect=d=0.5:pix_th=0.3:pic_th=0.9[v];"
             "[0:a]silencedetect=n=-20dB:d=1[a]")
    out = subprocess.run(["ffmpeg", "-nostats", "-hide_banner", "-i", ts_path, "-filter_complex", graph,
                          "-map", "[v]", "-map", "[a]", "-f", "null", "-"],
                         capture_output=True, text=True).stderr
    flashes = [float(m) for m in re.findall(r"black_end:(-?[0-9.]+)", out)]
    bursts = [float(m) for m in re.findall(r"silence_end: (-?[0-9.]+)", out)]
    # Both filters close an open stretch at the end of the file: that is no mark.
    end = min(flashes[-1] if flashes else 0, bursts[-1] if bursts else 0)
    return [f for f in flashes if f < end - 1], [b for b in bursts if b < end - 1]


def av_offsets(flashes, bursts):
    """For every flash, the burst nearest to it (within half a period): (flash_s, burst_s - flash_s)."""
    pairs = []
    for f in flashes:
        nearest = min(bursts, key=lambda b: abs(b - f), default=None)
        if nearest is not None and abs(nearest - f) < MARK_PERIOD_S / 2:
            pairs.append((f, nearest - f))
    return pairs


def audio_packets(ts_path):
    """[(pts, md5)] of the file's audio packets, ADTS headers stripped (as the encoder made them)."""
    out = subprocess.run(["ffmpeg", "-v", "error", "-i", ts_path, "-map", "0:a", "-c", "copy", "-bsf:a",
                          "aac_adtstoasc", "-f", "framemd5", "-"], check=True, capture_output=True,
                         text=True).stdout
    rows = [line.split(",") for line in out.splitlines() if line and not line.startswith("#")]
    return [(int(r[2]), r[5].strip()) for r in rows]


def audio_figures(ts_path, dump_path):
    """The viewer's audio against the encoder's: packets equal to one of the encoder's; whether they are one
    unbroken run of the encoder's (then any A/V step in the file was made before the packets reached us);
    frames lost by the PTS."""
    got = audio_packets(ts_path)
    sent = dumped_packet_hashes(dump_path)
    known = set(sent)
    in_run, _ = compare(sent, [h for _, h in got])
    lost = sum(max(0, (b[0] - a[0]) // AUDIO_FRAME_TICKS - 1) for a, b in zip(got, got[1:]))
    return {"packets": len(got), "equal_to_encoder": sum(h in known for _, h in got),
            "in_the_encoders_order": in_run, "encoder_packets": len(sent), "lost_frames_by_pts": lost}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--build", required=True, help="the CMake build folder")
    parser.add_argument("--out", required=True)
    parser.add_argument("--minutes", type=float, default=60)
    parser.add_argument("--places", type=int, default=4, help="viewer places that visits come and go in")
    parser.add_argument("--mean-watch", type=float, default=120, help="seconds a visit lasts on average")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    build = os.path.abspath(args.build)
    p2plive = os.path.join(build, "core", "cli", "p2plive")
    headless = os.path.join(build, "tests", "obs", "headless_stream")
    plugin = os.path.join(build, "plugin", "p2p-live.so")
    data = os.path.join(here, "..", "..", "data")
    rng = random.Random(args.seed)

    swarm = Swarm(p2plive, os.path.join(args.out, "obs_set"))
    children = Children()
    try:
        display = start_xvfb(children, swarm.wd)
        seconds = 60 * args.minutes
        dump = swarm.path("packets.bin")
        headless_proc = children.spawn("headless_stream", [
            headless, "--plugin", plugin, "--plugin-data", data, "--key-file", swarm.key,
            "--listen", f"127.0.0.1:{swarm.port}", "--seconds", str(seconds), "--marks",
            "--audio-bitrate", "320", "--record", dump, "--stats-every", "1", "--log", swarm.path("obs.log")],
            env=dict(os.environ, DISPLAY=display), stdout=subprocess.PIPE, stderr=open(swarm.path("obs.err"), "w"))
        reader = LineReader(headless_proc, swarm.path("obs.out"))
        swarm.link = reader.wait_for("LINK", 60, headless_proc)
        swarm.t0 = time.time()
        stay_ts = swarm.path("staying.ts")
        resident = swarm.start_viewer(extra=["--out", stay_ts])

        visits = Visits(swarm, args.places, args.mean_watch, rng)
        end = swarm.t0 + seconds - 5
        memory, last_sample = [], 0
        while time.time() < end:
            now = time.time()
            visits.tick()
            if now - last_sample >= 10:
                last_sample = now
                memory.append({"t_s": round(now - swarm.t0), "obs_kib": status_kib(headless_proc.pid, "VmRSS"),
                               "viewer_kib": status_kib(resident["proc"].pid, "VmRSS")})
            if headless_proc.poll() is not None:
                raise SystemExit(f"headless_stream exited early ({headless_proc.returncode}); see obs.err")
            time.sleep(0.05)
        headless_proc.wait(timeout=120)
        time.sleep(2)
        swarm.stop_all()
    finally:
        children.kill_all()

    # The broadcaster's record, as swarm_run reckons playback from it.
    lines = [line[len("STATS "):] for line in reader.drain() if line.startswith("STATS ")]
    with open(swarm.path("b.jsonl"), "w") as f:
        f.write("\n".join(lines) + "\n")
    playbacks = [swarm.playback(v) for v in swarm.viewers]
    figures = swarm.stream_figures()
    summary = summarize(playbacks, int(2 * figures["chunks_per_s"]))
    staying_stats = stats(swarm.path(resident["name"] + ".jsonl"))[-1]

    pairs = av_offsets(*mark_onsets(stay_ts))
    offsets = [o for _, o in pairs]
    first = offsets[0] if offsets else 0
    audio = audio_figures(stay_ts, dump)
    at5 = next((m for m in memory if m["t_s"] >= 300), memory[0] if memory else None)
    last = memory[-1] if memory else None

    def growth(key):
        return round(100 * (last[key] / at5[key] - 1), 2) if at5 and last and at5[key] and last[key] else None

    result = {
        "what": f"headless OBS, obs_x264 + ffmpeg_aac 320 kbit/s, {args.minutes:g} min; one viewer staying, "
                f"{args.places} places with visits of {args.mean_watch:g} s on average",
        "stream_kbps": round(figures["ts_kbps"]), "broadcaster_upload_ratio": round(figures["upload_ratio"], 3),
        "visits": len(playbacks) - 1, **summary, "staying_viewer": playbacks[0],
        "staying_viewer_chunks_missing": staying_stats.get("chunks_missing"),
        "marks_paired": len(pairs),
        "av_offset_ms_first": round(1000 * first, 1),
        "av_offset_ms_min": round(1000 * min(offsets), 1) if offsets else None,
        "av_offset_ms_max": round(1000 * max(offsets), 1) if offsets else None,
        "av_drift_ms_max": round(1000 * max(abs(o - first) for o in offsets), 1) if offsets else None,
        "av_steps": [{"t_s": round(t), "offset_ms": round(1000 * o, 1)} for (t, o), (_, p) in
                     zip(pairs[1:], pairs) if abs(o - p) > 0.005],
        "audio": audio, "rss_kib_after_5_min": at5, "rss_kib_end": last,
        "rss_growth_pct_obs": growth("obs_kib"), "rss_growth_pct_viewer": growth("viewer_kib"),
        "av_offsets_by_minute": [{"t_s": round(t), "offset_ms": round(1000 * o, 1)} for t, o in pairs[::12]],
        "memory": memory}
    with open(os.path.join(args.out, "obs_set.json"), "w") as f:
        json.dump(result, f, indent=1)
    print(json.dumps({k: v for k, v in result.items() if k not in ("memory", "av_offsets_by_minute")}), flush=True)


if __name__ == "__main__":
    main()
