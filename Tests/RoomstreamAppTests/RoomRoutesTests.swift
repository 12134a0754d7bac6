import Foundation
@testable import RoomstreamApp
import RoomstreamCore
import TestSupport
import Testing

/// The room query API, and a capture replayed end to end over HTTP.
struct RoomRoutesTests {
    static let captures = SharedData.captures

    @Test(.enabled(if: SharedData.runnable, "needs ../shared/captures beside the checkout"))
    func captureReplayedOverHTTPGivesTheRecordWithRoundedFigures() async throws {
        let capture = Self.captures.appendingPathComponent("lossy-turn-udp-chrome156.ndjson")
        let app = try AppTestService()
        for line in try String(contentsOf: capture, encoding: .utf8).split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            guard let peer = object["peer"] as? String else { continue }
            let body = String(decoding: try JSONSerialization.data(withJSONObject: try #require(object["body"])), as: UTF8.self)
            #expect(try app.ingest(room: "call-1", peer: peer, json: body)?.status == 202)
        }
        for peer in ["alice", "bob"] {
            #expect(try app.request("POST", "/v1/rooms/call-1/peers/\(peer)/leave", headers: ["Authorization": "Bearer \(AppTestService.ingestKey)"])?.status == 202)
        }
        let response = try #require(try app.admin("/v1/rooms/call-1"))
        #expect(response.status == 200)
        let text = response.bodyText
        // Keys in the order of room-record.md.
        let order = ["\"room_url\"", "\"room_id\"", "\"start_time\"", "\"end_time\"", "\"duration\"", "\"users\"", "\"state\"", "\"stats\"", "\"peers\""]
        let positions = order.map { text.range(of: $0)?.lowerBound }
        #expect(positions.allSatisfy { $0 != nil })
        #expect(positions.compactMap { $0 }.sorted() == positions.compactMap { $0 })

        let record = try #require(jsonObject(response))
        #expect(record["state"] as? String == "ended")
        #expect(record["users"] as? Int == 2)
        #expect((record["room_url"] as? String)?.hasPrefix("https://stats.example.com/v1/rooms/call-1?start=") == true)
        let peers = try #require(record["peers"] as? [[String: Any]])
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: Self.captures.appendingPathComponent("lossy-turn-udp-chrome156.expected.json"))) as? [String: Any])
        let truth = try #require(expected["peers"] as? [String: [String: Any]])
        for peer in peers {
            let id = try #require(peer["peer_id"] as? String)
            let want = try #require(truth[id])
            let stats = try #require(peer["stats"] as? [String: Any])
            let audio = try #require(stats["audio"] as? [String: Any])
            let send = try #require(audio["send"] as? [String: Any])
            let wantAudio = (want["figures"] as? [String: Any])?["audio"] as? [String: Any]
            let wantSend = wantAudio?["send"] as? [String: Any]
            // Rounded per room-record.md: loss 1 decimal, bitrate integer, mos 2 decimals.
            #expect(abs((send["packet_loss"] as? Double ?? -1) - (wantSend?["packet_loss"] as? Double ?? 0)) <= 0.15)
            #expect(abs(Double(send["bitrate"] as? Int ?? -1) - (wantSend?["bitrate"] as? Double ?? 0)) <= 1.5)
            #expect(abs((stats["mos"] as? Double ?? 0) - (want["mos"] as? Double ?? 9)) <= 0.05)
            #expect((peer["features"] as? [String: Any])?["connection_type"] as? String == "TURN")
            #expect(peer["browser"] as? String == "Chrome")
            #expect(peer["os"] as? String == "Linux")
            #expect(peer["location"] as? [String: Any] != nil)
            let location = try #require(peer["location"] as? [String: Any])
            #expect(location["city"] is NSNull)
        }
        await app.stop()
    }

    @Test func roomRoutesNeedTheAdminToken() async throws {
        let app = try AppTestService()
        #expect(try app.request("GET", "/v1/rooms")?.status == 401)
        #expect(try app.admin("/v1/rooms", token: "wrong-token-wrong-token")?.status == 401)
        let forbidden = try app.admin("/v1/rooms", token: AppTestService.ingestKey)
        #expect(forbidden?.status == 403)
        #expect(forbidden?.bodyText.contains("an ingest key cannot read rooms") == true)
        #expect(try app.admin("/v1/rooms")?.status == 200)
        await app.stop()
    }

    @Test func adminRoutesAreOffWithoutAToken() async throws {
        let app = try AppTestService { $0.adminToken = nil }
        #expect(try app.admin("/v1/rooms")?.status == 403)
        await app.stop()
    }

    @Test func listingPaginatesWithACursor() async throws {
        let app = try AppTestService()
        for index in 0..<5 {
            let json = "{\"samples\":[{\"seq\":1,\"ts\":\(1_700_000_000_000 + index * 1000),\"pc\":\"a\",\"stats\":[]}]}"
            #expect(try app.ingest(room: "room-\(index)", peer: "p", json: json)?.status == 202)
        }
        var seen: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            pages += 1
            let target = "/v1/rooms?state=live&limit=2" + (cursor.map { "&cursor=\($0)" } ?? "")
            let page = try #require(jsonObject(try app.admin(target)))
            seen += (page["rooms"] as? [[String: Any]] ?? []).compactMap { $0["room_id"] as? String }
            cursor = page["next_cursor"] as? String
        } while cursor != nil && pages < 10
        #expect(pages == 3)
        #expect(seen.sorted() == (0..<5).map { "room-\($0)" })
        #expect(Set(seen).count == 5)
        #expect(try app.admin("/v1/rooms?state=ended")?.bodyText == #"{"rooms":[],"next_cursor":null}"#)
        await app.stop()
    }

    @Test(arguments: [
        ("/v1/rooms?state=gone", 400, "state must be live or ended"), ("/v1/rooms?limit=0", 400, "limit must be an integer from 1 to 1000"),
        ("/v1/rooms?cursor=%%%", 400, "invalid percent-encoding"), ("/v1/rooms?cursor=abc", 400, "cursor is not one this service returned"),
        ("/v1/rooms/nope", 404, "no room nope"), ("/v1/rooms/nope?start=yesterday", 400, "start must be a UTC time"),
    ])
    func queryErrors(_ target: String, _ status: Int, _ message: String) async throws {
        let app = try AppTestService()
        let response = try #require(try app.admin(target))
        #expect(response.status == status)
        #expect(response.bodyText.contains(message), "\(response.bodyText)")
        await app.stop()
    }

    @Test func versionReportsTheModels() async throws {
        let app = try AppTestService()
        let version = try #require(jsonObject(try app.request("GET", "/v1/version")))
        #expect(version["score_model"] as? String == QualityModel.scoreVersion)
        #expect(version["video_mos_model"] as? String == QualityModel.videoMOSVersion)
        await app.stop()
    }
}
