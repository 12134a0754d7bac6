import Foundation
import Logging
@testable import RoomstreamApp
import RoomstreamStreams
import Testing
import TestSupport

/// `check-config` and what it shares with the start: every problem at once with its JSON path,
/// JSON syntax errors with line and column, environment overrides, public_url defaults.
struct ConfigurationCheckTests {
    static func file(_ text: String) throws -> String {
        let path = NSTemporaryDirectory() + "roomstream-check-\(UUID().uuidString).json"
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    @Test func everyProblemIsListedWithItsPath() throws {
        let path = try Self.file("""
        {"server": {"port": 99999, "hots": "x"}, "ingest": {"keys": ["short"], "peer_timeout_seconds": -1},
         "streams": [{"id": "a", "interval_minutes": 60, "destination": {"type": "directory", "path": "files"}},
                     {"id": "b", "interval_minutes": 60, "destination": {"type": "s3", "endpoint": "http://127.0.0.1:9", "region": "r", "bucket": "bkt",
                      "access_key_id": "AK", "secret_access_key_env": "ROOMSTREAM_TEST_NOPE"}},
                     {"id": "a", "interval_minutes": 60, "destination": {"type": "directory", "path": "x"}},
                     {"id": "c", "interval_minutes": 60, "destination": {"type": "ftp"}}],
         "location": {"city_database": "/nonexistent.mmdb"}, "bogus": 1}
        """)
        let report = ConfigurationCheck.run(file: path, environment: [:], tryDestinations: false)
        #expect(report.problems.map(\.field) == [
            "bogus", "streams[2].id", "streams[3].destination.type", "server.hots", "server.port", "ingest.keys[0]", "ingest.peer_timeout_seconds",
            "location.city_database", "streams[1].destination.secret_access_key_env",
        ])
        #expect(report.problems.last?.problem == "ROOMSTREAM_TEST_NOPE is not set in the environment")
        // The serve path stops at the first.
        #expect(throws: ConfigurationError.self) { try RoomstreamConfiguration.load(file: path) }
    }

    @Test(arguments: [
        ("{\n  \"server\": {\n    \"port\": 80,,\n  }\n}", "line 3, column 16"),
        ("{\"a\": }", "line 1, column 7"),
        ("{\n\"x\": \"é\",\n\"y\": [1, }", "line 3, column 10"),
        ("{\n\"x\": \"é\",\n\"y\": ", "end of file"),
    ])
    func jsonSyntaxErrorsSayLineAndColumn(text: String, position: String) throws {
        let report = ConfigurationCheck.run(file: try Self.file(text), environment: [:])
        #expect(report.problems.count == 1)
        #expect(report.problems.first?.problem.contains(position) == true, "\(report.problems)")
    }

    @Test func environmentOverridesSecrets() throws {
        var config = RoomstreamConfiguration()
        config.ingestKeys = ["from-the-file-1"]
        try config.applyEnvironment(["ROOMSTREAM_INGEST_KEYS": "key-one-0001, key-two-0002,", "ROOMSTREAM_ADMIN_TOKEN": "an-admin-token-of-16+"])
        #expect(config.ingestKeys == ["key-one-0001", "key-two-0002"])
        #expect(config.adminToken == "an-admin-token-of-16+")
        #expect(throws: ConfigurationError(field: "ROOMSTREAM_INGEST_KEYS[1]", problem: "must be at least 8 visible ASCII characters")) {
            try config.applyEnvironment(["ROOMSTREAM_INGEST_KEYS": "key-one-0001,short"])
        }
        // Through check-config too.
        let report = ConfigurationCheck.run(file: try Self.file("{}"), environment: ["ROOMSTREAM_ADMIN_TOKEN": "short"])
        #expect(report.problems.map(\.field) == ["ROOMSTREAM_ADMIN_TOKEN"])
    }

    @Test func publicURLFollowsTheListenAddressUnlessSet() throws {
        var config = try RoomstreamConfiguration.parse(Data(#"{"server": {"host": "127.0.0.1", "port": 9001}}"#.utf8))
        #expect(config.publicURL == "http://127.0.0.1:9001")
        try config.apply(host: "0.0.0.0", port: 7000, dataDirectory: nil, logLevel: nil)
        #expect(config.publicURL == "http://localhost:7000")
        try config.apply(host: "::1", port: nil, dataDirectory: nil, logLevel: nil)
        #expect(config.publicURL == "http://[::1]:7000")
        var explicit = try RoomstreamConfiguration.parse(Data(#"{"public_url": "https://stats.example.com/"}"#.utf8))
        try explicit.apply(host: nil, port: 7000, dataDirectory: nil, logLevel: nil)
        #expect(explicit.publicURL == "https://stats.example.com")
    }

    @Test func theShippedConfigIsClean() throws {
        let shipped = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Config/roomstream.json").standardized.path
        let report = ConfigurationCheck.run(file: shipped, environment: [:], tryDestinations: false)
        #expect(report.problems.isEmpty, "\(report.problems)")
        #expect(report.summary.contains("streams: hourly (every 60 min → directory files)"))
    }

    @Test func theServiceRefusesToStartWithAnUnsetSecretVariable() throws {
        var configuration = RoomstreamConfiguration()
        configuration.server.port = 0
        configuration.dataDirectory = NSTemporaryDirectory() + "roomstream-secret-\(UUID().uuidString)"
        configuration.streams = [StreamDefinition(id: "s", destination: .s3(S3Destination(
            endpoint: "http://127.0.0.1:9", region: "r", bucket: "bkt", accessKeyID: "AK", secretAccessKeyEnv: "ROOMSTREAM_TEST_UNSET_SECRET")))]
        #expect(throws: ConfigurationError(field: "streams s: destination.secret_access_key_env", problem: "ROOMSTREAM_TEST_UNSET_SECRET is not set in the environment")) {
            _ = try RoomstreamService(configuration: configuration, logger: Logger(label: "t") { _ in SwiftLogNoOpLogHandler() })
        }
    }
}
