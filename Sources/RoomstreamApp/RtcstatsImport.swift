import Foundation
import RoomstreamCore
import RoomstreamIngest
import RoomstreamStreams

/// `roomstream import rtcstats DUMP...`: past calls recorded by jitsi/rtcstats-server become
/// room records and data stream files.
///
/// A dump is one JSON array per line, `[method, pc, value, timestamp]` (rtcstats client
/// protocol 3.x): `connectionInfo` (user agent, page path), `identity` (display name,
/// endpoint), `getUserMediaOnSuccess` (track labels), `create` (a peer connection), the
/// `on…statechange` callbacks, and `getstats`, delta-compressed: the first report of a
/// connection is whole, each later one holds only what changed, reports missing from it are
/// gone, and a report `timestamp` of 0 means the report set's own `timestamp`
/// (rtcstats-server, src/utils/getstats-deltacompression.js). Each `getstats` line becomes one
/// ingest body (the stats as an object keyed by id, as ingest-api.md allows) with the events
/// since the previous one, decoded by the same `IngestDecoder` and applied by the same
/// `RoomRegistry.ingest` as a live request, arriving at its own timestamp; a `leave` ends each
/// dump. So an imported call gets the figures a live one would.
public enum RtcstatsImport {
    public struct ImportError: Error, CustomStringConvertible {
        public var description: String
    }

    /// One dump, as ingest bodies with their arrival times.
    public struct Dump {
        public var roomID: String
        public var peerID: String
        public var userAgent: String?
        public var bodies: [(arrival: Double, json: [UInt8])] = []
    }

    /// Reads a dump. `room`/`peer` override what the dump says (its page path; its display
    /// name or endpoint id; else the file's name).
    public static func parse(_ text: String, file: String, room: String? = nil, peer: String? = nil) throws -> Dump {
        var roomID = room, peerID = peer, userAgent: String?
        var audioDevice: String?, videoDevice: String?
        var baseStats: [String: [String: [String: Any]]] = [:]  // per peer connection, the reports by id
        var events: [[String: Any]] = []
        var seq = 0
        var bodies: [(Double, [UInt8])] = []
        var lastTime = 0.0
        for (number, line) in text.split(separator: "\n").enumerated() where !line.allSatisfy(\.isWhitespace) {
            // A line that is not JSON is reported by its number below; the parser's own detail adds nothing.
            guard let entry = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [Any], entry.count >= 3, let method = entry[0] as? String else {
                throw ImportError(description: "\(file):\(number + 1): not an rtcstats line ([method, pc, value, timestamp])")
            }
            let pc = entry[1] as? String
            // Some clients send object values as JSON text.
            var value = entry[2]
            // Text that only looks like JSON stays text (a state name, say): nothing is lost.
            if let text = value as? String, text.hasPrefix("{"), let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) { value = object }
            let time = (entry.count > 3 ? (entry[3] as? NSNumber)?.doubleValue : nil) ?? lastTime
            lastTime = max(lastTime, time)
            switch method {
            case "connectionInfo":
                let info = value as? [String: Any]
                userAgent = info?["userAgent"] as? String ?? userAgent
                if roomID == nil, let path = info?["path"] as? String {
                    let name = path.split(separator: "/").last.map(String.init) ?? ""
                    if !name.isEmpty { roomID = name }
                }
            case "identity":
                let identity = value as? [String: Any]
                if peerID == nil { peerID = (identity?["endpointId"] as? String) ?? (identity?["displayName"] as? String) }
                if roomID == nil { roomID = identity?["confName"] as? String }
            case "navigator.mediaDevices.getUserMediaOnSuccess":
                for track in (value as? [String: Any])?["tracks"] as? [[String: Any]] ?? [] {
                    if track["kind"] as? String == "audio" { audioDevice = track["label"] as? String ?? audioDevice }
                    if track["kind"] as? String == "video" { videoDevice = track["label"] as? String ?? videoDevice }
                }
            case "create":
                if let pc { events.append(["ts": time, "type": "pc_created", "pc": pc]) }
            case "oniceconnectionstatechange", "onconnectionstatechange":
                if let pc, let state = value as? String {
                    events.append(["ts": time, "type": method == "onconnectionstatechange" ? "connection_state" : "ice_connection_state", "pc": pc, "state": state])
                }
            case "close":
                if let pc { events.append(["ts": time, "type": "connection_state", "pc": pc, "state": "closed"]) }
            case "getstats":
                guard let pc, let delta = value as? [String: Any] else { continue }
                let stats = decompress(base: baseStats[pc], delta: delta)
                baseStats[pc] = stats
                seq += 1
                var body: [String: Any] = ["sdk_version": "rtcstats-import", "events": events,
                                           "samples": [["seq": seq, "ts": time, "pc": pc, "stats": stats]]]
                if let audioDevice { body["audio_device"] = audioDevice }
                if let videoDevice { body["video_device"] = videoDevice }
                if let userAgent { body["user_agent"] = userAgent }
                events = []
                bodies.append((time, Array(try JSONSerialization.data(withJSONObject: body))))
            default:
                continue  // SDP, candidates, getUserMedia constraints: nothing the record uses
            }
        }
        // What came after the last stats, and the end of the call.
        events.append(["ts": lastTime, "type": "leave"])
        bodies.append((lastTime, Array(try JSONSerialization.data(withJSONObject: ["events": events]))))
        let fileName = URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent
        return Dump(roomID: roomID ?? fileName, peerID: peerID ?? fileName, userAgent: userAgent, bodies: bodies)
    }

    /// rtcstats-server's delta decompression: reports absent from `delta` are gone; present
    /// ones update the base field by field; a report timestamp of 0 is the set's `timestamp`.
    static func decompress(base: [String: [String: Any]]?, delta: [String: Any]) -> [String: [String: Any]] {
        let setTimestamp = delta["timestamp"]
        guard var stats = base else {
            var whole: [String: [String: Any]] = [:]
            for (id, report) in delta where id != "timestamp" {
                guard var report = report as? [String: Any] else { continue }
                if (report["timestamp"] as? NSNumber)?.doubleValue == 0, let setTimestamp { report["timestamp"] = setTimestamp }
                whole[id] = report
            }
            return whole
        }
        for id in stats.keys where delta[id] == nil { stats[id] = nil }
        for (id, change) in delta where id != "timestamp" {
            guard var report = change as? [String: Any] else { continue }
            if (report["timestamp"] as? NSNumber)?.doubleValue == 0, let setTimestamp { report["timestamp"] = setTimestamp }
            if var existing = stats[id] {
                for (name, field) in report { existing[name] = field }
                stats[id] = existing
            } else {
                stats[id] = report
            }
        }
        return stats
    }

    /// Applies dumps to a registry through the ingest path; returns the rooms they made, ended.
    public static func apply(_ dumps: [Dump], to registry: RoomRegistry) throws -> (requests: Int, refused: [String]) {
        var requests = 0
        var refused: [String] = []
        // All dumps in time order, so a room's peers interleave as they did live.
        let ordered = dumps.flatMap { dump in dump.bodies.map { (dump, $0.arrival, $0.json) } }.sorted { $0.1 < $1.1 }
        for (dump, arrival, json) in ordered {
            requests += 1
            do {
                let batch = try IngestDecoder.decode(json)
                _ = try registry.ingest(roomID: dump.roomID, peerID: dump.peerID, batch: batch, arrival: arrival + 50, userAgent: dump.userAgent)
            } catch {
                refused.append("\(dump.roomID)/\(dump.peerID) at \(ISO8601Milliseconds.format(arrival)): \(error)")
            }
        }
        return (requests, refused)
    }

    /// Writes each stream's files for the windows the imported rooms ended in, under `output`
    /// (one directory per stream, keys by the stream's template), sealed like live files.
    public static func writeFiles(registry: RoomRegistry, streams: [StreamDefinition], publicURL: String, output: String, instance: String) throws -> [String] {
        var written: [String] = []
        let ended = registry.endedRooms.sorted { ($0.endTime ?? 0) < ($1.endTime ?? 0) }
        for stream in streams {
            var byWindow: [StreamWindow: [String]] = [:]
            for room in ended {
                let window = StreamWindow.containing(room.endTime ?? 0, intervalMinutes: stream.intervalMinutes)
                byWindow[window, default: []].append(RoomRecord.json(room, publicURL: publicURL))
            }
            let spool = "\(output)/.spool/\(stream.id)"
            for window in byWindow.keys.sorted() {
                let file = try Sealer.seal(records: byWindow[window] ?? [], window: window, definition: stream, spoolDirectory: spool,
                                           now: Date().timeIntervalSince1970 * 1000)
                let store = DirectoryStore(root: "\(output)/\(stream.id)")
                try store.put(key: file.key, from: "\(spool)/\(file.spoolName)")
                written.append(store.path(for: file.key))
            }
        }
        try? FileManager.default.removeItem(atPath: "\(output)/.spool")  // the copies are in place
        return written
    }

    public struct Report: Sendable {
        public var requests = 0
        public var refused: [String] = []
        public var rooms = 0
        public var files: [String] = []
    }

    /// The whole import: reads the dumps, applies them, writes the files. Streams and
    /// `public_url` come from `configuration` (no streams: one hourly stream).
    public static func run(dumpPaths: [String], output: String, configuration: RoomstreamConfiguration, room: String?) throws -> Report {
        var dumps: [Dump] = []
        for path in dumpPaths {
            // The failure is reported (as cannot read, with the path); Foundation's detail adds little.
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else { throw ImportError(description: "\(path): cannot read") }
            dumps.append(try parse(text, file: path, room: room))
        }
        var rooms = RoomRegistryConfiguration()
        rooms.peerTimeoutSeconds = configuration.rooms.peerTimeoutSeconds
        let registry = RoomRegistry(configuration: rooms)
        let applied = try apply(dumps, to: registry)
        let streams = configuration.streams.isEmpty ? [StreamDefinition(id: "hourly", intervalMinutes: 60, destination: .directory(path: output))] : configuration.streams
        let files = try writeFiles(registry: registry, streams: streams, publicURL: configuration.publicURL, output: output, instance: configuration.instanceID)
        return Report(requests: applied.requests, refused: applied.refused, rooms: registry.endedRoomCount, files: files)
    }
}
