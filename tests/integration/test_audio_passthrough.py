"""A DJ's audio arrives as the encoder made it: AAC at 320 kbit/s and Opus at 256 kbit/s, with video and as
sound alone, go from `p2plive broadcast` through a viewer into its --out file. The viewer's audio packets
must be a run of the source's packets, byte for byte (an MD5 per packet), with nothing re-encoded."""

import subprocess

from audio_packets import audio_codecs, audio_packet_hashes, compare
from harness import check, free_udp_port, in_workdir, parse_args, passed, read_text, start, wait_exit, \
    wait_for, first_line

args = parse_args()
wd = args.workdir
path = in_workdir(wd)
start([args.p2plive, "keygen", "--out", path("stream.key")], wd, "keygen").wait(30)

VIDEO = ["-f", "lavfi", "-i", "testsrc2=size=320x180:rate=30"]
MUSIC = ["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000:beep_factor=4"]
X264 = ["-c:v", "libx264", "-preset", "veryfast", "-g", "30", "-pix_fmt", "yuv420p"]
CASES = {
    # name: (ffmpeg inputs, encoders, container)
    "aac320": (VIDEO + MUSIC, X264 + ["-c:a", "aac", "-b:a", "320k"], "mp4"),
    "opus256": (VIDEO + MUSIC, X264 + ["-c:a", "libopus", "-b:a", "256k"], "mkv"),
    "opus256_audio_only": (MUSIC, ["-c:a", "libopus", "-b:a", "256k"], "ogg"),
}


checks = 0
for name, (inputs, encoders, container) in CASES.items():
    source = path(f"{name}.{container}")
    subprocess.run(["ffmpeg", "-v", "error", "-y"] + inputs + ["-ac", "2", "-t", "14"] + encoders + [source],
                   check=True)
    port = free_udp_port()
    broadcaster = start([args.p2plive, "broadcast", "--key", path("stream.key"), "--input", source,
                         "--listen", f"127.0.0.1:{port}"], wd, f"broadcast_{name}")
    link = wait_for(lambda: first_line(path(f"broadcast_{name}.out")), 30, "the link")
    out = path(f"{name}_viewer.ts")
    viewer = start([args.p2plive, "watch", link, "--listen", "127.0.0.1:0", "--out", out, "--duration", "8"],
                   wd, f"watch_{name}")
    check(wait_exit(viewer, 60) == 0, f"{name}: watch failed: {read_text(path(f'watch_{name}.err'))}")
    broadcaster.terminate()
    wait_exit(broadcaster, 30)
    check("encoding" not in read_text(path(f"broadcast_{name}.err")),
          f"{name}: the broadcaster re-encoded: {read_text(path(f'broadcast_{name}.err'))}")
    expected_codec = "aac" if name.startswith("aac") else "opus"
    check(audio_codecs(out) == [expected_codec], f"{name}: the viewer got {audio_codecs(out)}, not {expected_codec}")
    same, count = compare(audio_packet_hashes(source), audio_packet_hashes(out))
    # 8 s of watching at 20-21 ms a packet: at least 5 s of it must be in the file.
    check(count >= 5 * 48000 // 1024, f"{name}: only {count} audio packets reached the viewer")
    check(same == count, f"{name}: {same} of {count} audio packets arrived byte for byte")
    print(f"{name}: {same} of {count} audio packets byte for byte")
    checks += 5

passed(checks, "audio_passthrough")
