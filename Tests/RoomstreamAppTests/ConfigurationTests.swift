import Foundation
@testable import RoomstreamApp
import RoomstreamServer
import RoomstreamStreams
import Testing

struct ConfigurationTests {
    @Test func shippedConfigFileParsesToTheDefaults() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../Config/roomstream.json")
        let config = try RoomstreamConfiguration.load(file: url.path)
        var expected = RoomstreamConfiguration()
        expected.server.eventLoopCount = System.coreCount
        expected.ingestKeys = ["dev-ingest-key-change-me"]
        expected.adminToken = "dev-admin-token-change-me"
        expected.streams = [StreamDefinition(id: "hourly", intervalMinutes: 60, destination: .directory(path: "files"))]
        expected.apiDirectoryRoot = "files"
        #expect(config == expected)
    }

    @Test func valuesOverrideDefaults() throws {
        let config = try RoomstreamConfiguration.parse(Data(#"""
        {"server":{"host":"127.0.0.1","port":9000,"header_timeout_seconds":0.5,"max_body_bytes":2048,"max_connections":5},
         "data_dir":"/tmp/x","log":{"level":"debug"}}
        """#.utf8))
        #expect(config.server.host == "127.0.0.1")
        #expect(config.server.port == 9000)
        #expect(config.server.timeouts.headerTimeout == .milliseconds(500))
        #expect(config.server.limits.maxBodyBytes == 2048)
        #expect(config.server.maxConnections == 5)
        #expect(config.server.timeouts.idleTimeout == .seconds(60))
        #expect(config.dataDirectory == "/tmp/x")
        #expect(config.logLevel == "debug")
        #expect(config.adminListener == nil)
    }

    @Test func connectionFloodSettings() throws {
        let config = try RoomstreamConfiguration.parse(Data(#"""
        {"server":{"max_connections":1000,"max_connections_per_client":32,"pressure_high_water_percent":60,
                   "pressure_header_timeout_seconds":2,"pressure_idle_timeout_seconds":4,"reclaim_grace_seconds":0.5,
                   "admin_listener":{"port":9191}}}
        """#.utf8))
        #expect(config.server.maxConnectionsPerClient == 32)
        #expect(config.server.pressureHighWaterConnections == 600)
        #expect(config.server.timeouts.pressureHeaderTimeout == .seconds(2))
        #expect(config.server.timeouts.pressureIdleTimeout == .seconds(4))
        #expect(config.server.reclaimGrace == .milliseconds(500))
        #expect(config.adminListener == AdminListenerConfiguration(host: "127.0.0.1", port: 9191, maxConnections: 64))
        // The documented defaults.
        let defaults = RoomstreamConfiguration()
        #expect(defaults.server.maxConnectionsPerClient == 256)
        #expect(defaults.server.pressureHighWaterConnections == 7500)
        #expect(defaults.server.timeouts.pressureHeaderTimeout == .seconds(3))
        #expect(defaults.server.timeouts.pressureIdleTimeout == .seconds(5))
        #expect(defaults.server.reclaimGrace == .seconds(1))
    }

    struct BadCase: Sendable, CustomTestStringConvertible {
        var json: String
        var message: String
        var testDescription: String { message }
    }

    static let badCases: [BadCase] = [
        BadCase(json: "{", message: "config is not valid JSON"),
        BadCase(json: "[]", message: "must be a JSON object"),
        BadCase(json: #"{"sever":{}}"#, message: "sever: unknown key (known: admin, data_dir, delivery, durability, ingest, instance_id, location, log, metrics, public_url, rooms, server, streams)"),
        BadCase(json: #"{"ingest":{"keys":"abc"}}"#, message: "ingest.keys: must be an array of strings, got \"abc\""),
        BadCase(json: #"{"ingest":{"keys":["short"]}}"#, message: "ingest.keys[0]: must be at least 8 visible ASCII characters"),
        BadCase(json: #"{"ingest":{"peer_timeout_seconds":-1}}"#, message: "ingest.peer_timeout_seconds: must be a number of seconds above 0"),
        BadCase(json: #"{"admin":{"token":"short"}}"#, message: "admin.token: must be at least 16 characters"),
        BadCase(json: #"{"public_url":"localhost"}"#, message: "public_url: must start with http:// or https://"),
        BadCase(json: #"{"streams":{}}"#, message: "streams: must be an array of stream objects"),
        BadCase(json: #"{"streams":[{"destination":{"type":"directory","path":"x"}}]}"#, message: "streams[0].id: is required"),
        BadCase(json: #"{"streams":[{"id":"a","interval_minutes":0,"destination":{"type":"directory","path":"x"}}]}"#, message: "streams[0].interval_minutes: must be an integer from 1 to 1440"),
        BadCase(json: #"{"streams":[{"id":"a","compression":"zip","destination":{"type":"directory","path":"x"}}]}"#, message: "streams[0].compression: must be none or gzip"),
        BadCase(json: #"{"streams":[{"id":"a"}]}"#, message: "streams[0].destination: is required"),
        BadCase(json: #"{"streams":[{"id":"a","destination":{"type":"ftp"}}]}"#, message: "streams[0].destination.type: must be directory or s3"),
        BadCase(json: #"{"streams":[{"id":"a","destination":{"type":"directory","path":""}}]}"#, message: "streams[0].destination.path: must not be empty"),
        BadCase(json: #"{"streams":[{"id":"A B","destination":{"type":"directory","path":"x"}}]}"#, message: "streams[0].id: must be 1-64 characters"),
        BadCase(json: #"{"streams":[{"id":"a","destination":{"type":"directory","path":"x"}},{"id":"a","destination":{"type":"directory","path":"y"}}]}"#, message: "streams[1].id: \"a\" is used by another stream"),
        BadCase(json: #"{"streams":[{"id":"a","write_empty":"yes","destination":{"type":"directory","path":"x"}}]}"#, message: "streams[0].write_empty: must be true or false"),
        BadCase(json: #"{"delivery":{"grace_seconds":-1}}"#, message: "delivery.grace_seconds: must be from 0 to 3600"),
        BadCase(json: #"{"rooms":{"max_ended_rooms":0}}"#, message: "rooms.max_ended_rooms: must be an integer from 1 to 10000000, got 0"),
        BadCase(json: #"{"server":{"port":"80"}}"#, message: "server.port: must be a number, got \"80\""),
        BadCase(json: #"{"server":{"port":70000}}"#, message: "server.port: must be an integer from 0 to 65535, got 70000"),
        BadCase(json: #"{"server":{"port":80.5}}"#, message: "server.port: must be an integer from 0 to 65535, got 80.5"),
        BadCase(json: #"{"server":{"port":true}}"#, message: "server.port: must be a number, got true"),
        BadCase(json: #"{"server":{"idle_timeout_seconds":0}}"#, message: "server.idle_timeout_seconds: must be a number of seconds above 0 and at most 86400, got 0"),
        BadCase(json: #"{"server":{"host":"a b"}}"#, message: "server.host: must be an IP address or host name, got \"a b\""),
        BadCase(json: #"{"server":[]}"#, message: "server: must be a JSON object"),
        BadCase(json: #"{"server":{"headers":1}}"#, message: "server.headers: unknown key"),
        BadCase(json: #"{"server":{"max_connections_per_client":-1}}"#, message: "server.max_connections_per_client: must be an integer from 0 to 1000000, got -1"),
        BadCase(json: #"{"server":{"pressure_high_water_percent":0}}"#, message: "server.pressure_high_water_percent: must be an integer from 1 to 100, got 0"),
        BadCase(json: #"{"server":{"pressure_header_timeout_seconds":0}}"#, message: "server.pressure_header_timeout_seconds: must be a number of seconds above 0"),
        BadCase(json: #"{"server":{"reclaim_grace_seconds":"1"}}"#, message: "server.reclaim_grace_seconds: must be a number, got \"1\""),
        BadCase(json: #"{"server":{"admin_listener":{"host":"127.0.0.1"}}}"#, message: "server.admin_listener.port: is required"),
        BadCase(json: #"{"server":{"admin_listener":{"port":9091,"max_connections":0}}}"#, message: "server.admin_listener.max_connections: must be an integer from 1 to 10000, got 0"),
        BadCase(json: #"{"server":{"admin_listener":{"port":9091,"tls":true}}}"#, message: "server.admin_listener.tls: unknown key"),
        BadCase(json: #"{"data_dir":""}"#, message: "data_dir: must not be empty"),
        BadCase(json: #"{"log":{"level":"loud"}}"#, message: "log.level: must be one of trace, debug, info, notice, warning, error, critical, got \"loud\""),
    ]

    @Test("bad configuration names the field", arguments: badCases)
    func badConfiguration(_ testCase: BadCase) {
        #expect {
            _ = try RoomstreamConfiguration.parse(Data(testCase.json.utf8))
        } throws: { error in
            "\(error)".contains(testCase.message)
        }
    }

    @Test func flagsOverrideTheFile() throws {
        var config = try RoomstreamConfiguration.parse(Data(#"{"server":{"port":9000},"data_dir":"a"}"#.utf8))
        try config.apply(host: "::", port: 9001, dataDirectory: "b", logLevel: "error")
        #expect(config.server.host == "::")
        #expect(config.server.port == 9001)
        #expect(config.dataDirectory == "b")
        #expect(config.logLevel == "error")
        #expect(throws: ConfigurationError(field: "--port", problem: "must be from 0 to 65535, got 70000")) {
            try config.apply(host: nil, port: 70000, dataDirectory: nil, logLevel: nil)
        }
    }

    @Test func environmentOverridesTheAdminToken() throws {
        var config = try RoomstreamConfiguration.parse(Data(#"{"admin":{"token":"file-token-0123456789"}}"#.utf8))
        try config.applyEnvironment(["ROOMSTREAM_ADMIN_TOKEN": "env-token-0123456789"])
        #expect(config.adminToken == "env-token-0123456789")
        try config.applyEnvironment([:])
        #expect(config.adminToken == "env-token-0123456789")
        #expect(throws: ConfigurationError.self) { try config.applyEnvironment(["ROOMSTREAM_ADMIN_TOKEN": "x"]) }
    }

    @Test func missingFileIsAClearError() {
        #expect(throws: ConfigurationError(field: "", problem: "cannot read config file '/nonexistent.json'")) {
            try RoomstreamConfiguration.load(file: "/nonexistent.json")
        }
    }
}
