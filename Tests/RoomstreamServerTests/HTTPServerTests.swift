#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RoomstreamBasics
import RoomstreamHTTP
@testable import RoomstreamServer
import TestSupport
import Testing

/// The server over real loopback sockets.
@Suite struct HTTPServerTests {
    @Test func keepAliveServesSeveralRequestsOnOneConnection() async throws {
        let server = try TestServer()
        let client = try RawClient(port: server.port)
        for index in 0..<3 {
            client.send("GET /echo/r\(index) HTTP/1.1\r\nHost: t\r\n\r\n")
            let response = try #require(client.readResponse())
            #expect(response.status == 200)
            #expect(response.headers["x-name"] == "r\(index)")
            #expect(response.headers["connection"] == nil)
            #expect(response.headers["date"]?.hasSuffix(" GMT") == true)
        }
        #expect(server.server.counters.acceptedConnections == 1)
        #expect(server.server.counters.requests == 3)
        _ = await server.stop()
    }

    /// Every handler runs inside a batch of its loop (what the write-ahead log's group commit
    /// relies on), batches begin and end in pairs on each loop's thread, and pipelined requests
    /// that arrive together are handled in one batch.
    @Test func handlersRunInsideTheLoopsBatches() async throws {
        let observer = BatchRecorder()
        var router = Router()
        router.add(.get, "/inside/{name}") { request in
            observer.handled(request.parameter("name"))
            return .json(.ok, "{}")
        }
        let server = try TestServer(router: router, batchObserver: observer)
        let client = try RawClient(port: server.port)
        client.send("GET /inside/a HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(client.readResponse()?.status == 200)
        client.send("GET /inside/b HTTP/1.1\r\nHost: t\r\n\r\nGET /inside/c HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(client.readResponse()?.status == 200)
        #expect(client.readResponse()?.status == 200)
        _ = await server.stop()
        let seen = observer.state.withLock { $0 }
        #expect(seen.outside.isEmpty, "handled outside a batch: \(seen.outside)")
        // Pairs: never an end without its begin, never a begin inside a batch. (Whether the
        // last batch has ended when stop() returns is not checked: its completion runs on a
        // loop, inside a batch.)
        #expect(seen.unbalanced == 0)
        #expect(seen.nested == 0)
        // (a and b may share a batch too: a connection reads until its socket is drained, and
        // a fast client's next requests can arrive before that.)
        #expect(seen.handledIn["b"] != nil && seen.handledIn["b"] == seen.handledIn["c"])
    }

    /// A read that fills less than it asked for ends the read pass without the read that would
    /// return EAGAIN, and a resume after the response reads nothing: what arrives later must
    /// still come through its own edge, and a FIN must still be read to EOF, whether it comes
    /// with the request, after the response, or between the parts of a request.
    @Test("bytes and FINs after a drained read still arrive", arguments: ["fin-with-request", "fin-after-response", "fin-mid-request"])
    func bytesAndFinsAfterADrainedReadStillArrive(_ shape: String) async throws {
        let server = try TestServer()
        let client = try RawClient(port: server.port)
        client.send("GET /echo/first HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(client.readResponse()?.headers["x-name"] == "first")
        // The next request in two parts, the second after the server drained the first.
        client.send("POST /echo/second HTTP/1.1\r\nHost: t\r\nContent-Length: 6\r\n\r\nabc")
        try await Task.sleep(for: .milliseconds(50))
        switch shape {
        case "fin-mid-request":
            // The body never completes: the FIN is read and the connection closed.
            shutdown(client.fd, Int32(SHUT_WR))
            #expect(client.isClosedByServer())
            #expect(await eventually { server.server.counters.activeConnections == 0 })
            _ = await server.stop()
            return
        case "fin-with-request":
            // Corked, the FIN rides on the data's segment: one edge reports both, and the read
            // that takes "def" is short though the FIN is still to be read.
            var one: Int32 = 1
            setsockopt(client.fd, Int32(IPPROTO_TCP), TCP_CORK, &one, socklen_t(MemoryLayout<Int32>.size))
            client.send("def")
            shutdown(client.fd, Int32(SHUT_WR))
            #expect(client.readResponse()?.headers["x-name"] == "second")
        default:
            client.send("def")
            #expect(client.readResponse()?.headers["x-name"] == "second")
            try await Task.sleep(for: .milliseconds(50))
            shutdown(client.fd, Int32(SHUT_WR))
        }
        #expect(client.isClosedByServer())
        #expect(await eventually { server.server.counters.activeConnections == 0 })
        #expect(server.server.counters.requests == 2)
        _ = await server.stop()
    }

    @Test func pipelinedRequestsAreAnsweredInOrder() async throws {
        let server = try TestServer()
        let client = try RawClient(port: server.port)
        client.send("GET /echo/a HTTP/1.1\r\nHost: t\r\n\r\nPOST /echo/b HTTP/1.1\r\nHost: t\r\nContent-Length: 4\r\n\r\nbodyGET /echo/c HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        let names = (0..<3).compactMap { _ in client.readResponse() }.map { $0.headers["x-name"] ?? "?" }
        #expect(names == ["a", "b", "c"])
        #expect(client.isClosedByServer())
        _ = await server.stop()
    }

    @Test func expectContinueGetsAnInterimResponseBeforeTheBody() async throws {
        let server = try TestServer()
        let client = try RawClient(port: server.port)
        client.send("PUT /echo/e HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n")
        let interim = try #require(client.readResponse())
        #expect(interim.status == 100)
        client.send("hello")
        let final = try #require(client.readResponse())
        #expect(final.status == 200)
        #expect(final.bodyText == "hello")
        _ = await server.stop()
    }

    @Test func oversizedDeclaredBodyGets413WithoutReadingIt() async throws {
        var configuration = ServerConfiguration()
        configuration.limits.maxBodyBytes = 100
        let server = try TestServer(configuration: configuration)
        let client = try RawClient(port: server.port)
        client.send("PUT /echo/x HTTP/1.1\r\nHost: t\r\nExpect: 100-continue\r\nContent-Length: 1000000\r\n\r\n")
        let response = try #require(client.readResponse())
        #expect(response.status == 413)
        #expect(response.headers["connection"] == "close")
        #expect(response.bodyText.contains("\"code\":\"body_too_large\""))
        #expect(client.isClosedByServer())
        _ = await server.stop()
    }

    struct LimitCase: Sendable, CustomTestStringConvertible {
        var name: String
        var request: String
        var status: Int
        var code: String
        var testDescription: String { name }
    }

    static let limitCases: [LimitCase] = [
        LimitCase(name: "request line", request: "GET /\(String(repeating: "a", count: 9000)) HTTP/1.1\r\nHost: t\r\n\r\n", status: 414, code: "request_line_too_long"),
        LimitCase(name: "header bytes", request: "GET / HTTP/1.1\r\nHost: t\r\nX-Big: \(String(repeating: "b", count: 40000))\r\n\r\n", status: 431, code: "header_section_too_large"),
        LimitCase(name: "header count", request: "GET / HTTP/1.1\r\nHost: t\r\n" + (0..<120).map { "X-\($0): v\r\n" }.joined() + "\r\n", status: 431, code: "too_many_header_fields"),
        LimitCase(name: "body", request: "POST /echo/x HTTP/1.1\r\nHost: t\r\nContent-Length: 2000000\r\n\r\n", status: 413, code: "body_too_large"),
        LimitCase(name: "smuggling: CL and TE", request: "POST /echo/x HTTP/1.1\r\nHost: t\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n", status: 400, code: "content_length_with_transfer_encoding"),
        LimitCase(name: "HTTP/2.0", request: "GET / HTTP/2.0\r\nHost: t\r\n\r\n", status: 505, code: "http_version_not_supported"),
        LimitCase(name: "gzip coding", request: "POST /echo/x HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip, chunked\r\n\r\n", status: 501, code: "unsupported_transfer_coding"),
        LimitCase(name: "unknown expectation", request: "POST /echo/x HTTP/1.1\r\nHost: t\r\nExpect: magic\r\nContent-Length: 1\r\n\r\nx", status: 417, code: "unsupported_expectation"),
    ]

    @Test("each limit answers its status and closes", arguments: limitCases)
    func limits(_ testCase: LimitCase) async throws {
        let server = try TestServer()
        let client = try RawClient(port: server.port)
        client.send(testCase.request)
        let response = try #require(client.readResponse())
        #expect(response.status == testCase.status)
        #expect(response.headers["connection"] == "close")
        #expect(response.headers["content-type"] == "application/json")
        #expect(response.bodyText.contains("\"code\":\"\(testCase.code)\""))
        #expect(client.isClosedByServer())
        _ = await server.stop()
    }

    @Test func headRequestGetsHeadersWithoutBody() async throws {
        let server = try TestServer()
        let client = try RawClient(port: server.port)
        client.send("HEAD /healthz HTTP/1.1\r\nHost: t\r\n\r\nGET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        let head = try #require(client.readResponse(headRequest: true))
        #expect(head.status == 200)
        #expect(head.headers["content-length"] == "15")
        let get = try #require(client.readResponse())
        #expect(get.bodyText == #"{"status":"ok"}"#)
        _ = await server.stop()
    }

    @Test func http10ClosesUnlessKeepAliveIsAsked() async throws {
        let server = try TestServer()
        let keepAlive = try RawClient(port: server.port)
        keepAlive.send("GET /healthz HTTP/1.0\r\nConnection: keep-alive\r\n\r\n")
        #expect(keepAlive.readResponse()?.headers["connection"] == "keep-alive")
        keepAlive.send("GET /healthz HTTP/1.0\r\n\r\n")
        #expect(keepAlive.readResponse()?.headers["connection"] == "close")
        #expect(keepAlive.isClosedByServer())
        _ = await server.stop()
    }

    @Test func chunkedRequestBodyIsDecoded() async throws {
        let server = try TestServer()
        let client = try RawClient(port: server.port)
        client.send("POST /echo/c HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n4\r\nWiki\r\n6;x=y\r\npedia \r\n0\r\nX-T: 1\r\n\r\n")
        #expect(client.readResponse()?.bodyText == "Wikipedia ")
        _ = await server.stop()
    }

    @Test func headerTimeoutClosesADrippingClient() async throws {
        var configuration = ServerConfiguration()
        configuration.timeouts.headerTimeout = .milliseconds(400)
        let server = try TestServer(configuration: configuration)
        let client = try RawClient(port: server.port)
        let started = ContinuousClock.now
        // One byte every 100 ms: each byte is progress, but the head never completes in time.
        for byte in "GET /healthz HTTP/1.1\r\nHost: t\r\n".utf8 {
            client.send([byte])
            try await Task.sleep(for: .milliseconds(100))
            if ContinuousClock.now - started > .seconds(2) { break }
        }
        let response = try #require(client.readResponse())
        #expect(response.status == 408)
        #expect(client.isClosedByServer())
        _ = await server.stop()
    }

    @Test func bodyTimeoutAnswers408() async throws {
        var configuration = ServerConfiguration()
        configuration.timeouts.bodyTimeout = .milliseconds(300)
        let server = try TestServer(configuration: configuration)
        let client = try RawClient(port: server.port)
        client.send("POST /echo/x HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nab")
        #expect(client.readResponse()?.status == 408)
        #expect(client.isClosedByServer())
        _ = await server.stop()
    }

    @Test func idleKeepAliveConnectionIsClosedSilently() async throws {
        var configuration = ServerConfiguration()
        configuration.timeouts.idleTimeout = .milliseconds(300)
        let server = try TestServer(configuration: configuration)
        let client = try RawClient(port: server.port)
        client.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(client.readResponse()?.status == 200)
        #expect(client.isClosedByServer())
        #expect(await eventually { server.server.counters.activeConnections == 0 })
        _ = await server.stop()
    }

    @Test func freshConnectionThatSendsNothingIsClosedByTheHeaderTimeout() async throws {
        var configuration = ServerConfiguration()
        configuration.timeouts.headerTimeout = .milliseconds(300)
        let server = try TestServer(configuration: configuration)
        let client = try RawClient(port: server.port)
        #expect(client.isClosedByServer())
        _ = await server.stop()
    }

    @Test func writeTimeoutClosesAClientThatDoesNotRead() async throws {
        var configuration = ServerConfiguration()
        configuration.timeouts.writeTimeout = .milliseconds(300)
        let server = try TestServer(configuration: configuration)
        let client = try RawClient(port: server.port)
        var small: Int32 = 4096
        setsockopt(client.fd, SOL_SOCKET, SO_RCVBUF, &small, socklen_t(MemoryLayout<Int32>.size))
        client.send("GET /big/50000000 HTTP/1.1\r\nHost: t\r\n\r\n")
        // The client never reads: the server's write stalls and the write timeout closes it.
        #expect(await eventually { server.server.counters.activeConnections == 0 })
        _ = await server.stop()
    }

    @Test func largeResponseIsWrittenCompletelyAcrossPartialWrites() async throws {
        let server = try TestServer()
        let client = try RawClient(port: server.port)
        client.send("GET /big/5000000 HTTP/1.1\r\nHost: t\r\n\r\nGET /echo/after HTTP/1.1\r\nHost: t\r\n\r\n")
        let big = try #require(client.readResponse())
        #expect(big.body.count == 5_000_000)
        #expect(client.readResponse()?.headers["x-name"] == "after")
        _ = await server.stop()
    }

    @Test func parseErrorAnswersJSONAndCloses() async throws {
        let server = try TestServer()
        let client = try RawClient(port: server.port)
        client.send("GET / HTTP/1.1\r\nHost : t\r\n\r\n")
        let response = try #require(client.readResponse())
        #expect(response.status == 400)
        #expect(response.bodyText == #"{"error":{"code":"whitespace_before_colon","message":"whitespace between a field name and its colon is not allowed"}}"#)
        #expect(client.isClosedByServer())
        _ = await server.stop()
    }

    @Test func maxConnectionsClosesTheExtraOnesAndCountsThem() async throws {
        var configuration = TestServer.patient
        configuration.maxConnections = 3
        configuration.reclaimGrace = .seconds(120)  // nothing reclaimable: the extra one is refused
        let server = try TestServer(configuration: configuration)
        let held = try (0..<3).map { _ in try RawClient(port: server.port) }
        #expect(await eventually { server.server.counters.activeConnections == 3 })
        let extra = try RawClient(port: server.port)
        #expect(extra.isClosedByServer())
        #expect(server.server.counters.rejectedConnections == 1)
        held[0].send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(held[0].readResponse()?.status == 200)
        _ = await server.stop()
    }

    @Test func thousandIdleConnectionsDoNotBlockANormalRequest() async throws {
        raiseFileLimit(to: 8192)
        var configuration = TestServer.patient
        configuration.maxConnectionsPerClient = 0  // one loopback client holds them all
        let server = try TestServer(configuration: configuration)
        var idle: [RawClient] = []
        for _ in 0..<1000 { idle.append(try RawClient(port: server.port)) }
        #expect(await eventually(timeout: .seconds(10)) { server.server.counters.activeConnections == 1000 })
        let client = try RawClient(port: server.port)
        client.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(client.readResponse()?.status == 200)
        #expect(server.server.counters.activeConnections == 1001)
        // Half of the idle ones now make a request too.
        for connection in idle.prefix(500) { connection.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n") }
        #expect(idle.prefix(500).allSatisfy { $0.readResponse()?.status == 200 })
        #expect(await server.stop(drainTimeout: .seconds(5)))
        _ = idle
    }

    @Test func shutdownFinishesInFlightRequestsAndClosesIdleOnes() async throws {
        // The handler blocks until the test has begun the drain, so the order is certain. Its
        // wait is long: a loaded sanitizer run once kept this test's task off the cooperative
        // pool for more than the 10 s it had, and the answer went out before the drain began.
        let gate = DispatchSemaphore(value: 0)
        var router = TestServer.echoRouter()
        router.add(.get, "/gate") { _ in
            let opened = gate.wait(timeout: .now() + 120) == .success
            return .json(.ok, #"{"gated":\#(opened)}"#)
        }
        let server = try TestServer(configuration: TestServer.patient, router: router)
        let idle = try RawClient(port: server.port)
        let busy = try RawClient(port: server.port)
        #expect(await eventually { server.server.counters.activeConnections == 2 })
        busy.send("GET /gate HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(await eventually { server.server.counters.requests == 1 })
        let stopped = LockedBox<Bool?>(nil)
        server.server.shutdown(drainTimeout: .seconds(5)) { stopped.set($0) }
        gate.signal()
        let response = try #require(busy.readResponse())
        #expect(response.status == 200)
        #expect(response.bodyText == #"{"gated":true}"#)
        #expect(response.headers["connection"] == "close")
        #expect(busy.isClosedByServer())
        #expect(idle.isClosedByServer())
        #expect(await eventually { stopped.get() == true })
        #expect(throws: ClientError.self) { try RawClient(port: server.port) }
    }

    /// What a conformance run leaves behind: idle keep-alive connections, peers that closed or
    /// reset in the middle of a head or body, or after a closing error response, and silent
    /// partial heads. None has a request in flight with a live peer, so the drain ends at once
    /// instead of waiting out its timeout.
    @Test func drainDoesNotWaitForConnectionsWithoutARequestInFlight() async throws {
        var configuration = ServerConfiguration()
        configuration.timeouts.headerTimeout = .seconds(30)
        configuration.timeouts.idleTimeout = .seconds(30)
        let server = try TestServer(configuration: configuration)
        var keep: [RawClient] = []
        for index in 0..<24 {
            let client = try RawClient(port: server.port)
            switch index % 6 {
            case 0:  // idle keep-alive after a response
                client.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
                #expect(client.readResponse()?.status == 200)
                keep.append(client)
            case 1:  // half a head, then FIN
                client.send("GET /healthz HTTP/1.1\r\nHo")
                shutdown(client.fd, Int32(SHUT_WR))
                keep.append(client)
            case 2:  // half a head, then RST
                client.send("POST /echo/x HTTP/1.1\r\nHost: t\r\nContent-Le")
                client.reset()
            case 3:  // a malformed request (closing 400), then the peer goes away without reading
                client.send("GET /healthz#x HTTP/1.1\r\nHost: t\r\n\r\n")
                client.reset()
            case 4:  // a complete head, half the body, then RST: in flight, but nobody is there
                client.send("POST /echo/x HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
                client.reset()
            default:  // half a head from a peer still there but silent
                client.send("GET /healthz HTTP/1.1\r\nHost: t\r\n")
                keep.append(client)
            }
        }
        try await Task.sleep(for: .milliseconds(300))  // let the server read what was sent
        // A clean stop (true) means every connection closed before the drain timeout; the ones
        // above would otherwise hold it until their 30 s header timeout, past the 15 s drain.
        #expect(await server.stop(drainTimeout: .seconds(15)), "the drain waited for connections with no request in flight")
        _ = keep
    }

    @Test func drainTimeoutForcesRemainingConnectionsClosed() async throws {
        var configuration = ServerConfiguration()
        configuration.timeouts.headerTimeout = .seconds(30)
        let server = try TestServer(configuration: configuration)
        let slow = try RawClient(port: server.port)
        // A body that never completes: a request in flight, which the drain waits for.
        slow.send("POST /echo/x HTTP/1.1\r\nHost: t\r\nContent-Length: 10\r\n\r\nabc")
        #expect(await eventually { server.server.counters.activeConnections == 1 })
        try await Task.sleep(for: .milliseconds(300))
        #expect(await server.stop(drainTimeout: .milliseconds(200)) == false)
        #expect(slow.isClosedByServer())
    }

    @Test func listensOnIPv6Loopback() async throws {
        var configuration = ServerConfiguration()
        configuration.host = "::1"
        let server = try TestServer(configuration: configuration)
        let client = try RawClient(port: server.port, host: "::1")
        client.send("GET /healthz HTTP/1.1\r\nHost: [::1]\r\n\r\n")
        #expect(client.readResponse()?.status == 200)
        _ = await server.stop()
    }

    @Test func dualStackListenerAcceptsIPv4() async throws {
        var configuration = ServerConfiguration()
        configuration.host = "::"
        let server = try TestServer(configuration: configuration)
        let client = try RawClient(port: server.port, host: "127.0.0.1")
        client.send("GET /healthz HTTP/1.1\r\nHost: t\r\n\r\n")
        #expect(client.readResponse()?.status == 200)
        _ = await server.stop()
    }

    @Test func portInUseFailsToStart() throws {
        let first = try TestServer()
        var configuration = ServerConfiguration()
        configuration.host = "127.0.0.1"
        configuration.port = first.port
        let second = HTTPServer(configuration: configuration, logger: .init(label: "t")) { _ in HTTPResponse(status: .ok) }
        #expect(throws: SocketError.self) { try second.start() }
    }
}

/// Records batches per thread: which batch each request was handled in.
final class BatchRecorder: EventBatchObserver {
    struct State {
        var open: [UInt64: Int] = [:]
        var current: [UInt64: Int] = [:]
        var batches = 0
        var unbalanced = 0
        var nested = 0
        var handledIn: [String: Int] = [:]
        var outside: [String] = []
    }
    let state = Locked(State())
    private static func thread() -> UInt64 { UInt64(pthread_self()) }
    func batchBegan() {
        let thread = Self.thread()
        state.withLock { state in
            if state.open[thread, default: 0] > 0 { state.nested += 1 }
            state.open[thread, default: 0] += 1
            state.batches += 1
            state.current[thread] = state.batches
        }
    }
    func batchEnded() {
        let thread = Self.thread()
        state.withLock { state in
            state.open[thread, default: 0] -= 1
            if state.open[thread, default: 0] < 0 { state.unbalanced += 1 }
            state.current[thread] = nil
        }
    }
    func handled(_ name: String) {
        let thread = Self.thread()
        state.withLock { state in
            if state.open[thread, default: 0] > 0, let batch = state.current[thread] { state.handledIn[name] = batch } else { state.outside.append(name) }
        }
    }
}
