#if canImport(Glibc)
import Glibc
#endif
import Foundation
import Logging
import RoomstreamHTTP
@testable import RoomstreamServer
import Testing
import TestSupport

/// A real server on an ephemeral loopback port.
final class TestServer: Sendable {
    let server: HTTPServer
    var port: Int { server.localPort }

    /// Header and idle timeouts of two minutes, for tests that hold idle connections and are not
    /// about timeouts: in a loaded sanitizer run a test's own checks can lag by seconds, and the
    /// default 10 s header timeout would close the connections it is counting.
    static var patient: ServerConfiguration {
        var configuration = ServerConfiguration()
        configuration.timeouts.headerTimeout = .seconds(120)
        configuration.timeouts.idleTimeout = .seconds(120)
        // The same under connection pressure, which tests with a small `maxConnections` reach.
        configuration.timeouts.pressureHeaderTimeout = .seconds(120)
        configuration.timeouts.pressureIdleTimeout = .seconds(120)
        return configuration
    }

    init(configuration: ServerConfiguration = ServerConfiguration(), router: Router = TestServer.echoRouter(),
         batchObserver: (any EventBatchObserver)? = nil) throws {
        var configuration = configuration
        if configuration.host == ServerConfiguration().host { configuration.host = "127.0.0.1" }
        configuration.port = 0
        configuration.eventLoopCount = 2
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        server = HTTPServer(configuration: configuration, logger: logger, batchObserver: batchObserver) { router.respond(to: $0) }
        try server.start()
    }

    /// Stops the server and waits for every connection to close.
    func stop(drainTimeout: Duration = .seconds(2)) async -> Bool {
        await withCheckedContinuation { continuation in
            server.shutdown(drainTimeout: drainTimeout) { continuation.resume(returning: $0) }
        }
    }

    /// Echo routes: `/echo/{name}` returns the body with the name in `X-Name`; `/big/{bytes}` a large body.
    static func echoRouter() -> Router {
        var router = Router()
        router.add(.get, "/healthz") { _ in .json(.ok, #"{"status":"ok"}"#) }
        for method in [HTTPMethod.get, .post, .put] {
            router.add(method, "/echo/{name}") { request in
                HTTPResponse(status: .ok, headers: [HTTPHeaderField("X-Name", request.parameter("name"))], body: Array(request.http.body))
            }
        }
        router.add(.get, "/big/{bytes}") { request in
            HTTPResponse(status: .ok, body: [UInt8](repeating: 0x61, count: Int(request.parameter("bytes")) ?? 0))
        }
        return router
    }
}

