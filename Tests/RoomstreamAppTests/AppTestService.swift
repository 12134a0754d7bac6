import Foundation
import Logging
@testable import RoomstreamApp
import RoomstreamCore
import TestSupport

/// A service on an ephemeral loopback port with known keys, for the HTTP API tests.
final class AppTestService: Sendable {
    static let ingestKey = "test-ingest-key-0001"
    static let adminToken = "test-admin-token-0000001"
    let service: RoomstreamService

    init(wallClock: any WallClock = SystemWallClock(), configure: (inout RoomstreamConfiguration) -> Void = { _ in }) throws {
        var configuration = RoomstreamConfiguration()
        configuration.server.host = "127.0.0.1"
        configuration.server.port = 0
        configuration.dataDirectory = NSTemporaryDirectory() + "roomstream-app-\(UUID().uuidString)"
        configuration.ingestKeys = [Self.ingestKey]
        configuration.adminToken = Self.adminToken
        configuration.publicURL = "https://stats.example.com"
        configure(&configuration)
        service = try RoomstreamService(configuration: configuration, logger: Logger(label: "t") { _ in JSONLogHandler(output: JSONLogOutput(capturing: ())) }, wallClock: wallClock)
        try service.start()
    }

    var port: Int { service.server.localPort }

    func client() throws -> RawClient { try RawClient(port: port) }

    /// Sends one request and reads its response on a fresh connection.
    func request(_ method: String, _ target: String, headers: [String: String] = [:], body: [UInt8] = []) throws -> ClientResponse? {
        let client = try client()
        var head = "\(method) \(target) HTTP/1.1\r\nHost: t\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        client.send(Array((head + "\r\n").utf8) + body)
        return client.readResponse()
    }

    func ingest(room: String, peer: String, json: String, key: String = AppTestService.ingestKey, contentType: String = "application/json") throws -> ClientResponse? {
        try request("POST", "/v1/rooms/\(room)/peers/\(peer)/samples", headers: ["Authorization": "Bearer \(key)", "Content-Type": contentType], body: Array(json.utf8))
    }

    func admin(_ target: String, token: String = AppTestService.adminToken) throws -> ClientResponse? {
        try request("GET", target, headers: ["Authorization": "Bearer \(token)"])
    }

    func stop() async {
        _ = await withCheckedContinuation { continuation in service.shutdown { continuation.resume(returning: $0) } }
    }
}

func jsonObject(_ response: ClientResponse?) -> [String: Any]? {
    guard let response else { return nil }
    return (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any]
}
