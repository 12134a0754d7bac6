import Foundation
@testable import RoomstreamApp
import RoomstreamHTTP
import RoomstreamStreams
import Testing

/// `GET /metrics` (Prometheus text format 0.0.4) and `X-Request-Id`, over real sockets.
struct MetricsAndRequestIDTests {
    /// The value of one sample line, e.g. `name{label="x"} 3`.
    static func value(_ text: String, _ series: String) -> Double? {
        for line in text.split(separator: "\n") where line.hasPrefix(series + " ") {
            return Double(line.dropFirst(series.count + 1))
        }
        return nil
    }

    @Test func metricsCountRequestsItemsAndStateAndNeedTheAdminToken() async throws {
        let service = try AppTestService()
        #expect(try service.ingest(room: "r", peer: "p", json: IngestRoutesTests.sample)?.status == 202)
        #expect(try service.ingest(room: "r", peer: "p", json: IngestRoutesTests.sample)?.status == 202)  // a duplicate
        #expect(try service.ingest(room: "r", peer: "p", json: "{")?.status == 400)
        #expect(try service.request("GET", "/v1/rooms/x/peers/y/nope")?.status == 404)

        #expect(try service.request("GET", "/metrics")?.status == 401)
        #expect(try service.admin("/metrics", token: AppTestService.ingestKey)?.status == 403)
        let response = try #require(try service.admin("/metrics"))
        #expect(response.status == 200)
        #expect(response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8")
        let text = response.bodyText
        let route = "/v1/rooms/{room_id}/peers/{peer_id}/samples"
        #expect(Self.value(text, "roomstream_http_requests_total{method=\"POST\",route=\"\(route)\",status=\"202\"}") == 2)
        #expect(Self.value(text, "roomstream_http_requests_total{method=\"POST\",route=\"\(route)\",status=\"400\"}") == 1)
        #expect(Self.value(text, "roomstream_http_requests_total{method=\"GET\",route=\"none\",status=\"404\"}") == 1)
        #expect(Self.value(text, "roomstream_http_request_duration_seconds_count{route=\"\(route)\"}") == 3)
        // The sample once, its event twice (events carry no seq to de-duplicate by).
        #expect(Self.value(text, "roomstream_ingest_items_total{result=\"accepted\"}") == 3)
        #expect(Self.value(text, "roomstream_ingest_items_total{result=\"duplicate\"}") == 1)
        #expect(Self.value(text, "roomstream_ingest_rejected_requests_total{code=\"malformed_json\"}") == 1)
        #expect(Self.value(text, "roomstream_live_rooms") == 1)
        #expect(Self.value(text, "roomstream_live_peers") == 1)
        #expect((Self.value(text, "roomstream_open_connections") ?? 0) >= 1)
        // The accepted requests went through the write-ahead log (fsync): one sync per group.
        let syncs = try #require(Self.value(text, "roomstream_log_syncs"))
        #expect(syncs >= 1)
        #expect(Self.value(text, "roomstream_log_groups") == syncs)
        #expect((Self.value(text, "roomstream_log_written_bytes") ?? 0) > 0)
        #expect((Self.value(text, "roomstream_log_sync_seconds") ?? 0) > 0)
        #expect(text.contains("# TYPE roomstream_http_request_duration_seconds histogram"))
        await service.stop()
    }

    @Test func metricsCanBeOpen() async throws {
        let service = try AppTestService { $0.metricsOpen = true }
        #expect(try service.request("GET", "/metrics")?.status == 200)
        await service.stop()
    }

    @Test func streamMetricsShowSealsSpoolAndLagsAndForgetDeletedStreams() async throws {
        let t0 = 1_700_000_000_000.0
        let clock = ManualWallClock(t0)
        let store = NSTemporaryDirectory() + "roomstream-store-\(UUID().uuidString)"
        let service = try AppTestService(wallClock: clock) {
            $0.streams = [StreamDefinition(id: "m1", intervalMinutes: 1, writeEmpty: true, destination: .directory(path: store))]
            $0.graceSeconds = 1
        }
        clock.advance(to: t0 + 3 * 60_000)
        service.service.streams.tick(now: clock.nowMilliseconds())
        let text = try #require(try service.admin("/metrics")).bodyText
        #expect((Self.value(text, "roomstream_seals_total{stream=\"m1\",result=\"ok\"}") ?? 0) >= 1)
        #expect((Self.value(text, "roomstream_uploads_total{stream=\"m1\",result=\"ok\"}") ?? 0) >= 1)
        #expect((Self.value(text, "roomstream_spool_files{stream=\"m1\",state=\"uploaded\"}") ?? 0) >= 1)
        #expect(Self.value(text, "roomstream_stream_delivery_lag_seconds{stream=\"m1\"}") == 0)
        #expect(Self.value(text, "roomstream_stream_paused{stream=\"m1\"}") == 0)
        #expect(text.contains("roomstream_seal_duration_seconds_count{stream=\"m1\"}"))
        #expect(try service.request("DELETE", "/v1/streams/m1", headers: ["Authorization": "Bearer \(AppTestService.adminToken)"])?.status == 204)
        let after = try #require(try service.admin("/metrics")).bodyText
        #expect(!after.contains("roomstream_spool_files{stream=\"m1\""))
        #expect(!after.contains("roomstream_stream_paused{stream=\"m1\""))
        await service.stop()
    }

    @Test func requestIdsAreEchoedOrMade() async throws {
        let service = try AppTestService()
        let given = try #require(try service.request("GET", "/healthz", headers: ["X-Request-Id": "trace-42.a:b/c"]))
        #expect(given.headers["x-request-id"] == "trace-42.a:b/c")
        let made1 = try #require(try service.request("GET", "/healthz")?.headers["x-request-id"])
        let made2 = try #require(try service.request("GET", "/nope")?.headers["x-request-id"])  // errors too
        #expect(made1 != made2)
        #expect(made1.count >= 18)
        // Unsafe or oversized ids are replaced, not echoed.
        let unsafe = try #require(try service.request("GET", "/healthz", headers: ["X-Request-Id": "a b\"<script>"])?.headers["x-request-id"])
        #expect(unsafe != "a b\"<script>")
        let long = try #require(try service.request("GET", "/healthz", headers: ["X-Request-Id": String(repeating: "a", count: 129)])?.headers["x-request-id"])
        #expect(long.count < 129)
        // A deferred answer (the write-ahead log) carries it as well.
        let ingest = try #require(try service.request("POST", "/v1/rooms/r/peers/p/samples", headers: [
            "Authorization": "Bearer \(AppTestService.ingestKey)", "Content-Type": "application/json", "X-Request-Id": "sdk-1"], body: Array(IngestRoutesTests.sample.utf8)))
        #expect(ingest.status == 202)
        #expect(ingest.headers["x-request-id"] == "sdk-1")
        await service.stop()
    }

    @Test(arguments: [
        ("abc", true), ("A-Z_0.9:/+=@", true), ("", false), ("a b", false), ("a\"b", false), ("é", false),
        (String(repeating: "x", count: 128), true), (String(repeating: "x", count: 129), false),
    ])
    func requestIDSyntax(id: String, accepted: Bool) {
        #expect((RequestIDs.accepted(Array(id.utf8)[...]) != nil) == accepted)
    }

    static let top: UInt64 = 1 << 63
    @Test(arguments: [
        (top, 0), (UInt64.max, 1), (0xabcd_ef01_2345_6789, 15), (top | 5, 16), (top, UInt64.max), (top, 0x1000),
    ] as [(UInt64, UInt64)])
    func requestIDsAreThePrefixAndCounterInHex(prefix: UInt64, counter: UInt64) {
        #expect(RequestIDs.format(prefix: prefix, counter: counter) == String(prefix, radix: 16) + "-" + String(counter, radix: 16))
    }

    @Test func streamStatusReportsSealAndDeliveryLagsApart() async throws {
        let t0 = 1_700_000_000_000.0
        let clock = ManualWallClock(t0)
        // A destination that cannot be written: a directory store under a regular file.
        let blocker = NSTemporaryDirectory() + "roomstream-blocker-\(UUID().uuidString)"
        #expect(FileManager.default.createFile(atPath: blocker, contents: Data("x".utf8)))
        let service = try AppTestService(wallClock: clock) {
            $0.streams = [StreamDefinition(id: "stuck", intervalMinutes: 1, destination: .directory(path: blocker + "/store")),
                          StreamDefinition(id: "held", intervalMinutes: 1, destination: .directory(path: NSTemporaryDirectory() + "rs-held-\(UUID().uuidString)"), paused: true)]
            $0.graceSeconds = 1
        }
        clock.advance(to: t0 + 3 * 60_000)
        service.service.streams.tick(now: clock.nowMilliseconds())
        clock.advance(to: t0 + 10 * 60_000)
        service.service.streams.tick(now: clock.nowMilliseconds())
        let stuck = try #require(jsonObject(try service.admin("/v1/streams/stuck")))
        // Sealing is on time; the files are not getting out.
        #expect(stuck["seal_lag_seconds"] as? Int == 0)
        let delivery = try #require(stuck["delivery_lag_seconds"] as? Int)
        #expect(delivery >= 7 * 60 - 1)
        #expect(stuck["lag_seconds"] as? Int == delivery)
        #expect((stuck["files_by_state"] as? [String: Int])?["retrying"] ?? 0 >= 1)
        // A paused stream is paused, not late: its windows wait on purpose.
        let held = try #require(jsonObject(try service.admin("/v1/streams/held")))
        #expect(held["paused"] as? Bool == true)
        #expect(held["seal_lag_seconds"] as? Int == 0)
        #expect(held["delivery_lag_seconds"] as? Int == 0)
        #expect(((held["backlog"] as? [String: Int])?["windows_due"] ?? 0) >= 8)
        let metrics = try #require(try service.admin("/metrics")).bodyText
        #expect((Self.value(metrics, "roomstream_stream_delivery_lag_seconds{stream=\"stuck\"}") ?? 0) >= 7 * 60 - 1)
        #expect(Self.value(metrics, "roomstream_stream_paused{stream=\"held\"}") == 1)
        #expect((Self.value(metrics, "roomstream_uploads_total{stream=\"stuck\",result=\"failed\"}") ?? 0) >= 1)
        await service.stop()
    }
}
