import Foundation
import Logging
@testable import RoomstreamApp
import TestSupport
import Testing

struct RoomstreamServiceTests {
    static func temporaryDirectory() -> String {
        NSTemporaryDirectory() + "roomstream-test-" + UUID().uuidString
    }

    @Test func servesHealthAndReadinessThenDrains() async throws {
        var configuration = RoomstreamConfiguration()
        configuration.server.host = "127.0.0.1"
        configuration.server.port = 0
        configuration.dataDirectory = Self.temporaryDirectory() + "/nested/data"
        let output = JSONLogOutput(capturing: ())
        let service = try RoomstreamService(configuration: configuration, logger: Logger(label: "t") { _ in JSONLogHandler(output: output) })
        #expect(service.readiness.state == .starting)
        try service.start()
        #expect(FileManager.default.fileExists(atPath: configuration.dataDirectory))

        let client = try RawClient(port: service.server.localPort)
        client.send("GET /readyz HTTP/1.1\r\nHost: t\r\n\r\nGET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(client.readResponse()?.status == 200)
        #expect(client.readResponse()?.bodyText == #"{"status":"ok"}"#)

        let clean = await withCheckedContinuation { continuation in service.shutdown { continuation.resume(returning: $0) } }
        #expect(clean)
        #expect(service.readiness.state == .draining)
        #expect(output.capturedLines.contains { $0.contains("\"msg\":\"ready\"") })
        #expect(output.capturedLines.contains { $0.contains("\"msg\":\"stopped\"") })
    }

    @Test func unusableDataDirectoryIsAConfigurationError() throws {
        var configuration = RoomstreamConfiguration()
        configuration.server.port = 0
        configuration.dataDirectory = "/proc/roomstream-cannot-create"
        // The data directory is prepared before the live state is recovered from it.
        #expect(throws: ConfigurationError.self) {
            try RoomstreamService(configuration: configuration, logger: Logger(label: "t") { _ in JSONLogHandler(output: JSONLogOutput(capturing: ())) })
        }
    }
}
