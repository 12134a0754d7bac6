#if canImport(Glibc)
import Glibc
#endif
import Foundation
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
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) } }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
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
