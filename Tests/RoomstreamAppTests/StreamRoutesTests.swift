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
        // The gzip file as a file: what a client saves is what the spool holds, byte for byte.
        #expect(gzipDownload.headers["content-encoding"] == nil)
        #expect(gzipDownload.headers["content-type"] == "application/gzip")
        #expect(gzipDownload.headers["content-disposition"]?.hasSuffix(".json.gz\"") == true)
        let spool = try #require(app.service.streams.spoolPath(stream: "gz", file: gzipFile?["file"] as? String ?? ""))
        #expect(gzipDownload.body == Array(try Data(contentsOf: URL(fileURLWithPath: spool.path))))
        #expect(gzipDownload.body.prefix(2) == [0x1F, 0x8B])
        // An ordinary HTTP client that inflates encoded content (curl --compressed, as browsers
        // and Python requests do) saves the stored bytes.
        let saved = app.service.configuration.dataDirectory + "/downloaded.json.gz"
        let curl = try ChildProcess("/usr/bin/env", ["curl", "-sSf", "--compressed", "-H", "Authorization: Bearer \(AppTestService.adminToken)", "-o", saved,
                                                     "http://127.0.0.1:\(app.port)/v1/streams/gz/files/\(gzipFile?["file"] as? String ?? "")"])
        #expect(await curl.exited() == 0, "\(curl.stderr)")
        #expect(Array(try Data(contentsOf: URL(fileURLWithPath: saved))) == Array(try Data(contentsOf: URL(fileURLWithPath: spool.path))))
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

/// `POST /v1/streams/{id}/seal`: the current window sealed early, the rest in the next file.
struct SealNowTests {
    static func post(_ app: AppTestService, _ target: String) throws -> ClientResponse? {
        try app.request("POST", target, headers: ["Authorization": "Bearer \(AppTestService.adminToken)"])
    }

    static func body(_ ts: Double, leave: Bool) -> String {
        "{\"samples\":[{\"seq\":1,\"ts\":\(Int(ts)),\"pc\":\"a\",\"stats\":[]}],\"events\":[" + (leave ? "{\"ts\":\(Int(ts) + 1000),\"type\":\"leave\"}" : "") + "]}"
    }

    @Test func aLiveRoomHoldsTheCutAndEveryRoomLandsInExactlyOneFile() async throws {
        let t0 = ISO8601Milliseconds.parse("2022-09-04T10:05:00.000Z") ?? 0
        let clock = ManualWallClock(t0)
        let store = NSTemporaryDirectory() + "roomstream-sealnow-\(UUID().uuidString)"
        let app = try AppTestService(wallClock: clock) {
            $0.streams = [StreamDefinition(id: "h", intervalMinutes: 60, writeEmpty: false, destination: .directory(path: store))]
        }
        #expect(try app.ingest(room: "done", peer: "p", json: Self.body(t0, leave: true))?.status == 202)
        clock.advance(to: t0 + 20_000)
        #expect(try app.ingest(room: "live", peer: "p", json: Self.body(t0 + 20_000, leave: false))?.status == 202)
        clock.advance(to: t0 + 60_000)
        app.service.streams.tick(now: clock.nowMilliseconds())  // journal "done"

        let accepted = try #require(try Self.post(app, "/v1/streams/h/seal"))
        #expect(accepted.status == 202)
        // The live room's last activity (10:05:20) bounds the cut: it could still end there.
        let sealing = try #require(jsonObject(accepted)?["sealing"] as? [String: String])
        #expect(sealing == ["start": "2022-09-04T10:00:00.000Z", "end": "2022-09-04T10:05:20.000Z"])
        #expect((jsonObject(accepted)?["next_window"] as? [String: String])?["end"] == "2022-09-04T11:00:00.000Z")
        #expect(try Self.post(app, "/v1/streams/h/seal")?.status == 409)  // one at a time
        app.service.streams.tick(now: clock.nowMilliseconds())
        let first = try #require(app.service.streams.status(of: "h")?.files.first)
        #expect(first.key.hasSuffix("h_20220904T1000Z_20220904T100520Z.json"))
        #expect(first.rooms == 1)
        let text = try String(contentsOfFile: store + "/" + first.key, encoding: .utf8)
        #expect(text.contains("\"room_id\":\"done\""))
        #expect(!text.contains("\"room_id\":\"live\""))

        // The live room ends later: it goes into the rest of the hour, at the usual time.
        clock.advance(to: t0 + 100_000)
        #expect(try app.ingest(room: "live", peer: "p", json: Self.body(t0 + 99_000, leave: true))?.status == 202)
        clock.advance(to: (ISO8601Milliseconds.parse("2022-09-04T11:00:41.000Z") ?? 0))
        app.service.streams.tick(now: clock.nowMilliseconds())
        let files = app.service.streams.status(of: "h")?.files ?? []
        #expect(files.count == 2)
        let second = try #require(files.last)
        #expect(second.key.hasSuffix("h_20220904T100520Z_20220904T1100Z.json"))
        #expect(try String(contentsOfFile: store + "/" + second.key, encoding: .utf8).contains("\"room_id\":\"live\""))
        #expect((jsonObject(try app.admin("/v1/streams/h"))?["last_sealed_window"] as? [String: String])?["start"] == "2022-09-04T10:05:20.000Z")
        await app.stop()
    }

    @Test func refusedWhenPausedOrWhenNothingCanBeSealed() async throws {
        let t0 = ISO8601Milliseconds.parse("2022-09-04T10:00:00.000Z") ?? 0
        let clock = ManualWallClock(t0)
        let app = try AppTestService(wallClock: clock) {
            $0.streams = [StreamDefinition(id: "h", intervalMinutes: 60, destination: .directory(path: NSTemporaryDirectory() + "rs-\(UUID().uuidString)"))]
        }
        // At the window's very start the cut would be its start.
        let early = try #require(try Self.post(app, "/v1/streams/h/seal"))
        #expect(early.status == 409)
        #expect(early.bodyText.contains("cannot_seal_now"))
        #expect(try Self.post(app, "/v1/streams/nope/seal")?.status == 404)
        #expect(try app.request("POST", "/v1/streams/h/seal")?.status == 401)
        #expect(try Self.post(app, "/v1/streams/h/pause")?.status == 200)
        clock.advance(to: t0 + 120_000)
        let paused = try #require(try Self.post(app, "/v1/streams/h/seal"))
        #expect(paused.status == 409)
        #expect(paused.bodyText.contains("paused"))
        await app.stop()
    }

    @Test func aRestartAfterAnEarlySealResumesAtTheCut() async throws {
        let t0 = ISO8601Milliseconds.parse("2022-09-04T10:05:00.000Z") ?? 0
        let clock = ManualWallClock(t0)
        let data = NSTemporaryDirectory() + "roomstream-sealnow-restart-\(UUID().uuidString)"
        let streams = [StreamDefinition(id: "h", intervalMinutes: 60, destination: .directory(path: data + "/store"))]
        let first = try AppTestService(wallClock: clock) { $0.dataDirectory = data; $0.streams = streams }
        #expect(try Self.post(first, "/v1/streams/h/seal")?.status == 202)
        first.service.streams.tick(now: clock.nowMilliseconds())
        await first.stop()
        let second = try AppTestService(wallClock: clock) { $0.dataDirectory = data; $0.streams = streams }
        let status = try #require(second.service.streams.status(of: "h"))
        #expect(status.scheduler.nextWindow.description == "20220904T1005Z_20220904T1100Z")
        await second.stop()
    }
}

/// `room_url` after the room left memory: served from the sealed files while they are kept.
struct RoomURLFromFilesTests {
    @Test(arguments: [StreamCompression.none, .gzip])
    func aSealedRoomIsServedFromItsFile(compression: StreamCompression) async throws {
        let t0 = ISO8601Milliseconds.parse("2022-09-04T10:05:00.000Z") ?? 0
        let clock = ManualWallClock(t0)
        let app = try AppTestService(wallClock: clock) {
            $0.streams = [StreamDefinition(id: "h", intervalMinutes: 60, compression: compression, destination: .directory(path: "files/h"))]
        }
        for room in ["a", "b é/c", "z"] {
            #expect(try app.ingest(room: TextFormat.percentEncode(room), peer: "p", json: SealNowTests.body(t0, leave: true))?.status == 202)
        }
        let inMemory = try #require(try app.admin("/v1/rooms/\(TextFormat.percentEncode("b é/c"))"))
        #expect(inMemory.status == 200)
        clock.advance(to: ISO8601Milliseconds.parse("2022-09-04T11:00:41.000Z") ?? 0)
        app.service.streams.tick(now: clock.nowMilliseconds())
        app.service.streams.tick(now: clock.nowMilliseconds())  // released after the seal
        #expect(app.service.registry.room(id: "b é/c", start: nil) == nil)
        let url = try #require(jsonObject(inMemory)?["room_url"] as? String)
        let target = String(url.dropFirst("https://stats.example.com".count))
        let fromFile = try #require(try app.admin(target))
        #expect(fromFile.status == 200)
        #expect(fromFile.bodyText == inMemory.bodyText)
        // Without start: the latest instance; a wrong start or id: 404.
        #expect(try app.admin("/v1/rooms/z")?.status == 200)
        #expect(try app.admin("/v1/rooms/z?start=2022-09-04T10:06:00.000Z")?.status == 404)
        #expect(try app.admin("/v1/rooms/nope")?.status == 404)
        await app.stop()
    }
}
