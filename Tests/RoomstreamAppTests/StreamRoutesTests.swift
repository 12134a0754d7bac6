import Foundation
@testable import RoomstreamApp
import RoomstreamCore
import RoomstreamStreams
import RoomstreamBasics
import Synchronization
import TestSupport
import Testing

/// A wall clock the test moves forward.
final class ManualWallClock: WallClock {
    private let now: Locked<Double>
    init(_ start: Double) { now = Locked(start) }
    func nowMilliseconds() -> Double { now.withLock { $0 } }
    func advance(to time: Double) { now.withLock { $0 = time } }
}

/// Streams end to end: rooms posted over HTTP land in the window's file in the directory
/// store, byte for byte as the room query shows them; status and download endpoints.
struct StreamRoutesTests {
    @Test func roomsArriveInTheirFileAndTheFilesAreServed() async throws {
        let t0 = ISO8601Milliseconds.parse("2022-09-04T10:00:05.000Z") ?? 0
        let clock = ManualWallClock(t0)
        let store = NSTemporaryDirectory() + "roomstream-store-\(UUID().uuidString)"
        let app = try AppTestService(wallClock: clock) {
            $0.streams = [StreamDefinition(id: "m1", intervalMinutes: 1, destination: .directory(path: store)),
                          StreamDefinition(id: "gz", intervalMinutes: 1, compression: .gzip, destination: .directory(path: store))]
            $0.graceSeconds = 1
        }
        let body = "{\"samples\":[{\"seq\":1,\"ts\":\(Int(t0)),\"pc\":\"a\",\"stats\":[]}],\"events\":[{\"ts\":\(Int(t0) + 1000),\"type\":\"leave\"}]}"
        #expect(try app.ingest(room: "r1", peer: "p", json: body)?.status == 202)
        let record = try #require(try app.admin("/v1/rooms/r1")).bodyText.replacingOccurrences(of: ",\"state\":\"ended\"", with: "")
        // Past the window end (10:01) + peer timeout (30 s) + grace (1 s).
        clock.advance(to: t0 + 90_000)
        #expect(await eventually { app.service.streams.status(of: "m1")?.files.first?.state == .uploaded })
        #expect(await eventually { app.service.streams.status(of: "gz")?.files.first?.state == .uploaded })
        let key = "dt=2022-09-04/m1_20220904T1000Z_20220904T1001Z.json"
        let stored = try String(contentsOfFile: "\(store)/\(key)", encoding: .utf8)
        #expect(stored == "[\n\(record)\n]\n")

        let status = try #require(jsonObject(try app.admin("/v1/streams/m1")))
        #expect((status["last_sealed_window"] as? [String: Any])?["end"] as? String == "2022-09-04T10:01:00.000Z")
        #expect((status["files_by_state"] as? [String: Any])?["uploaded"] as? Int == 1)
        #expect(status["last_error"] is NSNull)
        let files = try #require(jsonObject(try app.admin("/v1/streams/m1/files?state=uploaded"))?["files"] as? [[String: Any]])
        #expect(files.count == 1)
        #expect(files.first?["key"] as? String == key)
        let name = try #require(files.first?["file"] as? String)
        let download = try #require(try app.admin("/v1/streams/m1/files/\(name)"))
        #expect(download.status == 200)
        #expect(download.bodyText == stored)
        #expect(download.headers["etag"] == "\"\(files.first?["sha256"] as? String ?? "")\"")
        // A conditional GET with the ETag: 304 without Content-Length (RFC 9110 §8.6), and the
        // keep-alive connection stays usable for the next request.
        let client = try app.client()
        let etag = download.headers["etag"] ?? ""
        let conditional = "GET /v1/streams/m1/files/\(name) HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer \(AppTestService.adminToken)\r\nIf-None-Match: \(etag)\r\n\r\n"
        client.send(Array((conditional + "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n").utf8))
        let notModified = try #require(client.readResponse())
        #expect(notModified.status == 304)
        #expect(notModified.headers["content-length"] == nil)
        #expect(notModified.body.isEmpty)
        #expect(client.readResponse()?.status == 200)
        let gzipFile = try #require(jsonObject(try app.admin("/v1/streams/gz/files"))?["files"] as? [[String: Any]]).first
        let gzipDownload = try #require(try app.admin("/v1/streams/gz/files/\(gzipFile?["file"] as? String ?? "")"))
        #expect(gzipDownload.headers["content-encoding"] == "gzip")
        #expect(try app.admin("/v1/streams/nope")?.status == 404)
        #expect(try app.admin("/v1/streams/m1/files/nope.json")?.status == 404)
        #expect(try app.admin("/v1/streams/m1/files?state=lost")?.status == 400)
        #expect(try app.request("GET", "/v1/streams")?.status == 401)
        #expect(try app.admin("/v1/streams", token: AppTestService.ingestKey)?.status == 403)
        await app.stop()
    }
}

struct StreamFilesPaginationTests {
    @Test func filesArePagedInWindowOrder() async throws {
        let t0 = ISO8601Milliseconds.parse("2022-09-04T10:00:05.000Z") ?? 0
        let clock = ManualWallClock(t0)
        let store = NSTemporaryDirectory() + "roomstream-store-\(UUID().uuidString)"
        let app = try AppTestService(wallClock: clock) {
            $0.streams = [StreamDefinition(id: "m1", intervalMinutes: 1, destination: .directory(path: store))]
            $0.graceSeconds = 0
        }
        clock.advance(to: t0 + 5 * 60_000)  // five empty windows are due
        #expect(await eventually { (app.service.streams.status(of: "m1")?.files.count ?? 0) >= 4 })
        var seen: [String] = []
        var cursor: String?
        var pages = 0
        repeat {
            pages += 1
            let page = try #require(jsonObject(try app.admin("/v1/streams/m1/files?limit=2" + (cursor.map { "&cursor=\($0)" } ?? ""))))
            seen += (page["files"] as? [[String: Any]] ?? []).compactMap { $0["file"] as? String }
            cursor = page["next_cursor"] as? String
        } while cursor != nil && pages < 10
        let all = (app.service.streams.status(of: "m1")?.files ?? []).map(\.spoolName)
        #expect(seen == all)
        #expect(try app.admin("/v1/streams/m1/files?limit=0")?.status == 400)
        #expect(try app.admin("/v1/streams/m1/files?cursor=x")?.status == 400)
        await app.stop()
    }
}
