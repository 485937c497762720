#!/usr/bin/env python3
"""The p2p-live OBS module inside real, headless libobs, watched by real viewers.

Cases (the first argument):
  stream   libobs (OpenGL under Xvfb, x264 + AAC) broadcasts through p2p_live_output for --seconds; three
           `p2plive watch` viewers on loopback each write MPEG-TS that ffprobe reads as h264 + aac, and
           JSON Lines stats with the brief's fields. The secret key never appears in the log.
  errors   a damaged key, an empty key, a bad listen address and a port in use are each refused with a
           one-line message that says what to do, and a non-zero exit.
  restart  start, stop, start again on the same output, four times; every second stop is a force stop.
  ui       the real OBS Studio (Qt, under Xvfb) with the module installed for a scratch user by
           plugin/install-user-plugin.cmake, and a profile whose service.json names p2p_live_service:
           `obs --startstreaming` broadcasts, a viewer gets h264 + aac, and OBS quits cleanly.
           Skipped (exit 77) when OBS Studio is not installed.

Every wait polls with a deadline; every child is killed if anything fails. Artifacts stay under --artifacts.
"""

import argparse
import json
import os
import queue
import select
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time

STATS_FIELDS = ("t", "role", "peers", "uploaded_bytes", "downloaded_bytes", "chunks_received", "chunks_late",
                "chunks_missing", "delay_ms_p50", "delay_ms_p99", "forged_rejected")
VIEWERS = 3


class Failure(Exception):
    pass


class Skip(Exception):
    pass


SKIP_EXIT_CODE = 77


def poll(what, timeout_s, predicate, interval_s=0.1):
    """Calls predicate until it returns something truthy, or fails after timeout_s."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise Failure(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(interval_s)


class Children:
    """Every process the test starts, so that all of them die with the test."""

    def __init__(self):
        self.procs = []

    def spawn(self, name, argv, **kwargs):
        try:
            proc = subprocess.Popen(argv, **kwargs)
        except OSError as e:
            raise Failure(f"cannot start {name} ({argv[0]}): {e}")
        self.procs.append((name, proc))
        return proc

    def stop(self, name, proc, sig, timeout_s):
        """Sends sig and waits; kills on timeout. Returns the exit code, or None if it had to be killed."""
        if proc.poll() is None:
            proc.send_signal(sig)
            try:
                return proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
                return None
        return proc.returncode

    def kill_all(self):
        for name, proc in reversed(self.procs):
            if proc.poll() is None:
                self.stop(name, proc, signal.SIGTERM, 3)


class LineReader:
    """Reads a child's stdout on a thread, keeps every line, and lets the test wait for one."""

    def __init__(self, proc, tee_path):
        self.lines = queue.Queue()
        self.seen = []
        self.tee = open(tee_path, "w")
        self.thread = threading.Thread(target=self._run, args=(proc,), daemon=True)
        self.thread.start()

    def _run(self, proc):
        for raw in proc.stdout:
            line = raw.decode(errors="replace").rstrip("\n")
            self.tee.write(line + "\n")
            self.tee.flush()
            self.lines.put(line)
        self.lines.put(None)

    def wait_for(self, prefix, timeout_s, proc):
        deadline = time.monotonic() + timeout_s
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Failure(f"timed out after {timeout_s:.0f} s waiting for '{prefix}' from headless_stream")
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                continue
            if line is None:
                raise Failure(f"headless_stream exited (code {proc.wait()}) before printing '{prefix}'")
            self.seen.append(line)
            if line.startswith(prefix):
                return line[len(prefix):].strip()

    def drain(self):
        self.thread.join(timeout=5)
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                return self.seen
            if line is not None:
                self.seen.append(line)


def start_xvfb(children, workdir, screen="1280x720x24"):
    """Starts Xvfb on a free display (it picks one and tells us via -displayfd). Returns ':N'."""
    if not shutil.which("Xvfb"):
        raise Failure("Xvfb is not installed (apt install xvfb)")
    read_fd, write_fd = os.pipe()
    log = open(os.path.join(workdir, "xvfb.log"), "w")
    children.spawn("Xvfb", ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", screen, "-nolisten", "tcp"],
                   pass_fds=(write_fd,), stdout=log, stderr=log)
    os.close(write_fd)
    text = b""
    deadline = time.monotonic() + 20
    try:
        while not text.endswith(b"\n"):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Failure("Xvfb did not report its display within 20 s (see xvfb.log)")
            ready, _, _ = select.select([read_fd], [], [], remaining)
            if ready:
                chunk = os.read(read_fd, 64)
                if not chunk:
                    raise Failure("Xvfb exited before reporting its display (see xvfb.log)")
                text += chunk
    finally:
        os.close(read_fd)
    return ":" + text.decode().strip()


def free_udp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_cli(args, argv, what, timeout_s=30):
    try:
        result = subprocess.run([args.cli] + argv, capture_output=True, text=True, timeout=timeout_s)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise Failure(f"`p2plive {' '.join(argv)}` failed: {e}")
    if result.returncode != 0:
        raise Failure(f"{what}: `p2plive {' '.join(argv)}` exited {result.returncode}: {result.stderr.strip()}")
    return result.stdout


def keygen(args, path):
    if os.path.exists(path):
        os.remove(path)
    run_cli(args, ["keygen", "--out", path], "keygen")
    with open(path) as f:
        key_text = f.read().strip()
    if not key_text or "\n" in key_text:
        raise Failure(f"keygen wrote {path!r} that is not one line")
    return key_text


def headless_argv(args, workdir, key_file, listen, seconds, cycles=1, stop="normal"):
    return [args.headless, "--plugin", args.plugin, "--plugin-data", args.plugin_data, "--key-file", key_file,
            "--listen", listen, "--seconds", str(seconds), "--cycles", str(cycles), "--stop", stop,
            "--log", os.path.join(workdir, "headless.log")]


def ffprobe(path):
    result = subprocess.run(["ffprobe", "-v", "error", "-show_entries",
                             "stream=codec_type,codec_name:format=duration", "-of", "json", path],
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise Failure(f"ffprobe cannot read {path}: {result.stderr.strip()}")
    return json.loads(result.stdout)


def check_ts(path, min_duration_s):
    info = ffprobe(path)
    kinds = sorted((s.get("codec_type"), s.get("codec_name")) for s in info.get("streams", []))
    if kinds != [("audio", "aac"), ("video", "h264")]:
        raise Failure(f"{path}: expected one h264 video and one aac audio stream, ffprobe found {kinds}")
    duration = float(info.get("format", {}).get("duration", 0) or 0)
    if duration < min_duration_s:
        raise Failure(f"{path}: {duration:.1f} s of media, expected at least {min_duration_s:.1f} s")
    return duration


def check_stats(path):
    if not os.path.exists(path):
        raise Failure(f"{path} was not written")
    with open(path) as f:
        lines = [line for line in f.read().splitlines() if line.strip()]
    if len(lines) < 3:
        raise Failure(f"{path}: {len(lines)} stats lines, expected one a second")
    records = []
    for number, line in enumerate(lines, 1):
        try:
            record = json.loads(line)
        except json.JSONDecodeError as e:
            raise Failure(f"{path}:{number} is not JSON: {e}")
        missing = [field for field in STATS_FIELDS if field not in record]
        if missing:
            raise Failure(f"{path}:{number} lacks {missing}")
        if record["forged_rejected"] != 0:
            raise Failure(f"{path}:{number}: forged_rejected = {record['forged_rejected']} on a clean loopback swarm")
        records.append(record)
    if records[-1]["chunks_received"] <= 0:
        raise Failure(f"{path}: the last stats line has chunks_received = 0")
    return records[-1]


def case_stream(args, children, workdir):
    key_file = os.path.join(workdir, "broadcaster.key")
    key_text = keygen(args, key_file)
    display = start_xvfb(children, workdir)
    port = free_udp_port()
    listen = f"127.0.0.1:{port}"

    stderr_log = open(os.path.join(workdir, "headless.stderr"), "w")
    headless = children.spawn("headless_stream", headless_argv(args, workdir, key_file, listen, args.seconds),
                              env=dict(os.environ, DISPLAY=display), stdout=subprocess.PIPE, stderr=stderr_log)
    reader = LineReader(headless, os.path.join(workdir, "headless.stdout"))
    started = time.monotonic()
    reader.wait_for("LISTENING", 60, headless)
    plugin_link = reader.wait_for("LINK", 10, headless)

    link = run_cli(args, ["link", "--key", key_file, "--peer", listen], "link").strip()
    if not link or any(c.isspace() for c in link):
        raise Failure(f"`p2plive link` printed {link!r}: expected one line without spaces")
    if plugin_link != link:
        print(f"note: the plugin's link differs from the CLI's:\n  plugin {plugin_link}\n  cli    {link}")

    viewers = []
    for n in range(1, VIEWERS + 1):
        ts_path = os.path.join(workdir, f"v{n}.ts")
        stats_path = os.path.join(workdir, f"v{n}.jsonl")
        log = open(os.path.join(workdir, f"v{n}.log"), "w")
        proc = children.spawn(f"viewer {n}", [args.cli, "watch", link, "--out", ts_path, "--stats", stats_path,
                                             "--listen", "127.0.0.1:0"], stdout=log, stderr=log)
        viewers.append((n, proc, ts_path, stats_path))

    def size(path):
        return os.path.getsize(path) if os.path.exists(path) else 0

    for n, proc, ts_path, _ in viewers:
        def wrote_media(n=n, proc=proc, ts_path=ts_path):
            if proc.poll() is not None:
                raise Failure(f"viewer {n} exited with {proc.returncode} while the broadcast ran (see v{n}.log)")
            return size(ts_path) > 0
        poll(f"viewer {n} to write media (see v{n}.log)", 20, wrote_media)
    joined_s = time.monotonic() - started

    try:
        code = headless.wait(timeout=args.seconds + 60)
    except subprocess.TimeoutExpired:
        raise Failure("headless_stream did not finish its broadcast in time")
    lines = reader.drain()
    if code != 0:
        raise Failure(f"headless_stream exited {code} (see headless.stderr and headless.log)")
    stopped = [line for line in lines if line.startswith("STOPPED")]
    if len(stopped) != 1 or "code=0" not in stopped[0]:
        raise Failure(f"expected one 'STOPPED code=0' line, got {stopped}")

    # The broadcast is over; wait until the viewers have written everything they got.
    last_sizes = {}

    def settled():
        sizes = tuple(size(ts_path) for _, _, ts_path, _ in viewers)
        now = time.monotonic()
        if last_sizes.get("sizes") != sizes:
            last_sizes.update(sizes=sizes, since=now)
            return False
        return now - last_sizes["since"] >= 1.5

    poll("the viewers' output files to stop growing", 20, settled)

    for n, proc, _, _ in viewers:
        code = children.stop(f"viewer {n}", proc, signal.SIGINT, 10)
        if code is None:
            raise Failure(f"viewer {n} did not exit within 10 s of SIGINT (see v{n}.log)")

    min_duration_s = max(2.0, args.seconds - joined_s - 6.0)
    for n, _, ts_path, stats_path in viewers:
        duration = check_ts(ts_path, min_duration_s)
        last = check_stats(stats_path)
        print(f"viewer {n}: {duration:.1f} s of h264+aac, {last['chunks_received']} chunks, "
              f"delay p50 {last['delay_ms_p50']} ms p99 {last['delay_ms_p99']} ms, "
              f"{last['chunks_missing']} missing, {last['chunks_late']} late")

    with open(os.path.join(workdir, "headless.log"), errors="replace") as f:
        log = f.read()
    if key_text in log:
        raise Failure("the secret key text appears in the OBS log")
    if "[p2p-live: 'headless'] viewer link: " not in log:
        raise Failure("the OBS log lacks the '[p2p-live: 'headless'] viewer link: ...' line")
    print(f"broadcast: {stopped[0]}")


def run_expecting_failure(args, children, workdir, display, name, key_file, listen, expected):
    stderr_path = os.path.join(workdir, f"{name}.stderr")
    with open(stderr_path, "w") as err:
        proc = children.spawn(f"headless_stream ({name})", headless_argv(args, workdir, key_file, listen, 5),
                              env=dict(os.environ, DISPLAY=display), stdout=subprocess.DEVNULL, stderr=err)
        try:
            code = proc.wait(timeout=60)
        except subprocess.TimeoutExpired:
            raise Failure(f"{name}: headless_stream did not give up within 60 s")
    with open(stderr_path, errors="replace") as f:
        messages = [line for line in f.read().splitlines() if line.startswith("error:")]
    if code == 0:
        raise Failure(f"{name}: headless_stream streamed although it should have refused")
    if not messages or expected not in messages[-1]:
        raise Failure(f"{name}: expected an error containing {expected!r}, got {messages}")
    print(f"{name}: {messages[-1]}")


def case_errors(args, children, workdir):
    display = start_xvfb(children, workdir)
    good_key = keygen(args, os.path.join(workdir, "good.key"))

    damaged = good_key[:-3] + ("A" if good_key[-3] != "A" else "B") + good_key[-2:]
    damaged_file = os.path.join(workdir, "damaged.key")
    with open(damaged_file, "w") as f:
        f.write(damaged + "\n")
    run_expecting_failure(args, children, workdir, display, "damaged_key", damaged_file,
                          f"127.0.0.1:{free_udp_port()}", "not a valid P2P Live key")

    empty_file = os.path.join(workdir, "empty.key")
    open(empty_file, "w").close()
    run_expecting_failure(args, children, workdir, display, "empty_key", empty_file,
                          f"127.0.0.1:{free_udp_port()}", "No stream key is set")

    good_file = os.path.join(workdir, "good.key")
    run_expecting_failure(args, children, workdir, display, "bad_listen", good_file, "not-an-endpoint",
                          "is not HOST:PORT")

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as taken:
        taken.bind(("127.0.0.1", 0))
        port = taken.getsockname()[1]
        run_expecting_failure(args, children, workdir, display, "port_in_use", good_file, f"127.0.0.1:{port}",
                              "already in use")

    with open(os.path.join(workdir, "headless.log"), errors="replace") as f:
        log = f.read()
    for secret in (good_key, damaged):
        if secret in log:
            raise Failure("a secret key text appears in the OBS log")


def case_restart(args, children, workdir):
    key_file = os.path.join(workdir, "broadcaster.key")
    keygen(args, key_file)
    display = start_xvfb(children, workdir)
    cycles = 4
    stdout_path = os.path.join(workdir, "headless.stdout")
    with open(stdout_path, "w") as out, open(os.path.join(workdir, "headless.stderr"), "w") as err:
        proc = children.spawn("headless_stream", headless_argv(args, workdir, key_file,
                                                               f"127.0.0.1:{free_udp_port()}", 2, cycles,
                                                               "alternate"),
                              env=dict(os.environ, DISPLAY=display), stdout=out, stderr=err)
        try:
            code = proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            raise Failure("headless_stream did not finish its start/stop cycles within 90 s")
    with open(stdout_path) as f:
        stopped = [line for line in f.read().splitlines() if line.startswith("STOPPED")]
    if code != 0:
        raise Failure(f"headless_stream exited {code} (see headless.stderr)")
    if len(stopped) != cycles or not all("code=0" in line for line in stopped):
        raise Failure(f"expected {cycles} clean stops, got {stopped}")
    print("\n".join(stopped))


def write_obs_profile(config_dir, key_text, listen):
    """A minimal OBS 29 configuration: no first-run wizard, simple output with x264, one color source."""
    profile = os.path.join(config_dir, "basic", "profiles", "P2P")
    scenes = os.path.join(config_dir, "basic", "scenes")
    os.makedirs(profile)
    os.makedirs(scenes)
    with open(os.path.join(config_dir, "global.ini"), "w") as f:
        f.write("[General]\nFirstRun=true\nLastVersion=486539266\nInfoLastVersion=486539266\n"
                "EnableAutoUpdates=false\nConfirmOnExit=false\n"
                "[Basic]\nProfile=P2P\nProfileDir=P2P\nSceneCollection=Test\nSceneCollectionFile=Test\n"
                "[BasicWindow]\nWarnBeforeStartingStream=false\nWarnBeforeStoppingStream=false\n"
                "SysTrayEnabled=false\n")
    with open(os.path.join(profile, "basic.ini"), "w") as f:
        f.write("[General]\nName=P2P\n[Output]\nMode=Simple\n"
                "[SimpleOutput]\nStreamEncoder=x264\nVBitrate=1000\nABitrate=128\n"
                "[Video]\nBaseCX=640\nBaseCY=360\nOutputCX=640\nOutputCY=360\nFPSType=0\nFPSCommon=30\n"
                "[Audio]\nSampleRate=48000\nChannelSetup=Stereo\n")
    with open(os.path.join(profile, "service.json"), "w") as f:
        json.dump({"type": "p2p_live_service", "settings": {"key": key_text, "listen": listen}}, f)
    write_test_scene(scenes)


def write_test_scene(scenes):
    """The scene collection both OBS tests load: one scene with one colour source, 640x360."""
    with open(os.path.join(scenes, "Test.json"), "w") as f:
        json.dump({"name": "Test", "current_scene": "Scene", "current_program_scene": "Scene",
                   "scene_order": [{"name": "Scene"}],
                   "sources": [
                       {"id": "scene", "versioned_id": "scene", "name": "Scene",
                        "settings": {"id_counter": 1, "items": [{"name": "Color", "id": 1, "visible": True}]}},
                       {"id": "color_source", "versioned_id": "color_source_v3", "name": "Color",
                        "settings": {"color": 4281558783, "width": 640, "height": 360}}]}, f)


def case_ui(args, children, workdir):
    obs = shutil.which("obs")
    if not obs:
        raise Skip("OBS Studio (obs) is not installed")
    if not args.install_script:
        raise Failure("the ui case needs --install-script plugin/install-user-plugin.cmake")
    home = os.path.join(workdir, "home")
    config_dir = os.path.join(home, ".config", "obs-studio")
    runtime_dir = os.path.join(home, "runtime")
    os.makedirs(runtime_dir, mode=0o700)
    env = {k: v for k, v in os.environ.items() if k != "XDG_CONFIG_HOME"}
    env.update(HOME=home, XDG_RUNTIME_DIR=runtime_dir)

    # Install the module for this scratch user exactly as ci/setup does for the real one.
    result = subprocess.run([args.cmake, f"-DMODULE={args.plugin}", f"-DDATA={args.plugin_data}", "-P",
                             args.install_script], env=env, capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise Failure(f"install-user-plugin.cmake failed: {result.stderr.strip()}")
    for path in ("plugins/p2p-live/bin/64bit/p2p-live.so", "plugins/p2p-live/data/locale/en-US.ini"):
        if not os.path.exists(os.path.join(config_dir, path)):
            raise Failure(f"install-user-plugin.cmake did not create {path}")

    key_text = keygen(args, os.path.join(workdir, "broadcaster.key"))
    listen = f"127.0.0.1:{free_udp_port()}"
    write_obs_profile(config_dir, key_text, listen)
    display = start_xvfb(children, workdir)
    env["DISPLAY"] = display

    out = open(os.path.join(workdir, "obs.out"), "w")
    proc = children.spawn("obs", [obs, "--startstreaming", "--multi", "--disable-updater",
                                  "--disable-shutdown-check"], env=env, cwd=home, stdout=out, stderr=out)
    logs_dir = os.path.join(config_dir, "logs")

    def obs_log():
        if not os.path.isdir(logs_dir):
            return ""
        names = sorted(os.listdir(logs_dir))
        if not names:
            return ""
        with open(os.path.join(logs_dir, names[-1]), errors="replace") as f:
            return f.read()

    marker = "[p2p-live: 'simple_stream'] viewer link: "

    def streaming():
        log = obs_log()
        if "[p2p-live: 'simple_stream'] cannot start" in log or "failed to start" in log:
            raise Failure("OBS did not start the stream (see the OBS log under home/.config/obs-studio/logs)")
        if proc.poll() is not None:
            raise Failure(f"OBS exited with {proc.returncode} before streaming (see obs.out)")
        return marker in log and log

    log = poll("OBS to start streaming through p2p_live_output", 60, streaming)
    link = log.split(marker, 1)[1].split()[0]

    ts_path = os.path.join(workdir, "viewer.ts")
    viewer_log = open(os.path.join(workdir, "viewer.log"), "w")
    viewer = children.spawn("viewer", [args.cli, "watch", link, "--out", ts_path, "--listen", "127.0.0.1:0"],
                            stdout=viewer_log, stderr=viewer_log)

    def viewer_has_seconds():
        if viewer.poll() is not None:
            raise Failure(f"the viewer exited with {viewer.returncode} (see viewer.log)")
        return os.path.exists(ts_path) and os.path.getsize(ts_path) > 300_000

    poll("the viewer to receive a few seconds of OBS's stream", 30, viewer_has_seconds)
    if children.stop("viewer", viewer, signal.SIGINT, 10) is None:
        raise Failure("the viewer did not exit within 10 s of SIGINT")

    if children.stop("obs", proc, signal.SIGINT, 30) is None:
        raise Failure("OBS did not quit within 30 s of SIGINT")
    log = obs_log()
    if "[p2p-live: 'simple_stream'] stopped: " not in log:
        raise Failure("the OBS log lacks the output's 'stopped:' line")
    if "Number of memory leaks: 0" not in log:
        raise Failure("OBS reports leaked memory on exit (see its log)")
    if key_text in log:
        raise Failure("the secret key text appears in the OBS log")
    duration = check_ts(ts_path, 1.0)
    print(f"OBS Studio streamed through the profile's p2p_live_service; the viewer got {duration:.1f} s of h264+aac")


def case_audio(args, children, workdir):
    """A DJ's audio from OBS's own encoders, AAC at 320 kbit/s and Opus at 256 kbit/s: the audio packets in a
    viewer's file equal those the encoder made (headless_stream's packet_dump output beside the stream)."""
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
    from audio_packets import audio_codecs, audio_packet_hashes, compare, dumped_packet_hashes
    key_file = os.path.join(workdir, "broadcaster.key")
    keygen(args, key_file)
    display = start_xvfb(children, workdir)
    # The third run is the module's sound-only output (the dock's "Sound only"): no picture at all, and track
    # titles from an OBS Text source (the dock's "Track title from") that changes while the viewer listens.
    for encoder, kbps, codec, output in (("ffmpeg_aac", 320, "aac", "p2p_live_output"),
                                         ("ffmpeg_opus", 256, "opus", "p2p_live_output"),
                                         ("ffmpeg_aac", 320, "aac", "p2p_live_audio_output")):
        sound_only = output == "p2p_live_audio_output"
        if sound_only:
            codec = "aac_sound_only"
        listen = f"127.0.0.1:{free_udp_port()}"
        recording, viewer_ts = (os.path.join(workdir, f"{codec}_{name}") for name in ("packets.bin", "viewer.ts"))
        argv = headless_argv(args, workdir, key_file, listen, 12) + [
            "--audio-encoder", encoder, "--audio-bitrate", str(kbps), "--record", recording, "--output", output]
        stats_path = os.path.join(workdir, f"{codec}_viewer.jsonl")
        if sound_only:
            argv += ["--titles", "First track|Second track", "--title-every", "5"]
        with open(os.path.join(workdir, f"{codec}.stderr"), "w") as err:
            headless = children.spawn(f"headless_stream {codec}", argv, env=dict(os.environ, DISPLAY=display),
                                      stdout=subprocess.PIPE, stderr=err)
        reader = LineReader(headless, os.path.join(workdir, f"{codec}.stdout"))
        link = reader.wait_for("LINK", 60, headless)
        with open(os.path.join(workdir, f"{codec}_viewer.log"), "w") as log:
            viewer = children.spawn(f"viewer {codec}", [args.cli, "watch", link, "--out", viewer_ts, "--duration",
                                                        "8", "--listen", "127.0.0.1:0", "--stats", stats_path],
                                    stdout=log, stderr=log)
        if viewer.wait(timeout=60) != 0 or headless.wait(timeout=60) != 0:
            raise Failure(f"{codec}: the viewer or headless_stream failed (see {codec}_viewer.log, {codec}.stderr)")
        if audio_codecs(viewer_ts) != [codec.split("_")[0]]:
            raise Failure(f"{codec}: the viewer got {audio_codecs(viewer_ts)}")
        kinds = sorted(s.get("codec_type") for s in ffprobe(viewer_ts).get("streams", []))
        if kinds != (["audio", "data"] if sound_only else ["audio", "video"]):  # data: the titles' timed ID3
            raise Failure(f"{codec}: the viewer's file holds {kinds}")
        if sound_only:
            with open(stats_path) as f:
                shown = [json.loads(line).get("now_playing") for line in f if line.strip()]
            titles = [t for i, t in enumerate(shown) if t and (i == 0 or shown[i - 1] != t)]
            if titles != ["First track", "Second track"]:
                raise Failure(f"{codec}: the viewer's stats showed the titles {titles} (every line: {shown})")
        same, count = compare(dumped_packet_hashes(recording), audio_packet_hashes(viewer_ts))
        if count < 5 * 48000 // 1024 or same != count:
            raise Failure(f"{codec}: {same} of {count} audio packets equal OBS's (at least 234 expected)")
        print(f"{encoder} at {kbps} kbit/s{' (sound only)' if sound_only else ''}: {same} of {count} audio "
              f"packets byte for byte")


CASES = {"stream": case_stream, "errors": case_errors, "restart": case_restart, "ui": case_ui,
         "audio": case_audio}


def run_case(name, body, workdir):
    """Runs one test case with its child processes, and turns its outcome into CTest's exit code."""
    children = Children()
    try:
        body(children)
    except Skip as e:
        print(f"SKIP ({name}): {e}")
        return SKIP_EXIT_CODE
    except Failure as e:
        print(f"FAIL ({name}): {e}\nartifacts: {workdir}", file=sys.stderr)
        return 1
    finally:
        children.kill_all()
    print(f"PASS ({name}); artifacts: {workdir}")
    return 0


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("case", choices=sorted(CASES))
    parser.add_argument("--headless", required=True, help="the headless_stream program")
    parser.add_argument("--plugin", required=True, help="p2p-live.so")
    parser.add_argument("--plugin-data", required=True, help="the module's data folder (with locale/)")
    parser.add_argument("--cli", required=True, help="the p2plive program")
    parser.add_argument("--artifacts", required=True, help="folder for keys, logs and recordings")
    parser.add_argument("--seconds", type=float, default=15.0, help="length of the broadcast")
    parser.add_argument("--cmake", default="cmake", help="cmake, to run the install script (ui case)")
    parser.add_argument("--install-script", help="plugin/install-user-plugin.cmake (ui case)")
    args = parser.parse_args()

    for tool, path in (("headless_stream", args.headless), ("p2plive", args.cli), ("p2p-live.so", args.plugin)):
        if not os.path.exists(path):
            print(f"FAIL: {tool} not found at {path}", file=sys.stderr)
            return 1
    if not shutil.which("ffprobe"):
        print("FAIL: ffprobe is not installed (apt install ffmpeg)", file=sys.stderr)
        return 1

    workdir = os.path.join(os.path.abspath(args.artifacts), args.case)
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    return run_case(args.case, lambda children: CASES[args.case](args, children, workdir), workdir)


if __name__ == "__main__":
    sys.exit(main())
