"""Writes the multi-body seeds of the ingest fuzzer (Fuzz/corpus/ingest/*.bodies) and the
regression input of issue 7 (Fuzz/regressions/ingest-counter-jump-1e30.bodies). An input is
several ingest bodies separated by NUL, applied in order to one peer (Sources/IngestFuzzing).
  python3 scripts/make-ingest-fuzz-seeds.py ../shared/captures/direct-chrome156.ndjson"""
import json
import sys

capture = sys.argv[1]
bodies = [json.loads(line)["body"] for line in open(capture) if '"peer": "alice"' in line or '"peer":"alice"' in line]
bodies = [b for b in bodies if b.get("samples")][:3]
compact = lambda body: json.dumps(body, separators=(",", ":"))

def write(path, texts):
    with open(path, "wb") as out:
        out.write(b"\0".join(t.encode() for t in texts))

# Three consecutive real Chrome bodies: counters advance across them.
write("Fuzz/corpus/ingest/chrome-3-bodies.bodies", [compact(b) for b in bodies])

def small(seq, ts, bytes_, packets):
    stats = [
        {"id": "O", "type": "outbound-rtp", "timestamp": ts, "kind": "audio", "bytesSent": bytes_, "packetsSent": packets},
        {"id": "I", "type": "inbound-rtp", "timestamp": ts, "kind": "video", "bytesReceived": bytes_, "packetsReceived": packets, "packetsLost": 1, "jitter": 0.01},
        {"id": "R", "type": "remote-inbound-rtp", "timestamp": ts, "kind": "audio", "localId": "O", "packetsLost": 1, "roundTripTime": 0.05, "roundTripTimeMeasurements": 1},
    ]
    return json.dumps({"samples": [{"seq": seq, "ts": ts, "pc": "pc1", "stats": stats}]}, separators=(",", ":"))

t0 = 1700000000000
# The reported crash: a counter from 0 to 1e30 (bitrate 8e27 trapped the record writer).
write("Fuzz/regressions/ingest-counter-jump-1e30.bodies", [small(1, t0, 0, 0), small(2, t0 + 1000, 1e30, 1e30)])
# Resets, negative values and strings where numbers belong.
write("Fuzz/corpus/ingest/counters-reset-negative.bodies",
      [small(1, t0, 1000, 10), small(2, t0 + 1000, -5, -1), small(3, t0 + 2000, 500, 5), small(4, t0 + 3000, 9e15, 9e15)])
write("Fuzz/corpus/ingest/nan-like-strings.bodies",
      [small(1, t0, 0, 0), small(2, t0 + 1000, 1000, 10).replace('"bytesSent":1000', '"bytesSent":"NaN"').replace('"packetsSent":10', '"packetsSent":"Infinity"')])
