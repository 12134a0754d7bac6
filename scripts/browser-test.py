#!/usr/bin/env python3
"""Browser tests (make test-browser): the SDK in headless Chromium (Debian's chromium and
chromium-driver, driven by selenium from PyPI) with fake media devices, against a live
roomstream, and the operator page.

Scenarios: a two-party call (two tabs of one page origin, signaling over a BroadcastChannel)
direct, and relayed through coturn (Debian) over UDP and over TCP; a page navigated away
mid-call (its leave arrives by sendBeacon); the operator page with live data. Every process
is started here and stopped here; all traffic stays on loopback (Chromium gets
--allow-loopback-in-peer-connection; coturn relays on 127.0.0.1).

usage: browser-test.py PATH/TO/roomstream [--screenshots DIR]
"""
import argparse
import contextlib
import functools
import http.server
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
KEY, ADMIN = "browser-ingest-key-0001", "browser-admin-token-00001"
failures = []


def check(condition, message):
    print(("  ok    " if condition else "  FAIL  ") + message, flush=True)
    if not condition:
        failures.append(message)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(predicate, timeout, what, interval=0.2):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise TimeoutError(what)


def call_api(method, url, token=None, body=None):
    request = urllib.request.Request(url, method=method, data=body)
    if token:
        request.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()
    except (urllib.error.URLError, ConnectionError):
        return 0, b""


class Processes:
    def __init__(self, work):
        self.work, self.children = work, []

    def start(self, name, argv):
        log = open(os.path.join(self.work, name + ".log"), "wb")
        child = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        self.children.append((name, child))
        return child

    def stop(self):
        for _, child in reversed(self.children):
            if child.poll() is None:
                child.terminate()
        for _, child in self.children:
            try:
                child.wait(timeout=10)
            except subprocess.TimeoutExpired:
                child.kill()
                child.wait()


def start_roomstream(processes, binary, work, name="roomstream", server=None, ingest=None):
    port = free_port()
    config = {
        "server": {"host": "127.0.0.1", "port": port, **(server or {})},
        "ingest": {"keys": [KEY], "peer_timeout_seconds": 30, **(ingest or {})},
        "admin": {"token": ADMIN}, "log": {"level": "info"},
        "streams": [{"id": "calls", "interval_minutes": 60, "destination": {"type": "directory", "path": "files/calls"}}],
    }
    path = os.path.join(work, name + ".json")
    with open(path, "w") as f:
        json.dump(config, f)
    processes.start(name, [binary, "serve", "--config", path, "--data-dir", os.path.join(work, name + "-data")])
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: call_api("GET", base + "/readyz")[0] == 200, 20, "roomstream ready")
    return base


def start_page_server(directory):
    """The test page's own origin (a different port: the SDK posts cross-origin, as in an app)."""
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass
    handler = functools.partial(Quiet, directory=directory)
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def start_coturn(processes, work):
    port = free_port()
    processes.start("coturn", [
        "turnserver", "-n", "--listening-ip=127.0.0.1", "--relay-ip=127.0.0.1", f"--listening-port={port}",
        "--min-port=49160", "--max-port=49200", "--lt-cred-mech", "--user=test:test", "--realm=roomstream.test",
        "--no-tls", "--no-dtls", "--allow-loopback-peers", "--no-cli", "--no-multicast-peers", "--log-file=stdout",
        "--pidfile=" + os.path.join(work, "turnserver.pid")])
    def listening():
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", port)) == 0
    wait_for(listening, 10, "coturn listening")
    return port


def chrome():
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--use-fake-device-for-media-stream",
                 "--use-fake-ui-for-media-stream", "--allow-loopback-in-peer-connection", "--autoplay-policy=no-user-gesture-required",
                 "--disable-gpu", "--window-size=1280,900", "--no-first-run", "--disable-background-networking"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def room(service, room_id):
    status, body = call_api("GET", f"{service}/v1/rooms/{urllib.request.quote(room_id, safe='')}", ADMIN)
    return json.loads(body) if status == 200 else None


def open_side(driver, page, service, room_id, peer, role, turn="", relay=False, interval=2):
    query = urllib.parse.urlencode({"service": service, "key": KEY, "room": room_id, "peer": peer, "role": role,
                                    "turn": turn, "relay": "1" if relay else "0", "interval": interval})
    driver.switch_to.new_window("tab")
    driver.get(f"{page}/call.html?{query}")
    return driver.current_window_handle


def status_of(driver, handle):
    driver.switch_to.window(handle)
    return driver.execute_script("return window.callStatus || ''")


def call(driver, page, service, room_id, turn="", relay=False, seconds=8):
    caller = open_side(driver, page, service, room_id, "alice", "caller", turn, relay)
    callee = open_side(driver, page, service, room_id, "bob", "callee", turn, relay)
    wait_for(lambda: all(status_of(driver, h) == "connection connected" for h in (caller, callee)), 30, f"{room_id}: both sides connected")
    time.sleep(seconds)
    for handle in (caller, callee):
        driver.switch_to.window(handle)
        driver.execute_async_script("const done = arguments[arguments.length - 1]; window.endCall().then(done, (e) => done(String(e)));")
        errors = driver.execute_script("return window.callErrors")
        check(not errors, f"{room_id}: no page errors ({errors})")
        console = [entry["message"] for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "WARNING")]
        check(not console, f"{room_id}: no console errors or warnings ({console[:5]})")
    for handle in (caller, callee):
        driver.switch_to.window(handle)
        driver.close()
    driver.switch_to.window(driver.window_handles[0])


def ended_room(service, room_id, timeout, what):
    try:
        return wait_for(lambda: (lambda r: r if r and r.get("state") == "ended" else None)(room(service, room_id)), timeout, what)
    except TimeoutError:
        record = room(service, room_id)
        print("  room as it stands:", json.dumps(record)[:600] if record else "not found", flush=True)
        metrics = call_api("GET", service + "/metrics", ADMIN)[1].decode()
        print("\n".join(line for line in metrics.splitlines() if "samples" in line and "_total" in line or "rejected" in line or "items" in line), flush=True)
        raise


def check_call(service, room_id, connection_type, transport, chromium_version):
    record = ended_room(service, room_id, 20, f"{room_id} ended")
    check(record["users"] == 2, f"{room_id}: 2 users (got {record['users']})")
    for peer in record["peers"]:
        name = f"{room_id}/{peer['peer_id']}"
        stats = peer["stats"]
        check(peer["features"]["connection_type"] == connection_type, f"{name}: connection_type {connection_type} (got {peer['features']['connection_type']})")
        check(peer["features"]["media_transport"] == transport, f"{name}: media_transport {transport} (got {peer['features']['media_transport']})")
        for kind in ("audio", "video"):
            for direction in ("send", "recv"):
                bitrate = (stats[kind][direction] or {}).get("bitrate")
                check(bitrate is not None and bitrate > 0, f"{name}: {kind} {direction} bitrate > 0 (got {bitrate})")
        check(stats["mos"] is not None and 1 <= stats["mos"] <= 4.5, f"{name}: MOS in [1, 4.5] (got {stats['mos']})")
        check(stats["call_setup_time"] is not None and stats["call_setup_time"] > 0, f"{name}: call setup time > 0 (got {stats['call_setup_time']})")
        check(peer["browser"] in ("Chrome", "Chromium"), f"{name}: browser Chrome or Chromium (got {peer['browser']})")
        # The full version: Chromium's User-Agent says 156.0.0.0 (UA reduction); the SDK sends
        # the full one from navigator.userAgentData.
        check(peer["browser_version"] == chromium_version, f"{name}: browser version {chromium_version} (got {peer['browser_version']})")
        check(bool(peer.get("audio_device")) and bool(peer.get("video_device")),
              f"{name}: device labels ({peer.get('audio_device')!r}, {peer.get('video_device')!r})")
        check(peer["sdk_version"] == "1.0.0", f"{name}: sdk_version 1.0.0")
        check(peer["keys"].get("test") == "browser", f"{name}: keys from init()")


def beacon_scenario(driver, page, service):
    room_id = "beacon-" + str(int(time.time()))
    # A long collection interval: only the connect-time batch goes by fetch; the leave can
    # arrive only by the beacon sent when the page goes away.
    caller = open_side(driver, page, service, room_id, "alice", "caller", interval=600)
    callee = open_side(driver, page, service, room_id, "bob", "callee", interval=600)
    wait_for(lambda: all(status_of(driver, h) == "connection connected" for h in (caller, callee)), 30, "beacon: connected")
    time.sleep(2)
    for handle in (caller, callee):
        driver.switch_to.window(handle)
        driver.get("about:blank")  # pagehide → sendBeacon
    # The peer timeout is 30 s: ending within a few seconds means both leaves arrived.
    started = time.time()
    record = wait_for(lambda: (lambda r: r if r and r.get("state") == "ended" else None)(room(service, room_id)), 15, "beacon: room ended by the beacons' leaves")
    check(time.time() - started < 15, f"beacon: the room ended {time.time() - started:.1f} s after the pages closed (peer timeout 30 s)")
    check(record["users"] == 2, "beacon: both peers in the record")
    for handle in (caller, callee):
        driver.switch_to.window(handle)
        driver.close()
    driver.switch_to.window(driver.window_handles[0])


class ScriptedIngest(http.server.BaseHTTPRequestHandler):
    """A service that answers ingest as the test says: `plan` is consumed one status per POST
    (then `default`); every POST is recorded with its arrival time, headers and body."""
    plan, default, posts = [], 202, []

    def log_message(self, *args):
        pass

    def cors(self):
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Access-Control-Allow-Methods", "POST")
        self.send_header("Access-Control-Allow-Headers", "Authorization, Content-Type, Content-Encoding")
        self.send_header("Access-Control-Expose-Headers", "Retry-After")

    def do_OPTIONS(self):
        self.send_response(204)
        self.cors()
        self.end_headers()

    def do_POST(self):
        import gzip
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.headers.get("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        cls = type(self)
        status, retry_after = cls.plan.pop(0) if cls.plan else (cls.default, None)
        cls.posts.append({"time": time.time(), "status": status, "gzip": self.headers.get("Content-Encoding") == "gzip",
                          "batch": json.loads(body), "auth": self.headers.get("Authorization")})
        self.send_response(status)
        self.cors()
        if retry_after:
            self.send_header("Retry-After", str(retry_after))
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"accepted":1,"duplicates":0,"late":0}' if status < 300 else b'{"error":{"code":"x","message":"scripted"}}')


def sdk_against_failures(driver, page, service):
    """Retry-After on 429, backoff on 503, the offline bound (oldest dropped, counted), gzip."""
    ScriptedIngest.plan = [(429, 2)] + [(503, None)] * 4
    ScriptedIngest.default, ScriptedIngest.posts = 202, []
    fake = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), ScriptedIngest)
    threading.Thread(target=fake.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{fake.server_address[1]}"
    try:
        query = urllib.parse.urlencode({"service": base, "sdk": service + "/sdk/roomstream.js"})
        driver.switch_to.new_window("tab")
        driver.get(f"{page}/sdk-offline.html?{query}")
        wait_for(lambda: driver.execute_script("return window.ready"), 10, "SDK loaded")
        wait_for(lambda: len([p for p in ScriptedIngest.posts if p["status"] == 202]) >= 3, 90, "the SDK delivers once the service recovers")
        posts = ScriptedIngest.posts
        check(posts[0]["status"] == 429 and posts[1]["time"] - posts[0]["time"] >= 1.9,
              f"SDK: waits Retry-After (2 s) after a 429 ({posts[1]['time'] - posts[0]['time']:.2f} s)")
        check(posts[1]["batch"]["samples"][0]["seq"] == posts[0]["batch"]["samples"][0]["seq"], "SDK: the refused batch is sent again (same seq)")
        gaps = [b["time"] - a["time"] for a, b in zip(posts[1:5], posts[2:6])]
        check(all(g >= 0.4 for g in gaps) and gaps[-1] > gaps[0], f"SDK: backs off on 503 ({', '.join(f'{g:.1f}' for g in gaps)} s)")
        stats = driver.execute_script("return roomstream.stats()")
        check(stats["dropped"] > 0, f"SDK: while the service refused, the oldest batches beyond the bound were dropped and counted ({stats})")
        accepted = [p for p in posts if p["status"] == 202]
        seqs = [s["seq"] for p in accepted for s in p["batch"]["samples"]]
        check(seqs == sorted(seqs) and len(set(seqs)) == len(seqs), f"SDK: delivered in seq order, no repeats ({seqs[:12]})")
        check(all(p["gzip"] for p in posts), "SDK: bodies gzip-compressed (Content-Encoding: gzip)")
        check(all(p["auth"] == "Bearer offline-key-0001" for p in posts), "SDK: Authorization: Bearer <key>")
        driver.get_log("browser")  # the scripted 429/503s are logged as errors: expected here, drained
        driver.close()
        driver.switch_to.window(driver.window_handles[0])
    finally:
        fake.shutdown()


def listed_origin_reads_413(driver, page, processes, binary, work):
    """With ingest.cors_origins listing the page's origin (not `*`), a body over max_body_bytes
    is answered 413 by the server before any route runs. The page must be able to read that
    answer: the SDK then drops the batch and goes on. Without CORS headers on it the browser
    reports a network error, and the SDK would retry the same batch with backoff while later
    ones queue behind it and are dropped."""
    service = start_roomstream(processes, binary, work, name="roomstream-listed",
                               server={"max_body_bytes": 64}, ingest={"keys": ["offline-key-0001"], "cors_origins": [page]})
    query = urllib.parse.urlencode({"service": service, "sdk": service + "/sdk/roomstream.js"})
    driver.get_log("browser")  # start from an empty console
    driver.switch_to.new_window("tab")
    driver.get(f"{page}/sdk-offline.html?{query}")
    wait_for(lambda: driver.execute_script("return window.ready"), 10, "SDK loaded")
    console = []

    def refused():
        console.extend(entry["message"] for entry in driver.get_log("browser"))
        return [m for m in console if "batch refused" in m and "413" in m]
    wait_for(lambda: len(refused()) >= 3, 20, "three batches refused with a readable 413")
    stats = driver.execute_script("return roomstream.stats()")
    check(len(refused()) >= 3, f"SDK on a listed origin: reads the server's 413 and drops the batch ({len(refused())} refused)")
    check(stats["dropped"] == 0 and stats["queued"] <= 1, f"SDK on a listed origin: nothing waits behind the refused batches ({stats})")
    check(not [m for m in console if "CORS" in m or "Failed to fetch" in m], f"SDK on a listed origin: no CORS or network error in the console ({console[:3]})")
    driver.close()
    driver.switch_to.window(driver.window_handles[0])


def operator_page(driver, page, service, screenshots):
    # A call in progress, so the page has a live room to show.
    room_id = "live-" + str(int(time.time()))
    caller = open_side(driver, page, service, room_id, "alice", "caller")
    callee = open_side(driver, page, service, room_id, "bob", "callee")
    wait_for(lambda: all(status_of(driver, h) == "connection connected" for h in (caller, callee)), 30, "operator: call connected")
    time.sleep(5)
    driver.switch_to.new_window("tab")
    driver.get(service + "/")
    driver.find_element("id", "token").send_keys(ADMIN)
    driver.find_element("css selector", "#login button").click()
    text = lambda selector: driver.find_element("css selector", selector).text
    wait_for(lambda: room_id in text("#rooms") and "calls" in text("#streams"), 20, "operator page shows the stream and the live room")
    check("calls" in text("#streams") and "directory" in text("#streams"), "operator page: the stream with its destination")
    check(room_id in text("#rooms") and "alice" in text("#rooms"), "operator page: the live room and its peers")
    # A file to list: seal the window now.
    sealed = call_api("POST", service + "/v1/streams/calls/seal", ADMIN)
    if sealed[0] == 409:  # the hour is just ending: its own seal comes within seconds
        time.sleep(2)
        sealed = call_api("POST", service + "/v1/streams/calls/seal", ADMIN)
    check(sealed[0] == 202, f"operator page: early seal requested ({sealed[0]} {sealed[1][:200]!r})")
    wait_for(lambda: "Download" in text("#files"), 20, "operator page lists the sealed file")
    check("uploaded" in text("#files"), "operator page: the file, uploaded")
    if screenshots:
        os.makedirs(screenshots, exist_ok=True)
        driver.save_screenshot(os.path.join(screenshots, "operator-page.png"))
        driver.set_window_size(390, 844)  # a phone
        time.sleep(0.5)
        driver.save_screenshot(os.path.join(screenshots, "operator-page-phone.png"))
        driver.set_window_size(1280, 900)
    errors = [entry for entry in driver.get_log("browser") if entry["level"] == "SEVERE"]
    check(not errors, f"operator page: no console errors ({errors})")
    driver.close()
    for handle in (caller, callee):
        driver.switch_to.window(handle)
        driver.close()
    driver.switch_to.window(driver.window_handles[0])


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("binary")
    parser.add_argument("--screenshots")
    args = parser.parse_args()
    work = tempfile.mkdtemp(prefix="roomstream-browser-")
    processes = Processes(work)
    server = driver = None
    try:
        service = start_roomstream(processes, os.path.abspath(args.binary), work)
        server, page = start_page_server(os.path.join(ROOT, "tests", "browser"))
        turn_port = start_coturn(processes, work)
        chromium_version = subprocess.run(["/usr/bin/chromium", "--version"], capture_output=True, text=True).stdout.split()[1]
        print(f"roomstream {service}, page {page}, coturn 127.0.0.1:{turn_port}, Chromium {chromium_version}", flush=True)
        driver = chrome()
        driver.get("about:blank")  # a first tab to come back to
        stamp = str(int(time.time()))
        scenarios = [
            ("direct-" + stamp, "", False, "direct", "udp"),
            ("turn-udp-" + stamp, f"turn:127.0.0.1:{turn_port}?transport=udp", True, "TURN", "udp"),
            ("turn-tcp-" + stamp, f"turn:127.0.0.1:{turn_port}?transport=tcp", True, "TURN", "tcp"),
        ]
        for room_id, turn, relay, connection_type, transport in scenarios:
            print(f"call {room_id}", flush=True)
            call(driver, page, service, room_id, turn, relay)
            check_call(service, room_id, connection_type, transport, chromium_version)
        print("the SDK against a failing service", flush=True)
        sdk_against_failures(driver, page, service)
        print("a listed origin reads the server's 413", flush=True)
        listed_origin_reads_413(driver, page, processes, os.path.abspath(args.binary), work)
        print("page closed mid-call", flush=True)
        beacon_scenario(driver, page, service)
        print("operator page", flush=True)
        operator_page(driver, page, service, args.screenshots)
    except Exception as error:  # a timeout or a driver error fails the run with its reason
        failures.append(f"{type(error).__name__}: {error}")
        print(f"  FAIL  {type(error).__name__}: {error}", flush=True)
        import traceback
        traceback.print_exc()
        for name in ("roomstream", "roomstream-listed", "coturn"):
            log = os.path.join(work, name + ".log")
            if os.path.exists(log):
                print(f"--- {name} log (tail)", open(log, errors="replace").read()[-3000:], sep="\n")
    finally:
        if driver:
            with contextlib.suppress(Exception):
                driver.quit()
        if server:
            server.shutdown()
        processes.stop()
    print(f"browser tests: {len(failures)} failure(s)")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
