import Foundation
@testable import RoomstreamApp
import RoomstreamServer
import TestSupport
import Testing

/// Issue 13 through the whole service: a flood of idle and half-sent connections from one
/// client does not lock out health checks and SDKs, and the admin listener answers while the
/// main one is saturated. Loopback, a few dozen sockets.
struct ConnectionFloodAppTests {
    /// Each answer must come within 1 s (5 s under the sanitizers, which slow everything).
    static let answerWithin: Duration = Sanitizer.isActive ? .seconds(5) : .seconds(1)

    static func send(_ port: Int, _ head: String, body: String = "", from source: String = "127.0.0.1") throws -> ClientResponse? {
        let client = try RawClient(port: port, from: source, receiveTimeout: answerWithin)
        client.send(head + "Content-Length: \(body.utf8.count)\r\n\r\n" + body)
        return client.readResponse()
    }

    @Test func aFloodOfIdleAndHalfSentConnectionsDoesNotStarveProbesOrIngest() async throws {
        let app = try AppTestService {
            $0.server.maxConnections = 60
            $0.server.reclaimGrace = .milliseconds(300)
            // Long timeouts, under pressure too: what frees the slots here is the reclaim, even
            // when a loaded run makes this test take seconds.
            $0.server.timeouts.headerTimeout = .seconds(120)
            $0.server.timeouts.pressureHeaderTimeout = .seconds(120)
        }
        // 60 + 20 %, from one client: two thirds send nothing, a third half a head; all held.
        var flood: [RawClient] = []
        for index in 0..<72 {
            let client = try RawClient(port: app.port, from: "127.0.0.2")
            if index % 3 == 0 { client.send("POST /v1/rooms/r/peers/p/samples HTTP/1.1\r\nHost: t\r\nAuthor") }
            flood.append(client)
        }
        #expect(await eventually { app.service.server.counters.activeConnections + app.service.server.counters.rejectedConnections >= 60 })
        try await Task.sleep(for: .milliseconds(400))
        let ts = Int(Date().timeIntervalSince1970 * 1000)
        for round in 0..<5 {
            let started = ContinuousClock.now
            #expect(try Self.send(app.port, "GET /healthz HTTP/1.1\r\nHost: t\r\n")?.status == 200, "round \(round)")
            let ingest = try Self.send(app.port, "POST /v1/rooms/flood-room/peers/sdk/samples HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer \(AppTestService.ingestKey)\r\nContent-Type: application/json\r\n",
                                       body: OverloadTests.sample(round + 1, ts: ts + round * 1000))
            #expect(ingest?.status == 202, "round \(round): \(ingest?.bodyText ?? "no answer")")
            #expect(ContinuousClock.now - started < Self.answerWithin * 2, "round \(round)")
        }
        let counters = app.service.server.counters
        #expect(counters.activeConnections <= 60)
        #expect((counters.reclaimed[.partialHead] ?? 0) >= 1)
        let metrics = try #require(try app.admin("/metrics")).bodyText
        #expect(metrics.contains(#"roomstream_connections_reclaimed{reason="partial_head"}"#))
        #expect(metrics.contains(#"roomstream_connections{state="waiting_for_head"}"#))
        #expect(metrics.contains(#"roomstream_connections_refused{reason="per_client"} 0"#))
        _ = flood
        await app.stop()
    }

    @Test func theAdminListenerAnswersWhileTheMainOneIsSaturated() async throws {
        let app = try AppTestService {
            $0.server.maxConnections = 3
            $0.server.timeouts.pressureHeaderTimeout = .seconds(120)
            $0.adminListener = AdminListenerConfiguration(host: "127.0.0.1", port: 0, maxConnections: 4)
            $0.drainTimeout = .milliseconds(500)  // the held bodies never finish
        }
        let adminPort = try #require(app.service.adminServer?.localPort)
        #expect(adminPort != app.port)
        // Three ingest bodies in flight: nothing on the main listener can be reclaimed.
        let held = try (0..<3).map { _ in
            let client = try RawClient(port: app.port)
            client.send("POST /v1/rooms/r/peers/p/samples HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer \(AppTestService.ingestKey)\r\nContent-Length: 500\r\n\r\n{")
            return client
        }
        #expect(await eventually { app.service.server.counters.activeConnections == 3 })
        let refused = try RawClient(port: app.port)
        #expect(refused.isClosedByServer())

        #expect(try Self.send(adminPort, "GET /healthz HTTP/1.1\r\nHost: t\r\n")?.status == 200)
        #expect(try Self.send(adminPort, "GET /readyz HTTP/1.1\r\nHost: t\r\n")?.status == 200)
        let metrics = try #require(try Self.send(adminPort, "GET /metrics HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer \(AppTestService.adminToken)\r\n"))
        #expect(metrics.status == 200)
        #expect(metrics.bodyText.contains(#"roomstream_connections_refused{reason="limit"} 1"#))
        #expect(try Self.send(adminPort, "GET /v1/streams HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer \(AppTestService.adminToken)\r\n")?.status == 200)
        // Ingest is not served there: the SDKs' traffic stays on the main listener.
        let ingest = try Self.send(adminPort, "POST /v1/rooms/r/peers/p/samples HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer \(AppTestService.ingestKey)\r\nContent-Type: application/json\r\n",
                                   body: OverloadTests.sample(1, ts: 1))
        #expect(ingest?.status == 404)
        _ = held
        await app.stop()
    }
}
