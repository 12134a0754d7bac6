import Foundation
@testable import RoomstreamApp
import RoomstreamCore
import RoomstreamIngest
import Testing
import TestSupport

/// `roomstream import rtcstats`: the rtcstats captures of ../shared (converted from
/// jitsi/rtcstats-server's test dumps) written back into rtcstats' own dump format, delta
/// compression included, imported, and compared with a live replay of the same capture.
@Suite(.enabled(if: SharedData.runnable, "needs ../shared/captures beside the checkout"),
       .enabled(if: !Sanitizer.isActive, "a CPU-heavy integration test (JSON, Python, files); under a sanitizer it starves the 2-core machine's test pool, and the sanitizer runs are for the service's own threads and memory"))
struct RtcstatsImportTests {
    static let captures = ["rtcstats-firefox-standard-stats-sfu", "rtcstats-safari-standard-stats"]

    /// A capture's bodies as an rtcstats dump: connectionInfo, identity, getUserMediaOnSuccess,
    /// create and state callbacks, getstats delta-compressed the way the rtcstats client does
    /// (unchanged fields left out, an unchanged report as `{"timestamp":0}`, the set's
    /// `timestamp` at the top level).
    static func dump(_ name: String) throws -> (text: String, bodies: [[String: Any]]) {
        let lines = try String(contentsOf: SharedData.captures.appendingPathComponent("\(name).ndjson"), encoding: .utf8).split(separator: "\n")
        var out: [String] = []
        func emit(_ method: String, _ pc: String?, _ value: Any, _ ts: Double) throws {
            let data = try JSONSerialization.data(withJSONObject: [method, pc as Any? ?? NSNull(), value, ts], options: [.fragmentsAllowed])
            out.append(String(decoding: data, as: UTF8.self))
        }
        var bodies: [[String: Any]] = []
        var base: [String: [String: Any]]?
        for line in lines {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            guard let body = object["body"] as? [String: Any] else { continue }
            bodies.append(body)
            let first = (body["events"] as? [[String: Any]])?.first?["ts"] as? Double ?? ((body["samples"] as? [[String: Any]])?.first?["ts"] as? Double ?? 0)
            if out.isEmpty {
                try emit("connectionInfo", nil, ["path": "/imported-call", "userAgent": body["user_agent"] ?? "", "clientProtocol": "3.1_STANDARD"], first)
                try emit("identity", nil, ["displayName": "imported-peer"], first)
                try emit("navigator.mediaDevices.getUserMediaOnSuccess", nil, ["tracks": [
                    ["kind": "audio", "label": body["audio_device"] ?? ""], ["kind": "video", "label": body["video_device"] ?? ""]]], first)
            }
            for event in body["events"] as? [[String: Any]] ?? [] {
                let ts = event["ts"] as? Double ?? 0, pc = event["pc"] as? String
                switch event["type"] as? String {
                case "pc_created": try emit("create", pc, ["iceServers": []], ts)
                case "connection_state": try emit("onconnectionstatechange", pc, event["state"] ?? "", ts)
                case "ice_connection_state": try emit("oniceconnectionstatechange", pc, event["state"] ?? "", ts)
                default: break
                }
            }
            for sample in body["samples"] as? [[String: Any]] ?? [] {
                var reports: [String: [String: Any]] = [:]
                if let array = sample["stats"] as? [[String: Any]] {
                    for report in array { if let id = report["id"] as? String { reports[id] = report } }
                } else if let keyed = sample["stats"] as? [String: [String: Any]] {
                    reports = keyed
                }
                let ts = sample["ts"] as? Double ?? 0
                var delta: [String: Any] = ["timestamp": ts]
                for (id, report) in reports {
                    guard let previous = base?[id] else { delta[id] = report; continue }
                    var changed: [String: Any] = [:]
                    for (field, value) in report where field != "timestamp" && !((previous[field] as? NSObject)?.isEqual(value) ?? false) { changed[field] = value }
                    changed["timestamp"] = (report["timestamp"] as? Double) == ts ? 0 : report["timestamp"]
                    delta[id] = changed
                }
                base = reports
                try emit("getstats", sample["pc"] as? String, delta, ts)
            }
        }
        return (out.joined(separator: "\n") + "\n", bodies)
    }

    /// The capture replayed live: its bodies through the same decoder and registry.
    static func live(_ bodies: [[String: Any]]) throws -> Room {
        let registry = RoomRegistry()
        for body in bodies {
            let batch = try IngestDecoder.decode(Array(try JSONSerialization.data(withJSONObject: body)))
            _ = try registry.ingest(roomID: "live", peerID: "imported-peer", batch: batch, arrival: (batch.latestTimestamp ?? 0) + 50, userAgent: nil)
        }
        _ = registry.leave(roomID: "live", peerID: "imported-peer", arrival: (bodies.last.flatMap { try? IngestDecoder.decode(Array(JSONSerialization.data(withJSONObject: $0))) }?.latestTimestamp ?? 0) + 50)
        return try #require(registry.room(id: "live", start: nil))
    }

    static func peerFigures(_ json: String) throws -> [String: Any] {
        let record = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        let peer = try #require((record["peers"] as? [[String: Any]])?.first)
        return ["stats": peer["stats"] ?? NSNull(), "features": peer["features"] ?? NSNull(), "browser": peer["browser"] ?? NSNull(),
                "audio_device": peer["audio_device"] ?? NSNull(), "video_device": peer["video_device"] ?? NSNull()]
    }

    @Test(arguments: captures)
    func anImportedCallHasTheFiguresOfALiveReplay(_ name: String) throws {
        let (text, bodies) = try Self.dump(name)
        let dump = try RtcstatsImport.parse(text, file: "/tmp/\(name).txt")
        #expect(dump.roomID == "imported-call")
        #expect(dump.peerID == "imported-peer")
        let registry = RoomRegistry()
        let result = try RtcstatsImport.apply([dump], to: registry)
        #expect(result.refused.isEmpty, "\(result.refused)")
        let imported = try #require(registry.room(id: "imported-call", start: nil))
        #expect(imported.endTime != nil)
        let importedFigures = try Self.peerFigures(RoomRecord.json(imported, publicURL: "https://s"))
        let liveFigures = try Self.peerFigures(RoomRecord.json(try Self.live(bodies), publicURL: "https://s"))
        #expect(NSDictionary(dictionary: importedFigures).isEqual(to: liveFigures), "\(importedFigures)\n!=\n\(liveFigures)")
        // And the capture's own expected figures are there (an MOS, a transport).
        let stats = try #require(importedFigures["stats"] as? [String: Any])
        #expect(stats["mos"] is NSNumber)
    }

    @Test func theCommandWritesDataStreamFiles() async throws {
        let work = NSTemporaryDirectory() + "roomstream-import-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: work, withIntermediateDirectories: true)
        var paths: [String] = []
        for name in Self.captures {
            let path = "\(work)/\(name).dump"
            try Data(try Self.dump(name).text.utf8).write(to: URL(fileURLWithPath: path))
            paths.append(path)
        }
        let run = try ChildProcess(RoomstreamExecutableTests.binary.path, ["import", "rtcstats"] + paths + ["--out", "\(work)/out"])
        #expect(await run.exited() == 0, "\(run.stdout)\(run.stderr)")
        #expect(run.stdout.contains("2 dumps"))
        let files = try FileManager.default.subpathsOfDirectory(atPath: "\(work)/out/hourly").filter { $0.hasSuffix(".json") }
        #expect(!files.isEmpty)
        var rooms = 0
        for file in files {
            let array = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(work)/out/hourly/\(file)"))) as? [[String: Any]])
            rooms += array.count
        }
        // Both captures are one room (imported-call, by the page path), each a call of its own
        // day: two rooms in their own windows.
        #expect(rooms == 2)
        if BIQueriesTests.runnable {
            let validate = try ChildProcess("/usr/bin/env", ["python3", "\(BIQueriesTests.scripts)/validate-records.py"] + files.map { "\(work)/out/hourly/\($0)" })
            #expect(await validate.exited() == 0, "\(validate.stdout)")
        }
    }
}
