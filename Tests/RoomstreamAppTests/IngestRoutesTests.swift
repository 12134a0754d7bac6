import Foundation
@testable import RoomstreamApp
import RoomstreamCore
import TestSupport
import Testing

/// The ingest API over real sockets (ingest-api.md): every error case and its status.
struct IngestRoutesTests {
    static let sample = #"{"sdk_version":"1.0.0","keys":{"tier":"gold","servers":["sfu-1","sfu-2"]},"events":[{"ts":1700000000000,"type":"pc_created","pc":"pc1"}],"samples":[{"seq":1,"ts":1700000001000,"pc":"pc1","stats":[{"id":"O1","type":"outbound-rtp","timestamp":1700000001000,"kind":"audio","bytesSent":1000,"packetsSent":10},{"id":"X","type":"brand-new-type","foo":[1,2,{"bar":null}]}]}]}"#

    @Test func acceptsASampleAndCountsDuplicates() async throws {
        let app = try AppTestService()
        let first = try #require(try app.ingest(room: "r1", peer: "p1", json: Self.sample))
        #expect(first.status == 202)
        #expect(first.bodyText == #"{"accepted":2,"duplicates":0,"late":0}"#)
        let retry = try #require(try app.ingest(room: "r1", peer: "p1", json: Self.sample))
        #expect(retry.bodyText == #"{"accepted":1,"duplicates":1,"late":0}"#)
        #expect(app.service.registry.liveRoomCount == 1)
        await app.stop()
    }

    /// Global and per-peer bounds over HTTP: 503 with Retry-After past the live-peer cap, 400
    /// naming `keys` past the per-peer key budget; what was accepted before stays.
    @Test func boundsAnswer503WithRetryAfterAnd400ForKeys() async throws {
        let app = try AppTestService { $0.rooms.maxLivePeers = 1; $0.rooms.maxKeyBytesPerPeer = 32 }
        #expect(try app.ingest(room: "r1", peer: "p1", json: #"{"samples":[{"seq":1,"ts":1700000001000,"pc":"pc1","stats":[]}]}"#)?.status == 202)
        let full = try #require(try app.ingest(room: "r2", peer: "p2", json: #"{"samples":[{"seq":1,"ts":1700000001000,"pc":"pc1","stats":[]}]}"#))
        #expect(full.status == 503)
        #expect(full.headers["retry-after"] == "30")
        #expect(full.bodyText.contains("too_many_peers"))
        let keys = try #require(try app.ingest(room: "r1", peer: "p1", json: #"{"keys":{"notes":"\#(String(repeating: "x", count: 40))"},"samples":[{"seq":2,"ts":1700000002000,"pc":"pc1","stats":[]}]}"#))
        #expect(keys.status == 400)
        #expect(keys.bodyText.contains("keys_over_budget"))
        #expect(keys.bodyText.contains("keys:"))
        #expect(app.service.registry.room(id: "r1")?.peer("p1")?.keys.isEmpty == true)
        await app.stop()
    }

    @Test func sendBeaconShapeTextPlainWithKeyInQuery() async throws {
        let app = try AppTestService()
        let response = try app.request("POST", "/v1/rooms/r/peers/p/samples?key=\(AppTestService.ingestKey)", headers: ["Content-Type": "text/plain;charset=UTF-8"], body: Array(Self.sample.utf8))
        #expect(response?.status == 202)
        await app.stop()
    }

    @Test func gzipBodiesAreAccepted() async throws {
        let app = try AppTestService()
        let gzip = try gzipped(Self.sample)
        let response = try app.request("POST", "/v1/rooms/r/peers/p/samples", headers: ["Authorization": "Bearer \(AppTestService.ingestKey)", "Content-Type": "application/json", "Content-Encoding": "gzip"], body: gzip)
        #expect(response?.status == 202)
        await app.stop()
    }

    @Test func gzipBombIsRejectedWith413() async throws {
        let app = try AppTestService { $0.maxDecompressedBodyBytes = 4096 }
        let bomb = try gzipped("{\"samples\":[" + String(repeating: " ", count: 100_000) + "]}")
        let response = try app.request("POST", "/v1/rooms/r/peers/p/samples", headers: ["Authorization": "Bearer \(AppTestService.ingestKey)", "Content-Type": "application/json", "Content-Encoding": "gzip"], body: bomb)
        #expect(response?.status == 413)
        #expect(response?.bodyText.contains("decompressed body exceeds 4096 bytes") == true)
        await app.stop()
    }

    struct ErrorCase: Sendable, CustomTestStringConvertible {
        var name: String
        var json: String
        var headers: [String: String] = [:]
        var path = "/v1/rooms/r/peers/p/samples"
        var status: Int
        var message: String
        var testDescription: String { name }
    }

    static let errorCases: [ErrorCase] = [
        ErrorCase(name: "no key", json: sample, headers: ["Authorization": ""], status: 401, message: "send 'Authorization: Bearer <ingest key>'"),
        ErrorCase(name: "unknown key", json: sample, headers: ["Authorization": "Bearer nope-nope-nope"], status: 401, message: "the ingest key is not valid"),
        ErrorCase(name: "admin token is not an ingest key", json: sample, headers: ["Authorization": "Bearer \(AppTestService.adminToken)"], status: 401, message: "not valid"),
        ErrorCase(name: "wrong content type", json: sample, headers: ["Content-Type": "application/xml"], status: 415, message: "Content-Type must be application/json or text/plain"),
        ErrorCase(name: "missing content type", json: sample, headers: ["Content-Type": ""], status: 415, message: "Content-Type"),
        ErrorCase(name: "unknown content encoding", json: sample, headers: ["Content-Encoding": "br"], status: 415, message: "Content-Encoding must be gzip"),
        ErrorCase(name: "not JSON", json: "{nope", status: 400, message: "body is not valid JSON"),
        ErrorCase(name: "not an object", json: "[1,2]", status: 400, message: "body: must be a JSON object"),
        ErrorCase(name: "sdk_version type", json: #"{"sdk_version":5}"#, status: 400, message: "sdk_version: must be a string"),
        ErrorCase(name: "user_rating range", json: #"{"user_rating":9}"#, status: 400, message: "user_rating: must be an integer from 1 to 5"),
        ErrorCase(name: "keys type", json: #"{"keys":{"a":{"b":1}}}"#, status: 400, message: "keys.a: must be a string or an array of strings"),
        ErrorCase(name: "keys array item", json: #"{"keys":{"a":["x",2]}}"#, status: 400, message: "keys.a[1]: must be a string"),
        ErrorCase(name: "events not array", json: #"{"events":{}}"#, status: 400, message: "events: must be an array"),
        ErrorCase(name: "event ts", json: #"{"events":[{"type":"leave"}]}"#, status: 400, message: "events[0].ts: must be a number"),
        ErrorCase(name: "event state", json: #"{"events":[{"ts":1,"type":"connection_state","pc":"a"}]}"#, status: 400, message: "events[0].state: must be a string for connection_state"),
        ErrorCase(name: "sample seq", json: #"{"samples":[{"seq":-1,"ts":1,"pc":"a","stats":[]}]}"#, status: 400, message: "samples[0].seq: must be a non-negative integer"),
        ErrorCase(name: "sample pc", json: #"{"samples":[{"seq":1,"ts":1,"stats":[]}]}"#, status: 400, message: "samples[0].pc: is required"),
        ErrorCase(name: "stats type", json: #"{"samples":[{"seq":1,"ts":1,"pc":"a","stats":"x"}]}"#, status: 400, message: "samples[0].stats: must be an array of stats objects"),
        ErrorCase(name: "stats entry", json: #"{"samples":[{"seq":1,"ts":1,"pc":"a","stats":[1]}]}"#, status: 400, message: "samples[0].stats[0]: must be a stats object"),
        ErrorCase(name: "absurd timestamp", json: #"{"events":[{"ts":17956153595615350204,"type":"pc_created"}]}"#, status: 400, message: "events[0].ts: must be epoch milliseconds from 0 to 10^14"),
        ErrorCase(name: "negative timestamp", json: #"{"samples":[{"seq":1,"ts":-5,"pc":"a","stats":[]}]}"#, status: 400, message: "samples[0].ts: must be epoch milliseconds"),
        ErrorCase(name: "sample timestamp after events", json: #"{"events":[{"ts":1700000000000,"type":"pc_created"}],"samples":[{"seq":1,"ts":1700000000000,"pc":"a","stats":[]},{"seq":2,"ts":1e15,"pc":"a","stats":[]}]}"#, status: 400, message: "samples[1].ts: must be epoch milliseconds"),
        ErrorCase(name: "sample long before the latest event", json: #"{"events":[{"ts":1700900000000,"type":"leave"}],"samples":[{"seq":1,"ts":1700000000000,"pc":"a","stats":[]}]}"#, status: 400, message: "samples[0].ts: is more than 24 hours before"),
        ErrorCase(name: "request spanning days", json: #"{"events":[{"ts":1700000000000,"type":"pc_created"},{"ts":1700900000000,"type":"leave"}]}"#, status: 400, message: "events[0].ts: is more than 24 hours before"),
        ErrorCase(name: "room id too long", json: sample, path: "/v1/rooms/\(String(repeating: "r", count: 257))/peers/p/samples", status: 400, message: "room_id must be 1-256 bytes"),
        ErrorCase(name: "control character in peer id", json: sample, path: "/v1/rooms/r/peers/a%01b/samples", status: 400, message: "peer_id must not contain control characters"),
        ErrorCase(name: "GET on ingest", json: "", path: "/v1/rooms/r/peers/p/samples", status: 405, message: "GET is not allowed"),
    ]

    @Test("errors", arguments: errorCases)
    func errors(_ testCase: ErrorCase) async throws {
        let app = try AppTestService()
        var headers = ["Authorization": "Bearer \(AppTestService.ingestKey)", "Content-Type": "application/json"]
        for (name, value) in testCase.headers {
            if value.isEmpty { headers[name] = nil } else { headers[name] = value }
        }
        let method = testCase.name == "GET on ingest" ? "GET" : "POST"
        let response = try #require(try app.request(method, testCase.path, headers: headers, body: Array(testCase.json.utf8)))
        #expect(response.status == testCase.status)
        let error = jsonObject(response)?["error"] as? [String: Any]
        #expect((error?["message"] as? String)?.contains(testCase.message) == true, "\(response.bodyText)")
        #expect(error?["code"] is String)
        // A 4xx never changes state.
        #expect(app.service.registry.liveRoomCount == 0)
        await app.stop()
    }

    @Test func leaveEndsTheRoom() async throws {
        let app = try AppTestService()
        _ = try app.ingest(room: "r", peer: "p", json: Self.sample)
        let response = try app.request("POST", "/v1/rooms/r/peers/p/leave", headers: ["Authorization": "Bearer \(AppTestService.ingestKey)"])
        #expect(response?.status == 202)
        #expect(app.service.registry.liveRoomCount == 0)
        #expect(app.service.registry.endedRooms.count == 1)
        await app.stop()
    }

    func gzipped(_ text: String) throws -> [UInt8] {
        let input = NSTemporaryDirectory() + "gz-\(UUID().uuidString)"
        try Data(text.utf8).write(to: URL(fileURLWithPath: input))
        let child = try ChildProcess("/bin/gzip", ["-k", "-f", input])
        #expect(child.wait() == 0)
        defer { try? FileManager.default.removeItem(atPath: input); try? FileManager.default.removeItem(atPath: input + ".gz") }
        return Array(try Data(contentsOf: URL(fileURLWithPath: input + ".gz")))
    }
}
