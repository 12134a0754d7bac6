import Dispatch
import Foundation
import Logging
import RoomstreamCore
import RoomstreamHTTP
import RoomstreamServer
import RoomstreamStreams

/// The running service: the HTTP server and everything behind its routes.
public final class RoomstreamService: Sendable {
    public let configuration: RoomstreamConfiguration
    public let readiness = Readiness()
    public let server: HTTPServer
    public let registry: RoomRegistry
    private let logger: Logger
    private let wallClock: any WallClock
    private let expiryTimer: RepeatingTimer
    public let streams: StreamsEngine
    private let streamsTimer: RepeatingTimer

    /// Throws when a stream's saved state cannot be read: starting without it could skip or
    /// repeat windows, so the operator must look.
    public init(configuration: RoomstreamConfiguration, logger: Logger, clock: any ServerClock = SystemClock(), wallClock: any WallClock = SystemWallClock()) throws {
        self.configuration = configuration
        self.logger = logger
        self.wallClock = wallClock
        let registry = RoomRegistry(configuration: configuration.rooms)
        self.registry = registry
        var streamsConfiguration = StreamsEngine.Configuration(
            dataDirectory: configuration.dataDirectory, peerTimeoutSeconds: configuration.rooms.peerTimeoutSeconds, publicURL: configuration.publicURL)
        streamsConfiguration.graceSeconds = configuration.graceSeconds
        streamsConfiguration.retentionSeconds = configuration.retentionDays * 86_400
        streamsConfiguration.multipartThresholdBytes = configuration.multipartThresholdMiB * 1024 * 1024
        streamsConfiguration.apiDirectoryRoot = configuration.apiDirectoryRoot
        streamsConfiguration.maxPausedSeconds = configuration.maxPausedHours * 3600
        let streams = try StreamsEngine(definitions: configuration.streams, registry: registry, configuration: streamsConfiguration, now: wallClock.nowMilliseconds()) { [logger] event, fields in
            let level: Logger.Level = event.contains("failed") ? .error : .info
            logger.log(level: level, "stream: \(event)", metadata: fields.mapValues { .string($0) })
        }
        self.streams = streams
        // Seals and deliveries run on their own queue, never on the event loops.
        self.streamsTimer = RepeatingTimer(label: "roomstream.streams", interval: .seconds(1)) { [streams, wallClock] in
            streams.tick(now: wallClock.nowMilliseconds())
        }
        let router = Routes.make(readiness: readiness, registry: registry, streams: streams, configuration: configuration, clock: wallClock) { [logger] error, request in
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
        streamsTimer.start()
        readiness.set(.ready)
        logger.info("ready", metadata: ["version": "\(RoomstreamVersion.current)", "data_dir": "\(configuration.dataDirectory)"])
    }

    /// Stops taking traffic and finishes in-flight requests within the drain timeout.
    public func shutdown(completion: @escaping @Sendable (Bool) -> Void) {
        readiness.set(.draining)
        logger.info("draining", metadata: ["drain_timeout": "\(configuration.drainTimeout)"])
        server.shutdown(drainTimeout: configuration.drainTimeout) { [logger, expiryTimer, streamsTimer] clean in
            expiryTimer.cancel()
            streamsTimer.cancel()
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
