#!/usr/bin/env python3
"""make chaos: kill -9 the service at random points and check that nothing acknowledged is lost.

Simulated peers post samples (1 s apart on their own clock) and retry each request until it is
answered 202, as the SDK does. The service is killed with SIGKILL at least --kills times (at random
moments of ingest, and at the instants windows seal and upload) and restarted at once. When every
peer is done and every window is sealed, each stream's files must hold every room exactly once,
with every peer that was answered 202, and figures that only come out right if every accepted
sample was counted:
  - audio send bitrate: packets and bytes grow only in the intervals ending at an odd seq, so a
    lost middle sample merges an idle second into an active interval and lowers the bitrate
    below 32 kbit/s;
  - duration: a lost first or last sample shortens it by a second.
Streams: a directory destination, and (when S3_TEST_RCLONE_* is set, as `make chaos` does) an
S3 destination on `rclone serve s3`, gzip, read back from rclone's directory.
"""
import argparse, gzip, http.client, json, os, random, shutil, signal, socket, subprocess, sys, tempfile, threading, time, uuid

KEY = "chaos-ingest-key-0001"
TOKEN = "chaos-admin-token-0001"
PEER_TIMEOUT = 8
GRACE = 2


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Service:
    def __init__(self, binary, config, port, log_path):
        self.binary, self.config, self.port, self.log_path = binary, config, port, log_path
        self.process = None
        self.lock = threading.Lock()
        self.kills = 0

    def start(self):
        log = open(self.log_path, "ab")
        self.process = subprocess.Popen([self.binary, "serve", "--config", self.config], stdout=log, stderr=log)
        deadline = time.time() + 30
        while time.time() < deadline:
            if self.process.poll() is not None:
                sys.exit(f"roomstream exited with {self.process.returncode} at start; see {self.log_path}")
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                c.request("GET", "/readyz")
                if c.getresponse().status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.02)
        sys.exit(f"roomstream did not become ready; see {self.log_path}")

    def kill_and_restart(self):
        with self.lock:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait()
            self.kills += 1
            self.start()

    def stop(self):
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=60)


def post(port, path, body):
    """One attempt; the status, or None when the service was not there (killed, restarting)."""
    try:
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        c.request("POST", path, body=body, headers={"Authorization": "Bearer " + KEY, "Content-Type": "application/json"})
        response = c.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return None


def post_until_accepted(port, path, body, stop):
    while not stop.is_set():
        status = post(port, path, body)
        if status == 202:
            return True
        if status not in (None, 503):
            raise RuntimeError(f"{path}: HTTP {status}")
        time.sleep(0.1)
    return False


class Peer(threading.Thread):
    def __init__(self, port, room, peer, samples, leave, start_ms, stop):
        super().__init__(daemon=True)
        self.port, self.room, self.peer, self.samples, self.leave, self.start_ms, self.stop = port, room, peer, samples, leave, start_ms, stop
        self.acked = []  # seqs answered 202
        self.leave_acked_at = None
        self.error = None

    def body(self, seq):
        ts = self.start_ms + (seq - 1) * 1000
        active = sum(1 for j in range(2, seq + 1) if j % 2 == 1)  # intervals ending at an odd seq
        stats = [{"id": "OA", "type": "outbound-rtp", "kind": "audio", "timestamp": ts, "bytesSent": 4000 * active, "packetsSent": 50 * active}]
        sample = {"seq": seq, "ts": ts, "pc": "pc1", "stats": stats}
        body = {"samples": [sample]}
        if seq == 1:
            body["events"] = [{"ts": ts - 300, "type": "pc_created", "pc": "pc1"}]
        return json.dumps(body).encode()

    def run(self):
        try:
            base = f"/v1/rooms/{self.room}/peers/{self.peer}"
            for seq in range(1, self.samples + 1):
                due = (self.start_ms + (seq - 1) * 1000) / 1000
                if due > time.time():
                    time.sleep(due - time.time())
                if not post_until_accepted(self.port, base + "/samples", self.body(seq), self.stop):
                    return
                self.acked.append(seq)
            if self.leave and post_until_accepted(self.port, base + "/leave", b"", self.stop):
                self.leave_acked_at = time.time() * 1000
        except Exception as error:  # reported, fails the run
            self.error = error


def iso_ms(text):
    from datetime import datetime, timezone
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp() * 1000


def read_records(files):
    """room_id -> [(file, record)] over the given (name, bytes) files."""
    rooms = {}
    for name, data in files:
        if name.endswith(".gz"):
            data = gzip.decompress(data)
        for record in json.loads(data):
            rooms.setdefault(record["room_id"], []).append((name, record))
    return rooms


def files_under(root, suffixes):
    out = []
    for directory, _, names in os.walk(root):
        for name in names:
            if name.endswith(suffixes):
                with open(os.path.join(directory, name), "rb") as f:
                    out.append((os.path.relpath(os.path.join(directory, name), root), f.read()))
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--binary", default=".build/debug/roomstream")
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--ingest-seconds", type=int, default=75)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--log-policy", default="fsync", help="durability.log_policy; `off` shows what the checks catch without the log")
    args = parser.parse_args()
    seed = args.seed if args.seed is not None else random.randrange(1 << 30)
    rng = random.Random(seed)
    print(f"chaos: seed {seed} (--seed {seed} repeats this run's choices)")

    work = tempfile.mkdtemp(prefix="roomstream-chaos-")
    port = free_port()
    run_id = uuid.uuid4().hex[:8]
    streams = [{"id": "dir", "interval_minutes": 1, "write_empty": True, "destination": {"type": "directory", "path": work + "/files"}}]
    rclone = os.environ.get("S3_TEST_RCLONE_ENDPOINT")
    if rclone:
        streams.append({"id": "s3", "interval_minutes": 1, "compression": "gzip", "write_empty": True, "destination": {
            "type": "s3", "endpoint": rclone, "region": "us-east-1", "bucket": os.environ["S3_TEST_RCLONE_BUCKET"], "prefix": f"chaos-{run_id}/",
            "access_key_id": os.environ["S3_TEST_RCLONE_ACCESS_KEY_ID"], "secret_access_key": os.environ["S3_TEST_RCLONE_SECRET_ACCESS_KEY"], "path_style": True}})
    config = {
        "server": {"host": "127.0.0.1", "port": port}, "data_dir": work + "/data", "admin": {"token": TOKEN},
        "ingest": {"keys": [KEY], "peer_timeout_seconds": PEER_TIMEOUT},
        "durability": {"checkpoint_interval_seconds": 1, "log_policy": args.log_policy},
        "delivery": {"grace_seconds": GRACE}, "streams": streams,
    }
    with open(work + "/config.json", "w") as f:
        json.dump(config, f)
    service = Service(args.binary, work + "/config.json", port, work + "/roomstream.log")
    service.start()
    started = time.time()

    # Kills: most at random moments, some at the instants windows seal (window end + timeout + grace).
    ingest_end = started + args.ingest_seconds
    first_boundary = (int(started) // 60 + 1) * 60
    seal_instants = [b + PEER_TIMEOUT + GRACE + rng.uniform(0, 0.3) for b in range(first_boundary, int(ingest_end), 60)]
    at_seals = seal_instants[: max(1, args.kills // 5)]
    kill_times = sorted([rng.uniform(started + 2, ingest_end) for _ in range(args.kills - len(at_seals))] + at_seals)

    stop = threading.Event()
    peers = []
    next_room = 0

    def spawn_rooms_until(deadline):
        nonlocal next_room
        while time.time() < deadline:
            room = f"chaos-{run_id}-room-{next_room}"
            next_room += 1
            start_ms = int(time.time() * 1000) + 200
            for p in range(rng.choice([1, 2, 2, 3])):
                peer = Peer(port, room, f"peer-{p}", rng.randint(3, 16), rng.random() < 0.5, start_ms, stop)
                peers.append(peer)
                peer.start()
            time.sleep(rng.uniform(0.3, 0.8))

    spawner = threading.Thread(target=spawn_rooms_until, args=(ingest_end,), daemon=True)
    spawner.start()
    for when in kill_times:
        if when > time.time():
            time.sleep(when - time.time())
        service.kill_and_restart()
        print(f"chaos: kill -9 #{service.kills} at +{time.time() - started:.1f} s", flush=True)
    spawner.join()
    for peer in peers:
        peer.join(timeout=120)
    errors = [f"{p.room}/{p.peer}: {p.error}" for p in peers if p.error]
    last_activity = max(p.start_ms + (max(p.acked) - 1) * 1000 for p in peers if p.acked) / 1000
    last_leave = max([p.leave_acked_at / 1000 for p in peers if p.leave_acked_at] + [last_activity])
    # The last room ends by last activity + timeout; its window seals at window end + timeout + grace.
    room_end = max(last_activity + PEER_TIMEOUT, last_leave)
    sealed_by = (int(room_end) // 60 + 1) * 60 + PEER_TIMEOUT + GRACE + 3
    print(f"chaos: {len(peers)} peers in {next_room} rooms done; waiting {max(0, sealed_by - time.time()):.0f} s for the last window to seal", flush=True)
    while time.time() < sealed_by:
        time.sleep(1)
    # Delivery retries after a kill mid-upload: give the spool a few seconds to drain.
    time.sleep(5)
    status = service.stop()

    expected = {}
    for p in peers:
        if p.acked:
            expected.setdefault(p.room, []).append(p)
    problems = list(errors)
    if status != 0:
        problems.append(f"graceful stop exited {status}")
    outputs = {"dir": files_under(work + "/files", (".json", ".json.gz"))}
    if rclone:
        outputs["s3"] = files_under(os.path.join(os.environ["S3_TEST_RCLONE_ROOT"], os.environ["S3_TEST_RCLONE_BUCKET"], f"chaos-{run_id}"), (".json", ".json.gz"))
    for stream, files in outputs.items():
        rooms = read_records(files)
        for room, placed in rooms.items():
            if room not in expected:
                problems.append(f"{stream}: {room} is in a file but was never answered 202")
        for room, room_peers in expected.items():
            placed = rooms.get(room, [])
            if len(placed) != 1:
                problems.append(f"{stream}: {room} is in {len(placed)} records ({[name for name, _ in placed]}), not 1")
                continue
            record = placed[0][1]
            by_id = {peer["peer_id"]: peer for peer in record["peers"]}
            if sorted(by_id) != sorted(p.peer for p in room_peers):
                problems.append(f"{stream}: {room} has peers {sorted(by_id)}, expected {sorted(p.peer for p in room_peers)}")
                continue
            for p in room_peers:
                got = by_id[p.peer]
                if p.acked != list(range(1, p.samples + 1)):
                    problems.append(f"{stream}: {room}/{p.peer} acked seqs {p.acked}")
                last = len(p.acked)
                low = last - 1  # seconds from the first sample to the last
                high = ((p.leave_acked_at - p.start_ms) / 1000 if p.leave_acked_at else low)
                if not (round(low) <= got["duration"] <= round(high) + 1):
                    problems.append(f"{stream}: {room}/{p.peer} duration {got['duration']} s, expected {low}..{high:.1f} (a first or last sample lost?)")
                bitrate = got["stats"]["audio"]["send"]["bitrate"]
                if last >= 3 and bitrate != 32:
                    problems.append(f"{stream}: {room}/{p.peer} audio send bitrate {bitrate}, expected 32 (an accepted sample not counted?)")
        print(f"chaos: stream {stream}: {len(files)} files, {sum(len(v) for v in rooms.values())} records for {len(expected)} rooms answered 202")
    samples = sum(len(p.acked) for p in peers)
    print(f"chaos: {service.kills} kill -9, {samples} samples answered 202 by {len(peers)} peers in {len(expected)} rooms")
    if problems:
        print(f"chaos: FAILED ({len(problems)} problems); data and log kept in {work}")
        for problem in problems[:50]:
            print("  " + problem)
        sys.exit(1)
    if service.kills < args.kills:
        sys.exit(f"chaos: only {service.kills} kills")
    print("chaos: every acknowledged sample and room is in exactly one file per stream")
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
