import Dispatch
import Foundation
import Logging
import RoomstreamCore
import RoomstreamHTTP
import RoomstreamServer

/// The running service: the HTTP server and everything behind its routes.
public final class RoomstreamService: Sendable {
    public let configuration: RoomstreamConfiguration
    public let readiness = Readiness()
    public let server: HTTPServer
    public let registry: RoomRegistry
    private let logger: Logger
    private let wallClock: any WallClock
    private let expiryTimer: RepeatingTimer

    public init(configuration: RoomstreamConfiguration, logger: Logger, clock: any ServerClock = SystemClock(), wallClock: any WallClock = SystemWallClock()) {
        self.configuration = configuration
        self.logger = logger
        self.wallClock = wallClock
        let registry = RoomRegistry(configuration: configuration.rooms)
        self.registry = registry
        let router = Routes.make(readiness: readiness, registry: registry, configuration: configuration, clock: wallClock) { [logger] error, request in
            logger.error("handler failed", metadata: ["method": "\(request.method)", "target": "\(request.target)", "error": "\(error)"])
        }
        // Once a second, peers silent for the peer timeout leave and empty rooms end.
        self.expiryTimer = RepeatingTimer(label: "roomstream.rooms.expiry", interval: .seconds(1)) { [registry, wallClock, logger] in
            let ended = registry.expire(now: wallClock.nowMilliseconds())
            if !ended.isEmpty { logger.debug("rooms ended", metadata: ["count": "\(ended.count)"]) }
        }
        self.server = HTTPServer(configuration: configuration.server, clock: clock, logger: logger) { router.respond(to: $0) }
    }

    /// Prepares the data directory, starts listening, then reports ready.
    public func start() throws {
        do {
            try FileManager.default.createDirectory(atPath: configuration.dataDirectory, withIntermediateDirectories: true)
        } catch {
            throw ConfigurationError(field: "data_dir", problem: "cannot create '\(configuration.dataDirectory)': \(error.localizedDescription)")
        }
        try server.start()
        expiryTimer.start()
        readiness.set(.ready)
        logger.info("ready", metadata: ["version": "\(RoomstreamVersion.current)", "data_dir": "\(configuration.dataDirectory)"])
    }

    /// Stops taking traffic and finishes in-flight requests within the drain timeout.
    public func shutdown(completion: @escaping @Sendable (Bool) -> Void) {
        readiness.set(.draining)
        logger.info("draining", metadata: ["drain_timeout": "\(configuration.drainTimeout)"])
        server.shutdown(drainTimeout: configuration.drainTimeout) { [logger, expiryTimer] clean in
            expiryTimer.cancel()
            logger.info("stopped", metadata: ["clean": "\(clean)"])
            completion(clean)
        }
    }
}

/// The system's wall clock in epoch milliseconds.
public struct SystemWallClock: WallClock {
    public init() {}
    public func nowMilliseconds() -> Double { Date().timeIntervalSince1970 * 1000 }
}
