#!/usr/bin/env python3
"""The real OBS Studio 29 (Qt, under Xvfb) with the p2p-live module found through OBS_PLUGINS_PATH and
OBS_PLUGINS_DATA_PATH, as a streamer meets it.

- A prepared config: global.ini with FirstRun=true, a profile whose service.json names p2p_live_service
  with no key (the plugin makes one on first use), and a scene collection (--startstreaming needs one).
- `obs --startstreaming --multi` goes live; `p2plive watch` on the link from OBS's log gets MPEG-TS that
  ffprobe reads as h264 + aac.
- A screenshot of the OBS window with the P2P Live dock (link, live stats) is kept as obs-dock.png.
- OBS's own Stop/Start Streaming (through obs-websocket), twice: the link stays the same and the viewer,
  left running, receives again each time by itself.
- P2P beside OBS's recording (the dock's Start P2P, through its hotkey) shares the recording's encoders,
  and a viewer of the dock's link gets the stream; a second screenshot (obs-dock-beside.png) shows it.
- The key file in the plugin's config folder has mode 0600; its text is in no OBS log.
Skipped (exit 77) without OBS Studio. Every wait has a deadline; every child dies with the test.
"""

import argparse
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import sys
import time

from headless_stream_test import (Failure, Skip, check_ts, free_udp_port, poll, run_case,
                                  start_xvfb, write_test_scene)
from obs_websocket import ObsWebSocket, WebSocketError

SCREEN = (1600, 900)
RESTARTS = 2
LINK_MARKER = "[p2p-live: 'simple_stream'] viewer link: "
STOPPED_MARKER = "[p2p-live: 'simple_stream'] stopped: "
BESIDE_LINK_MARKER = "[p2p-live: 'p2p_live_dock'] viewer link: "
BESIDE_STOPPED_MARKER = "[p2p-live: 'p2p_live_dock'] stopped: "


def free_tcp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_config(config_dir, listen, websocket_port, dock_port, recordings):
    profile = os.path.join(config_dir, "basic", "profiles", "P2P")
    scenes = os.path.join(config_dir, "basic", "scenes")
    for folder in (profile, scenes):
        os.makedirs(folder)
    with open(os.path.join(config_dir, "global.ini"), "w") as f:
        f.write("[General]\nFirstRun=true\nLastVersion=486539266\nInfoLastVersion=486539266\n"
                "EnableAutoUpdates=false\nConfirmOnExit=false\n"
                "[Basic]\nProfile=P2P\nProfileDir=P2P\nSceneCollection=Test\nSceneCollectionFile=Test\n"
                "[BasicWindow]\nWarnBeforeStartingStream=false\nWarnBeforeStoppingStream=false\n"
                "SysTrayEnabled=false\n"
                # obs-websocket 5.1 (OBS 29) keeps its settings here: loopback, no password, so that the
                # test can press Start/Stop Streaming.
                f"[OBSWebSocket]\nFirstLoad=false\nServerEnabled=true\nServerPort={websocket_port}\n"
                "AlertsEnabled=false\nAuthRequired=false\nServerPassword=\n")
    with open(os.path.join(profile, "basic.ini"), "w") as f:
        f.write("[General]\nName=P2P\n[Output]\nMode=Simple\n"
                "[SimpleOutput]\nStreamEncoder=x264\nVBitrate=1000\nABitrate=128\n"
                f"RecQuality=Stream\nRecFormat=mkv\nFilePath={recordings}\n"
                "[Video]\nBaseCX=640\nBaseCY=360\nOutputCX=640\nOutputCY=360\nFPSType=0\nFPSCommon=30\n"
                "[Audio]\nSampleRate=48000\nChannelSetup=Stereo\n")
    # No key: the plugin makes one on first use and keeps it out of service.json.
    with open(os.path.join(profile, "service.json"), "w") as f:
        json.dump({"type": "p2p_live_service", "settings": {"listen": listen}}, f)
    # The dock's own settings, as a streamer would have left them: P2P beside the main stream on this port.
    dock = os.path.join(config_dir, "plugin_config", "p2p-live")
    os.makedirs(dock)
    with open(os.path.join(dock, "dock.json"), "w") as f:
        # No port mapping: the test's traffic stays on loopback (test_home_router.py covers mapping).
        json.dump({"listen_port": dock_port, "port_mapping": False, "dht": False}, f)
    write_test_scene(scenes)


def stage_plugin(workdir, plugin, plugin_data):
    """OBS_PLUGINS_PATH holds p2p-live.so only; OBS_PLUGINS_DATA_PATH/p2p-live is the module's data."""
    bin_dir = os.path.join(workdir, "obs-plugins")
    data_dir = os.path.join(workdir, "obs-plugins-data")
    os.makedirs(bin_dir)
    os.makedirs(data_dir)
    os.symlink(os.path.abspath(plugin), os.path.join(bin_dir, "p2p-live.so"))
    os.symlink(os.path.abspath(plugin_data), os.path.join(data_dir, "p2p-live"))
    return bin_dir, data_dir


def screenshot(display, path):
    """The whole Xvfb screen as PNG, through FFmpeg's x11grab (FFmpeg is installed for ffprobe anyway)."""
    result = subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", "-f", "x11grab",
                             "-video_size", f"{SCREEN[0]}x{SCREEN[1]}", "-i", display, "-frames:v", "1", path],
                            capture_output=True, text=True, timeout=60)
    if result.returncode != 0 or not os.path.exists(path):
        raise Failure(f"screenshot failed: {result.stderr.strip()}")


class ObsLogs:
    def __init__(self, logs_dir, out_path):
        self.logs_dir = logs_dir
        self.out_path = out_path

    def current(self):
        if not os.path.isdir(self.logs_dir):
            return ""
        names = sorted(os.listdir(self.logs_dir))
        if not names:
            return ""
        with open(os.path.join(self.logs_dir, names[-1]), errors="replace") as f:
            return f.read()

    def everything(self):
        texts = []
        paths = [self.out_path] + ([os.path.join(self.logs_dir, n) for n in os.listdir(self.logs_dir)]
                                   if os.path.isdir(self.logs_dir) else [])
        for path in paths:
            with open(path, errors="replace") as f:
                texts.append(f.read())
        return "\n".join(texts)


def run(args, children, workdir):
    obs = shutil.which("obs")
    if not obs:
        raise Skip("OBS Studio (obs) is not installed")
    home = os.path.join(workdir, "home")
    config_dir = os.path.join(home, ".config", "obs-studio")
    runtime_dir = os.path.join(home, "runtime")
    os.makedirs(runtime_dir, mode=0o700)
    listen = f"127.0.0.1:{free_udp_port()}"
    websocket_port = free_tcp_port()
    recordings = os.path.join(workdir, "recordings")
    os.makedirs(recordings)
    write_config(config_dir, listen, websocket_port, free_udp_port(), recordings)
    bin_dir, data_dir = stage_plugin(workdir, args.plugin, args.plugin_data)

    env = {k: v for k, v in os.environ.items() if k != "XDG_CONFIG_HOME"}
    env.update(HOME=home, XDG_RUNTIME_DIR=runtime_dir, OBS_PLUGINS_PATH=bin_dir, OBS_PLUGINS_DATA_PATH=data_dir,
               DISPLAY=start_xvfb(children, workdir, f"{SCREEN[0]}x{SCREEN[1]}x24"))
    out_path = os.path.join(workdir, "obs.out")
    out = open(out_path, "w")
    proc = children.spawn("obs", [obs, "--startstreaming", "--multi", "--disable-updater",
                                  "--disable-shutdown-check"], env=env, cwd=home, stdout=out, stderr=out)
    logs = ObsLogs(os.path.join(config_dir, "logs"), out_path)

    def log_count(marker):
        log = logs.current()
        if "[p2p-live: 'simple_stream'] cannot start" in log:
            raise Failure("OBS did not start the stream (see the OBS log under home/.config/obs-studio/logs)")
        if proc.poll() is not None:
            raise Failure(f"OBS exited with {proc.returncode} (see obs.out)")
        return log.count(marker)

    def links():
        return [part.split()[0] for part in logs.current().split(LINK_MARKER)[1:]]

    poll("OBS to stream through p2p_live_output", 90, lambda: log_count(LINK_MARKER) >= 1)
    loaded = [line for line in logs.current().splitlines() if "[p2p-live] loaded from " in line]
    expected = os.path.join(bin_dir, "p2p-live.so")
    if len(loaded) != 1 or not loaded[0].rstrip().endswith(expected):
        raise Failure(f"OBS loaded p2p-live from elsewhere than OBS_PLUGINS_PATH ({expected}): {loaded}")
    link = links()[0]

    key_file = os.path.join(config_dir, "plugin_config", "p2p-live", "stream.key")
    if not os.path.exists(key_file):
        raise Failure(f"the plugin made no key file at {key_file}")
    mode = stat.S_IMODE(os.stat(key_file).st_mode)
    if mode != 0o600:
        raise Failure(f"{key_file} has mode {mode:o}, expected 600")
    with open(key_file) as f:
        key_text = f.read().strip()
    if not key_text.startswith("p2plsk1_") or "\n" in key_text:
        raise Failure(f"{key_file} does not hold one key line")
    with open(os.path.join(config_dir, "basic", "profiles", "P2P", "service.json")) as f:
        if key_text in f.read():
            raise Failure("the secret key was written into service.json")

    ts_path = os.path.join(workdir, "viewer.ts")
    viewer_log = open(os.path.join(workdir, "viewer.log"), "w")
    viewer = children.spawn("viewer", [args.cli, "watch", link, "--out", ts_path, "--listen", "127.0.0.1:0",
                                       "--stats", os.path.join(workdir, "viewer.jsonl")],
                            stdout=viewer_log, stderr=viewer_log)

    def ts_size():
        if viewer.poll() is not None:
            raise Failure(f"the viewer exited with {viewer.returncode} (see viewer.log)")
        return os.path.getsize(ts_path) if os.path.exists(ts_path) else 0

    poll("the viewer to receive a few seconds of OBS's stream", 45, lambda: ts_size() > 300_000)
    first_part = os.path.join(workdir, "viewer-first.ts")
    shutil.copyfile(ts_path, first_part)
    duration = check_ts(first_part, 1.0)
    print(f"viewer: {duration:.1f} s of h264+aac from `obs --startstreaming`")

    # The dock refreshes once a second; give it a few rounds with the viewer connected.
    time.sleep(4)
    shot = os.path.join(workdir, "obs-dock.png")
    screenshot(env["DISPLAY"], shot)
    print(f"screenshot: {shot}")

    websocket = poll("obs-websocket to accept a connection", 30, lambda: connect(websocket_port))
    try:
        for cycle in range(1, RESTARTS + 1):
            expect_ok(websocket.request("StopStream"), "StopStream")
            poll(f"OBS to stop streaming (cycle {cycle})", 30, lambda: log_count(STOPPED_MARKER) >= cycle)
            stopped_size = ts_size()
            time.sleep(1)
            expect_ok(websocket.request("StartStream"), "StartStream")
            poll(f"OBS to stream again (cycle {cycle})", 60, lambda: log_count(LINK_MARKER) >= cycle + 1)
            if links()[-1] != link:
                raise Failure(f"the link changed after a restart:\n  before {link}\n  after  {links()[-1]}")
            poll(f"the viewer to resume by itself (cycle {cycle})", 45,
                 lambda: ts_size() > stopped_size + 200_000)
            print(f"restart {cycle}: same link; the viewer resumed ({ts_size() - stopped_size} new bytes)")
        beside(args, children, workdir, websocket, env["DISPLAY"], logs, log_count)
    finally:
        websocket.close()

    if children.stop("viewer", viewer, signal.SIGINT, 10) is None:
        raise Failure("the viewer did not exit within 10 s of SIGINT")
    obs_exit = children.stop("obs", proc, signal.SIGINT, 30)
    if obs_exit is None:
        raise Failure("OBS did not quit within 30 s of SIGINT")
    final_log = logs.current()
    if obs_exit != 0:
        raise Failure(f"OBS exited with {obs_exit} on SIGINT (see its log)")
    if "Number of memory leaks: 0" not in final_log:
        raise Failure("OBS reports leaked memory on exit (see its log)")
    if key_text in logs.everything():
        raise Failure("the secret key text appears in an OBS log")
    result = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "stream=codec_type,codec_name", "-of",
                             "json", ts_path], capture_output=True, text=True, timeout=60)
    if result.returncode != 0:
        raise Failure(f"ffprobe cannot read the whole recording across restarts: {result.stderr.strip()}")
    print(f"key file {key_file}: mode 600, in no log; OBS quit cleanly")


def beside(args, children, workdir, websocket, display, logs, log_count):
    """P2P beside OBS's own recording: the dock's Start P2P (through its hotkey) shares the recording's
    encoders, and a viewer of the dock's link gets the stream."""
    expect_ok(websocket.request("StopStream"), "StopStream")
    poll("OBS to stop streaming", 30, lambda: log_count(STOPPED_MARKER) >= RESTARTS + 1)
    expect_ok(websocket.request("StartRecord"), "StartRecord")
    poll("OBS to record", 30, lambda: websocket.request("GetRecordStatus").get("responseData", {}).get("outputActive"))
    expect_ok(websocket.request("TriggerHotkeyByName", {"hotkeyName": "p2p_live.start"}), "Start P2P hotkey")
    poll("the dock's P2P output to start", 30, lambda: log_count(BESIDE_LINK_MARKER) >= 1)
    if log_count("[p2p-live] P2P shares the encoders of output 'simple_") < 1:
        raise Failure("P2P beside the recording did not share OBS's encoders (see the OBS log)")
    link = logs.current().split(BESIDE_LINK_MARKER, 1)[1].split()[0]

    ts_path = os.path.join(workdir, "beside.ts")
    log = open(os.path.join(workdir, "beside-viewer.log"), "w")
    viewer = children.spawn("beside viewer", [args.cli, "watch", link, "--out", ts_path, "--listen", "127.0.0.1:0"],
                            stdout=log, stderr=log)

    def size():
        if viewer.poll() is not None:
            raise Failure(f"the beside viewer exited with {viewer.returncode} (see beside-viewer.log)")
        return os.path.getsize(ts_path) if os.path.exists(ts_path) else 0

    poll("a viewer of the dock's link to receive", 45, lambda: size() > 300_000)
    time.sleep(3)
    shot = os.path.join(workdir, "obs-dock-beside.png")
    screenshot(display, shot)
    expect_ok(websocket.request("TriggerHotkeyByName", {"hotkeyName": "p2p_live.stop"}), "Stop P2P hotkey")
    poll("the dock's P2P output to stop", 30, lambda: log_count(BESIDE_STOPPED_MARKER) >= 1)
    expect_ok(websocket.request("StopRecord"), "StopRecord")
    # OBS 29 crashes if it is quit while a recording is still stopping (its queued RecordingStop runs after
    # the output handler is gone): wait, as a user does, until the recording has stopped.
    poll("OBS to stop recording", 30,
         lambda: not websocket.request("GetRecordStatus").get("responseData", {}).get("outputActive", True))
    if children.stop("beside viewer", viewer, signal.SIGINT, 10) is None:
        raise Failure("the beside viewer did not exit within 10 s of SIGINT")
    duration = check_ts(ts_path, 1.0)
    print(f"P2P beside the recording, on its encoders: the viewer got {duration:.1f} s; screenshot {shot}")


def connect(port):
    try:
        return ObsWebSocket(port)
    except (OSError, WebSocketError):
        return None


def expect_ok(response, what):
    status = response.get("requestStatus", {})
    if not status.get("result"):
        raise Failure(f"obs-websocket {what} failed: {status}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--plugin", required=True, help="p2p-live.so")
    parser.add_argument("--plugin-data", required=True, help="the module's data folder (with locale/)")
    parser.add_argument("--cli", required=True, help="the p2plive program")
    parser.add_argument("--artifacts", required=True, help="folder for logs, recordings and the screenshot")
    args = parser.parse_args()
    for tool in ("ffprobe", "ffmpeg"):
        if not shutil.which(tool):
            print(f"FAIL: {tool} is not installed (apt install ffmpeg)", file=sys.stderr)
            return 1
    workdir = os.path.join(os.path.abspath(args.artifacts), "gui")
    shutil.rmtree(workdir, ignore_errors=True)
    os.makedirs(workdir)
    return run_case("gui", lambda children: run(args, children, workdir), workdir)


if __name__ == "__main__":
    sys.exit(main())
