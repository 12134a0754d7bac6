#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RoomstreamHTTP
@testable import RoomstreamServer
import Testing
import TestSupport

/// Issue 13 over real sockets: at the connection limit the server reclaims connections that
/// hold no request in flight, caps connections per client, and shortens the header and idle
/// timeouts under pressure. Loopback only, a few dozen sockets.
struct ConnectionFloodTests {
    static let healthz = "GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n"

    /// A client that made one request and now idles on its keep-alive connection.
    static func idleClient(_ server: TestServer, from source: String? = nil) throws -> RawClient {
        let client = try RawClient(port: server.port, from: source)
        client.send(healthz)
        #expect(client.readResponse()?.status == 200)
        return client
    }

    @Test func atTheLimitTheOldestIdleConnectionMakesRoom() async throws {
        var configuration = TestServer.patient
        configuration.maxConnections = 4
        configuration.reclaimBatch = 1
        configuration.reclaimGrace = .seconds(120)  // only idle ones are reclaimable here
        let server = try TestServer(configuration: configuration)
        let oldest = try Self.idleClient(server)
        let middle = try Self.idleClient(server)
        let newest = try Self.idleClient(server)
        let silent = try RawClient(port: server.port)
        #expect(await eventually { server.server.counters.activeConnections == 4 })

        let arriving = try RawClient(port: server.port)
        arriving.send(Self.healthz)
        #expect(arriving.readResponse()?.status == 200)
        #expect(oldest.isClosedByServer())
        #expect(server.server.counters.reclaimed[.idle] == 1)
        #expect(server.server.counters.rejectedConnections == 0)
        // The younger idle ones and the silent one are untouched.
        for client in [middle, newest] {
            client.send(Self.healthz)
            #expect(client.readResponse()?.status == 200)
        }
        #expect(server.server.counters.activeConnections == 4)
        _ = silent
        _ = await server.stop()
    }

    @Test func silentAndPartialHeadsAreReclaimedOnceOlderThanTheGrace() async throws {
        var configuration = TestServer.patient
        configuration.maxConnections = 9
        configuration.reclaimGrace = .milliseconds(300)
        let server = try TestServer(configuration: configuration)
        var flood: [RawClient] = []
        for index in 0..<9 {
            let client = try RawClient(port: server.port)
            if index % 3 == 0 { client.send("POST /echo/x HTTP/1.1\r\nHost: t\r\nContent-Le") }
            flood.append(client)
        }
        #expect(await eventually { server.server.counters.activeConnections == 9 })
        try await Task.sleep(for: .milliseconds(400))
        for _ in 0..<3 {
            let client = try RawClient(port: server.port)
            client.send(Self.healthz)
            #expect(client.readResponse()?.status == 200)
        }
        let reclaimed = server.server.counters.reclaimed[.partialHead] ?? 0
        #expect(reclaimed >= 1 && reclaimed <= configuration.reclaimBatch)
        #expect(server.server.counters.rejectedConnections == 0)
        #expect(server.server.counters.activeConnections <= 9)
        _ = await server.stop()
    }

    /// A request whose head is complete and whose body is still coming: in flight, never reclaimed.
    static func bodyInFlight(_ server: TestServer) throws -> RawClient {
        let client = try RawClient(port: server.port)
        client.send("POST /echo/x HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
        return client
    }

    @Test func withNothingReclaimableTheNewConnectionIsRefusedAndCounted() async throws {
        var configuration = TestServer.patient
        configuration.maxConnections = 2
        let server = try TestServer(configuration: configuration)
        let busy = try (0..<2).map { _ in try Self.bodyInFlight(server) }
        #expect(await eventually { server.server.counters.activeConnections == 2 })
        try await Task.sleep(for: .milliseconds(1100))  // past the default 1 s grace: still not reclaimable
        let extra = try RawClient(port: server.port)
        #expect(extra.isClosedByServer())
        #expect(server.server.counters.rejectedConnections == 1)
        #expect(server.server.counters.reclaimed.values.reduce(0, +) == 0)
        for client in busy {
            client.send("defghij")
            #expect(client.readResponse()?.status == 200)
        }
        _ = await server.stop()
    }

    @Test func thePerClientCapRefusesOnlyTheFloodingClient() async throws {
        var configuration = TestServer.patient
        configuration.maxConnectionsPerClient = 3
        configuration.perClientExemptNetworks = [try #require(IPNetwork("127.0.0.3/32"))]
        let server = try TestServer(configuration: configuration)
        var flooding = try (0..<3).map { _ in try RawClient(port: server.port, from: "127.0.0.2") }
        #expect(await eventually { server.server.counters.activeConnections == 3 })
        let fourth = try RawClient(port: server.port, from: "127.0.0.2")
        #expect(fourth.isClosedByServer())
        #expect(server.server.counters.refusedPerClient == 1)
        // Another client connects normally.
        let other = try Self.idleClient(server, from: "127.0.0.1")
        // A proxy in the exempt networks carries many clients: not capped.
        let proxied = try (0..<5).map { _ in try Self.idleClient(server, from: "127.0.0.3") }
        #expect(server.server.counters.refusedPerClient == 1)
        // A slot freed by the client is its again.
        flooding.removeLast()
        #expect(await eventually { server.server.counters.activeConnections == 2 + 1 + 5 })
        _ = try Self.idleClient(server, from: "127.0.0.2")
        #expect(server.server.counters.refusedPerClient == 1)
        _ = (proxied, other)
        _ = await server.stop()
    }

    @Test func underPressureASilentConnectionClosesAfterTheShortenedHeaderTimeout() async throws {
        var configuration = TestServer.patient  // header and idle 120 s normally
        configuration.maxConnections = 10
        configuration.pressureHighWaterPercent = 50  // pressure from 5 open
        configuration.timeouts.pressureHeaderTimeout = .milliseconds(300)
        let server = try TestServer(configuration: configuration)
        // Bodies in flight hold their slots (the body timeout does not shrink); below the mark
        // the silent connection keeps its normal 120 s.
        var holding = try (0..<3).map { _ in try Self.bodyInFlight(server) }
        let silent = try RawClient(port: server.port)
        #expect(await eventually { server.server.counters.activeConnections == 4 })
        try await Task.sleep(for: .milliseconds(800))
        #expect(server.server.counters.activeConnections == 4)
        #expect(!server.server.counters.underPressure)
        // One more reaches the mark: the silent one is past accept + 300 ms, so it goes.
        holding.append(try Self.bodyInFlight(server))
        #expect(silent.isClosedByServer())
        #expect(await eventually { server.server.counters.activeConnections == 4 })
        // The requests in flight were not touched.
        for client in holding {
            client.send("defghij")
            #expect(client.readResponse()?.status == 200)
        }
        _ = await server.stop()
    }
}
