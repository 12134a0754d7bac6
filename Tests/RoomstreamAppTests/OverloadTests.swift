import Foundation
@testable import RoomstreamApp
import RoomstreamCore
import TestSupport
import Testing

/// Past each global bound ingest answers 503 with Retry-After, and everything answered 202
/// before is complete: nothing accepted is dropped to make room.
struct OverloadTests {
    static func sample(_ seq: Int, ts: Int, keys: Int = 0) -> String {
        let keyJSON = (0..<keys).map { "\"k\($0)\":\"\(String(repeating: "v", count: 50))\"" }.joined(separator: ",")
        return #"{"keys":{\#(keyJSON)},"samples":[{"seq":\#(seq),"ts":\#(ts),"pc":"pc1","stats":[{"id":"O","type":"outbound-rtp","timestamp":\#(ts),"kind":"audio","bytesSent":\#(seq * 1000),"packetsSent":\#(seq * 10)}]}]}"#
    }

    /// Posts new rooms until one is refused; returns the rooms answered 202 and the refusal.
    static func fill(_ app: AppTestService, ts: Int, limit: Int = 2000) throws -> (accepted: [String], refusal: ClientResponse?) {
        var accepted: [String] = []
        for index in 0..<limit {
            let response = try app.ingest(room: "room-\(index)", peer: "p", json: sample(1, ts: ts, keys: 4))
            guard response?.status == 202 else { return (accepted, response) }
            accepted.append("room-\(index)")
        }
        return (accepted, nil)
    }

    @Test func pastTheLiveStateBoundNewPeersGet503AndAcceptedRoomsStayWhole() async throws {
        let app = try AppTestService { $0.rooms.maxLiveStateBytes = 256 << 10 }
        let ts = Int(Date().timeIntervalSince1970 * 1000)
        let (accepted, refusal) = try Self.fill(app, ts: ts)
        let response = try #require(refusal)
        #expect(response.status == 503)
        #expect(response.bodyText.contains("live_state_full"))
        #expect(response.headers["retry-after"] == "30")
        #expect(accepted.count > 20)
        #expect(app.service.registry.liveStateBytes >= 256 << 10)
        // Every accepted room holds its sample; a live peer keeps reporting past the bound.
        for room in accepted { #expect(app.service.registry.room(id: room)?.orderedPeers.first?.keys.count == 4, "\(room)") }
        #expect(try app.ingest(room: accepted[0], peer: "p", json: Self.sample(2, ts: ts + 1000))?.status == 202)
        await app.stop()
    }

    @Test func pastTheLogBoundIngestGets503UntilTheCheckpointItTriggers() async throws {
        let app = try AppTestService {
            $0.maxUncheckpointedLogBytes = 16 << 10
            $0.earlyCheckpointLogBytes = .max  // no checkpoint before the bound
            $0.checkpointIntervalSeconds = 30  // only the log bound triggers a checkpoint here
            $0.rooms.peerTimeoutSeconds = 60
        }
        let ts = Int(Date().timeIntervalSince1970 * 1000)
        let (accepted, refusal) = try Self.fill(app, ts: ts)
        let response = try #require(refusal)
        #expect(response.status == 503)
        #expect(response.bodyText.contains("storage_busy"))
        #expect(response.headers["retry-after"] == "1")
        // The refusal triggered a checkpoint; ingest is back without waiting 30 s.
        #expect(await eventually { (try? app.ingest(room: "after", peer: "p", json: Self.sample(1, ts: ts)))??.status == 202 })
        let saved = try #require(try app.service.checkpoint.load())
        for room in accepted { #expect(saved.live.contains { $0.id == room }, "\(room)") }
        await app.stop()
    }

    /// Past half the log bound a checkpoint starts while ingest goes on: the request after the
    /// log passed half of it is answered 202 and sets off a checkpoint (the timer's is 30 s
    /// away) that brings the log back under half, so steady ingest does not meet the bound.
    @Test func pastHalfTheLogBoundACheckpointStartsAndIngestGoesOn() async throws {
        let bound = 64 << 10
        let app = try AppTestService {
            $0.maxUncheckpointedLogBytes = bound
            $0.checkpointIntervalSeconds = 30  // only the log triggers checkpoints here
            $0.rooms.peerTimeoutSeconds = 60
        }
        let log = try #require(app.service.log)
        let ts = Int(Date().timeIntervalSince1970 * 1000)
        var seq = 0
        func post() throws -> Int? {
            seq += 1
            return try app.ingest(room: "steady", peer: "p", json: Self.sample(seq, ts: ts + seq * 1000, keys: 4))?.status
        }
        while log.uncheckpointedBytes <= bound / 2 {
            let status = try post()
            #expect(status == 202, "request \(seq)")
            guard status == 202, seq < 10_000 else { break }
        }
        #expect(try post() == 202)
        #expect(await eventually { log.uncheckpointedBytes < bound / 2 })
        let saved = try #require(try app.service.checkpoint.load())
        #expect(saved.live.contains { $0.id == "steady" })
        await app.stop()
    }

    @Test func pastTheBufferedRequestBoundAPartialRequestGets503() async throws {
        let app = try AppTestService { $0.server.maxBufferedRequestBytes = 64 << 10 }
        let ts = Int(Date().timeIntervalSince1970 * 1000)
        // A valid body padded with spaces to 40,000 bytes; each client sends all but its last byte.
        let body = Array(Self.sample(1, ts: ts).utf8) + [UInt8](repeating: 0x20, count: 40_000 - Self.sample(1, ts: ts).utf8.count)
        func head(_ room: String) -> String {
            "POST /v1/rooms/\(room)/peers/p/samples HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer \(AppTestService.ingestKey)\r\nContent-Type: application/json\r\nContent-Length: \(body.count)\r\n\r\n"
        }
        let first = try app.client()
        first.send(head("first"))
        first.send(Array(body.dropLast()))
        #expect(await eventually { app.service.server.counters.bufferedRequestBytes >= 40_000 })
        let second = try app.client()
        second.send(head("second"))
        second.send(Array(body.dropLast()))
        let refused = try #require(second.readResponse())
        #expect(refused.status == 503)
        #expect(refused.bodyText.contains("server_busy"))
        #expect(refused.headers["retry-after"] == "1")
        #expect(app.service.server.counters.overloadRefusals == 1)
        // The request under the bound completes and is applied.
        first.send([body[body.count - 1]])
        #expect(first.readResponse()?.status == 202)
        #expect(app.service.registry.room(id: "first") != nil)
        #expect(app.service.registry.room(id: "second") == nil)
        #expect(await eventually { app.service.server.counters.bufferedRequestBytes == 0 })
        await app.stop()
    }
}
