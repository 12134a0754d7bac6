#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RoomstreamBasics
import TestSupport
import Testing

/// The `roomstream` binary itself, run as a child process: CLI, exit codes, signals.
@Suite(.serialized) struct RoomstreamExecutableTests {
    /// The binary SwiftPM built next to the test bundle.
    static let binary: URL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        .deletingLastPathComponent().appendingPathComponent("roomstream")

    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func run(_ arguments: [String]) throws -> Run {
        let child = try ChildProcess(binary.path, arguments)
        let status = child.wait()
        return Run(status: status, stdout: child.stdout, stderr: child.stderr)
    }

    static func freePort() -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        defer { closeDescriptor(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }

    @Test func checkConfigExitsTwoWithEveryProblemOrZeroWithASummary() throws {
        let bad = NSTemporaryDirectory() + "roomstream-bad-\(UUID().uuidString).json"
        try Data(#"{"server": {"port": -1}, "log": {"level": "loud"}}"#.utf8).write(to: URL(fileURLWithPath: bad))
        let failed = try Self.run(["check-config", bad])
        #expect(failed.status == 2)
        #expect(failed.stdout.contains("\(bad): server.port: must be an integer from 0 to 65535, got -1"))
        #expect(failed.stdout.contains("\(bad): log.level: must be one of"))
        #expect(failed.stdout.contains("2 problems"))
        let good = NSTemporaryDirectory() + "roomstream-good-\(UUID().uuidString).json"
        try Data(#"{"ingest": {"keys": ["a-good-key-01"]}}"#.utf8).write(to: URL(fileURLWithPath: good))
        let passed = try Self.run(["check-config", good])
        #expect(passed.status == 0, "\(passed.stdout)\(passed.stderr)")
        #expect(passed.stdout.contains("; listen 0.0.0.0:8080"))
        #expect(passed.stdout.contains("1 ingest key"))
    }

    @Test func version() throws {
        let run = try Self.run(["--version"])
        #expect(run.status == 0)
        #expect(run.stdout.trimmingCharacters(in: .whitespacesAndNewlines).hasPrefix("roomstream "))
    }

    @Test func help() throws {
        let run = try Self.run(["--help"])
        #expect(run.status == 0)
        #expect(run.stdout.contains("serve"))
        let serveHelp = try Self.run(["serve", "--help"])
        for flag in ["--config", "--host", "--port", "--data-dir"] { #expect(serveHelp.stdout.contains(flag)) }
    }

    @Test func badConfigExitsWithStatus2AndOneClearMessage() throws {
        let path = NSTemporaryDirectory() + "roomstream-bad-\(UUID().uuidString).json"
        try Data(#"{"server":{"port":"eighty"}}"#.utf8).write(to: URL(fileURLWithPath: path))
        let run = try Self.run(["serve", "--config", path])
        #expect(run.status == 2)
        let lines = run.stderr.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(lines.first?.contains(#""level":"critical""#) == true)
        #expect(lines.first?.contains("server.port: must be a number, got") == true)
        #expect(try Self.run(["serve", "--config", "/nonexistent.json"]).status == 2)
    }

    @Test func serveAnswersThenDrainsOnSIGTERMAndExits0() async throws {
        let port = Self.freePort()
        let dataDirectory = NSTemporaryDirectory() + "roomstream-exe-\(UUID().uuidString)"
        let child = try ChildProcess(Self.binary.path, ["serve", "--host", "127.0.0.1", "--port", String(port), "--data-dir", dataDirectory])

        var ready = false
        for _ in 0..<200 where !ready {
            if let client = try? RawClient(port: port) {
                client.send("GET /readyz HTTP/1.1\r\nHost: t\r\n\r\n")
                ready = client.readResponse()?.status == 200
            }
            if !ready { try await Task.sleep(for: .milliseconds(25)) }
        }
        #expect(ready)
        child.signal(SIGTERM)
        #expect(child.wait() == 0)
        let log = child.stderr
        #expect(log.contains(#""msg":"draining""#))
        #expect(log.contains(#""msg":"stopped""#))
        for line in log.split(separator: "\n") {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) != nil, "not JSON: \(line)")
        }
    }
}

/// Live rooms across restarts: a graceful stop writes a final checkpoint and the next start
/// continues the same room instances; after `kill -9` the rooms checkpointed before it are back.
@Suite(.serialized) struct LiveStateRestartTests {
    static let ingestKey = "exe-ingest-key-0001"
    static let adminToken = "exe-admin-token-0000001"

    static func start(port: Int, data: String, checkpointSeconds: Double = 0.2, logPolicy: String = "fsync") async throws -> ChildProcess {
        let config = data + ".json"
        // A long peer timeout: under a sanitizer on a busy machine five restarts take longer
        // than the default 30 s, and rooms that time out are no longer live (not lost).
        try Data("""
        {"server":{"host":"127.0.0.1","port":\(port)},"data_dir":"\(data)","ingest":{"keys":["\(ingestKey)"],"peer_timeout_seconds":600},
         "admin":{"token":"\(adminToken)"},"durability":{"checkpoint_interval_seconds":\(checkpointSeconds),"log_policy":"\(logPolicy)"}}
        """.utf8).write(to: URL(fileURLWithPath: config))
        let child = try ChildProcess(RoomstreamExecutableTests.binary.path, ["serve", "--config", config])
        for _ in 0..<400 {
            if let client = try? RawClient(port: port) {
                client.send("GET /readyz HTTP/1.1\r\nHost: t\r\n\r\n")
                if client.readResponse()?.status == 200 { return child }
            }
            try await Task.sleep(for: .milliseconds(25))
        }
        Issue.record("roomstream did not start: \(child.stderr)")
        return child
    }

    static func post(_ port: Int, room: String, seq: Int, ts: Int) throws -> Int? {
        let body = #"{"samples":[{"seq":\#(seq),"ts":\#(ts),"pc":"pc1","stats":[{"id":"O","type":"outbound-rtp","timestamp":\#(ts),"kind":"audio","bytesSent":\#(seq * 1000),"packetsSent":\#(seq * 10)}]}]}"#
        let client = try RawClient(port: port)
        client.send("POST /v1/rooms/\(room)/peers/p/samples HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer \(ingestKey)\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        return client.readResponse()?.status
    }

    static func liveRooms(_ port: Int) throws -> [String: String] {
        let client = try RawClient(port: port)
        client.send("GET /v1/rooms?state=live HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer \(adminToken)\r\n\r\n")
        let json = client.readResponse().flatMap { try? JSONSerialization.jsonObject(with: Data($0.body)) as? [String: Any] }
        let rooms = json?["rooms"] as? [[String: Any]] ?? []
        return Dictionary(uniqueKeysWithValues: rooms.compactMap { room in (room["room_id"] as? String).map { ($0, room["start_time"] as? String ?? "") } })
    }

    /// The write-ahead log: `kill -9` right after the 202s, long before any checkpoint (every
    /// 30 s here), loses none of the 20 rooms, under each sync policy.
    @Test(arguments: ["fsync", "interval", "none"])
    func killedRightAfterTheAnswersKeepsEveryAcknowledgedRoom(_ policy: String) async throws {
        let port = RoomstreamExecutableTests.freePort()
        let data = NSTemporaryDirectory() + "roomstream-wal-\(UUID().uuidString)"
        let now = Int(Date().timeIntervalSince1970 * 1000)
        var child = try await Self.start(port: port, data: data, checkpointSeconds: 30, logPolicy: policy)
        for round in 0..<5 {
            for index in 0..<4 { #expect(try Self.post(port, room: "round\(round)-room\(index)", seq: 1, ts: now + round * 1000) == 202) }
            child.signal(SIGKILL)
            child.wait()
            child = try await Self.start(port: port, data: data, checkpointSeconds: 30, logPolicy: policy)
        }
        let rooms = try Self.liveRooms(port)
        #expect(rooms.count == 20, "rooms back after five kill -9: \(rooms.keys.sorted())")
        // Each restart wrote a checkpoint of what it replayed and dropped the segments it covers.
        let segments = try FileManager.default.contentsOfDirectory(atPath: data + "/rooms/log").filter { $0.hasSuffix(".wal") }
        #expect(segments.count <= 2, "\(segments)")
        child.signal(SIGTERM)
        #expect(child.wait() == 0)
    }

    @Test func killedAndRestartedServiceKeepsTheCheckpointedRoomsAndAGracefulStopContinuesThem() async throws {
        let port = RoomstreamExecutableTests.freePort()
        let data = NSTemporaryDirectory() + "roomstream-restart-\(UUID().uuidString)"
        let now = Int(Date().timeIntervalSince1970 * 1000)
        var child = try await Self.start(port: port, data: data, logPolicy: "off")
        for round in 0..<5 {
            for index in 0..<4 { #expect(try Self.post(port, room: "round\(round)-room\(index)", seq: 1, ts: now + round * 1000) == 202) }
            // Wait for a checkpoint after these (every 0.2 s), then crash.
            let marker = "round\(round)-room3"
            for _ in 0..<200 {
                if (try? String(contentsOfFile: data + "/rooms/live.checkpoint.json", encoding: .utf8))?.contains(marker) == true { break }
                try await Task.sleep(for: .milliseconds(25))
            }
            child.signal(SIGKILL)
            child.wait()
            child = try await Self.start(port: port, data: data, logPolicy: "off")
        }
        let before = try Self.liveRooms(port)
        #expect(before.count == 20, "rooms back after five kill -9: \(before.keys.sorted())")

        // A graceful stop and start: the same instances (same start times), not new rooms.
        child.signal(SIGTERM)
        #expect(child.wait() == 0)
        child = try await Self.start(port: port, data: data)
        #expect(try Self.post(port, room: "round0-room0", seq: 2, ts: now + 10_000) == 202)
        let after = try Self.liveRooms(port)
        #expect(after == before)
        child.signal(SIGTERM)
        #expect(child.wait() == 0)
    }
}
