#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Testing
import TestSupport

/// Two instances behind HAProxy (Debian's package), which hashes on the room id
/// (`balance uri path-only depth 3`: `/v1/rooms/<id>`), driven by the simulator: every room
/// lands in exactly one instance's file, and the files together hold every room
/// (docs/operations.md, "Sharding by room id").
@Suite(.serialized) struct ShardingTests {
    static let haproxy = "/usr/sbin/haproxy"
    static let key = "shard-ingest-key-0001", admin = "shard-admin-token-000001"

    static func get(_ port: Int, _ path: String, method: String = "GET") throws -> (status: Int, body: Data) {
        let client = try RawClient(port: port)
        client.send(Array("\(method) \(path) HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer \(admin)\r\nContent-Length: 0\r\n\r\n".utf8))
        let response = try #require(client.readResponse())
        return (response.status, Data(response.body))
    }

    // Not under the sanitizers: three sanitized processes beside the sanitized test process
    // starve the 2-core machine, and the children are separate processes the sanitizer runs of
    // the test process do not examine anyway.
    @Test(.enabled(if: TestEnvironment.runnable(requiringPath: haproxy), "needs haproxy (make test installs it)"),
          .enabled(if: !Sanitizer.isActive, "an integration test of three processes; not under a sanitizer"))
    func eachRoomIsInExactlyOneInstancesFile() async throws {
        // The hourly window must not end during the test (4 s alone, up to 25 s beside the
        // rest of the suite): an early seal of a window that is ending is refused with 409
        // ("sealed at its watermark"), which once failed this test at 19:00:00. Within 90 s of
        // the hour, start after it.
        let secondsIntoHour = Int(Date().timeIntervalSince1970) % 3600
        if secondsIntoHour > 3600 - 90 { try await Task.sleep(for: .seconds(3600 - secondsIntoHour + 1)) }
        let work = NSTemporaryDirectory() + "roomstream-shard-\(UUID().uuidString)"
        let store = work + "/store"
        try FileManager.default.createDirectory(atPath: store, withIntermediateDirectories: true)
        // Three distinct free ports (a port just released may be handed out again).
        var picked: [Int] = []
        while picked.count < 3 {
            let port = RoomstreamExecutableTests.freePort()
            if !picked.contains(port) { picked.append(port) }
        }
        let ports = Array(picked[0..<2]), front = picked[2]
        var children: [ChildProcess] = []
        defer { for child in children { child.signal(SIGKILL); _ = child.wait() } }
        for (index, port) in ports.enumerated() {
            let config = """
            {"instance_id": "node-\(index)", "server": {"host": "127.0.0.1", "port": \(port)}, "ingest": {"keys": ["\(Self.key)"]},
             "admin": {"token": "\(Self.admin)"}, "log": {"level": "warning"},
             "streams": [{"id": "shard", "interval_minutes": 60, "destination": {"type": "directory", "path": "\(store)"},
                          "key_template": "dt={date}/{stream}_{start}_{end}_{instance}.json"}]}
            """
            let path = "\(work)/node-\(index).json"
            try Data(config.utf8).write(to: URL(fileURLWithPath: path))
            children.append(try ChildProcess(RoomstreamExecutableTests.binary.path, ["serve", "--config", path, "--data-dir", "\(work)/data-\(index)"]))
        }
        let haproxyConfig = """
        global
          maxconn 512
        defaults
          mode http
          timeout connect 2s
          timeout client 10s
          timeout server 10s
        frontend ingest
          bind 127.0.0.1:\(front)
          default_backend roomstream
        backend roomstream
          balance uri path-only depth 3
          hash-type consistent
          server node-0 127.0.0.1:\(ports[0])
          server node-1 127.0.0.1:\(ports[1])
        """
        // HAProxy refuses a file whose last line has no LF.
        try Data((haproxyConfig + "\n").utf8).write(to: URL(fileURLWithPath: "\(work)/haproxy.cfg"))
        let proxy = try ChildProcess(Self.haproxy, ["-db", "-f", "\(work)/haproxy.cfg"])
        children.append(proxy)
        // Ready when both instances and the proxy answer.
        for port in ports + [front] {
            var ready = false
            for _ in 0..<100 where !ready {
                ready = (try? Self.get(port, "/readyz").status) == 200
                if !ready { try await Task.sleep(for: .milliseconds(100)) }
            }
            #expect(ready, "port \(port) did not become ready; haproxy: \(proxy.stderr)")
        }

        let rooms = 40
        let simulator = try ChildProcess(RoomstreamExecutableTests.binary.path, [
            "simulate", "--url", "http://127.0.0.1:\(front)", "--key", Self.key, "--rooms", "\(rooms)", "--peers-per-room", "2",
            "--duration", "2", "--sample-interval", "0.5", "--concurrency", "8"])
        // Waited for without blocking a thread of the test pool.
        #expect(await simulator.exited() == 0, "\(simulator.stdout)\(simulator.stderr)")

        // Each instance seals its window now; the files appear at the next tick.
        var roomsByInstance: [[String]] = []
        for port in ports {
            let seal = try Self.get(port, "/v1/streams/shard/seal", method: "POST")
            #expect(seal.status == 202, "seal: \(seal.status) \(String(decoding: seal.body, as: UTF8.self))")
            var files: [[String: Any]] = []
            for _ in 0..<50 where files.isEmpty {
                try await Task.sleep(for: .milliseconds(200))
                let listing = try JSONSerialization.jsonObject(with: try Self.get(port, "/v1/streams/shard/files?state=uploaded").body) as? [String: Any]
                files = listing?["files"] as? [[String: Any]] ?? []
            }
            let key = try #require(files.first?["key"] as? String)
            let records = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: "\(store)/\(key)"))) as? [[String: Any]])
            roomsByInstance.append(records.compactMap { $0["room_id"] as? String })
        }
        let all = roomsByInstance.flatMap { $0 }
        #expect(Set(all).count == all.count, "a room is in more than one file")
        #expect(Set(all) == Set((0..<rooms).map { "sim-\($0)" }), "the files together miss rooms")
        #expect(roomsByInstance.allSatisfy { !$0.isEmpty }, "HAProxy sent every room to one instance: \(roomsByInstance.map(\.count))")
        // Every room's peers went to the same instance: each record has both.
        let files = try FileManager.default.subpathsOfDirectory(atPath: store).filter { $0.hasSuffix(".json") }
        #expect(files.contains { $0.hasSuffix("_node-0.json") } && files.contains { $0.hasSuffix("_node-1.json") })
    }
}
