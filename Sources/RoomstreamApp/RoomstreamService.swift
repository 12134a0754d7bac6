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
    public let checkpoint: RegistryCheckpoint
    private let checkpointTimer: RepeatingTimer

    /// Throws when a stream's saved state cannot be read: starting without it could skip or
    /// repeat windows, so the operator must look.
    public init(configuration: RoomstreamConfiguration, logger: Logger, clock: any ServerClock = SystemClock(), wallClock: any WallClock = SystemWallClock()) throws {
        self.configuration = configuration
        self.logger = logger
        self.wallClock = wallClock
        // The live state continues from the last checkpoint (a graceful stop always writes one).
        let checkpoint = RegistryCheckpoint(dataDirectory: configuration.dataDirectory)
        self.checkpoint = checkpoint
        let registry: RoomRegistry
        if let snapshot = try checkpoint.load() {
            registry = RoomRegistry(configuration: configuration.rooms, restoring: snapshot)
            logger.info("live state restored", metadata: ["live_rooms": "\(snapshot.live.count)", "ended_rooms": "\(snapshot.ended.count)", "checkpoint": "\(checkpoint.path)"])
        } else {
            registry = RoomRegistry(configuration: configuration.rooms)
        }
        self.registry = registry
        let writeCheckpoint: @Sendable () -> Bool = { [logger, wallClock] in
            let failure = checkpoint.tryWrite(registry, now: wallClock.nowMilliseconds())
            if let failure { logger.error("checkpoint failed", metadata: ["error": "\(failure)"]) }
            return failure == nil
        }
        var streamsConfiguration = StreamsEngine.Configuration(
            dataDirectory: configuration.dataDirectory, peerTimeoutSeconds: configuration.rooms.peerTimeoutSeconds, publicURL: configuration.publicURL)
        streamsConfiguration.graceSeconds = configuration.graceSeconds
        streamsConfiguration.retentionSeconds = configuration.retentionDays * 86_400
        streamsConfiguration.multipartThresholdBytes = configuration.multipartThresholdMiB * 1024 * 1024
        streamsConfiguration.apiDirectoryRoot = configuration.apiDirectoryRoot
        streamsConfiguration.maxPausedSeconds = configuration.maxPausedHours * 3600
        let streams = try StreamsEngine(definitions: configuration.streams, registry: registry, configuration: streamsConfiguration, now: wallClock.nowMilliseconds(),
                                        beforeSeal: writeCheckpoint) { [logger] event, fields in
            let level: Logger.Level = event.contains("failed") ? .error : .info
            logger.log(level: level, "stream: \(event)", metadata: fields.mapValues { .string($0) })
        }
        self.streams = streams
        // Seals and deliveries run on their own queue, never on the event loops.
        self.streamsTimer = RepeatingTimer(label: "roomstream.streams", interval: .seconds(1)) { [streams, wallClock] in
            streams.tick(now: wallClock.nowMilliseconds())
        }
        let router = Routes.make(readiness: readiness, registry: registry, streams: streams, checkpoint: checkpoint, configuration: configuration, clock: wallClock) { [logger] error, request in
            logger.error("handler failed", metadata: ["method": "\(request.method)", "target": "\(request.target)", "error": "\(error)"])
        }
        // Once a second, peers silent for the peer timeout leave and empty rooms end.
        self.expiryTimer = RepeatingTimer(label: "roomstream.rooms.expiry", interval: .seconds(1)) { [registry, wallClock, logger] in
            let ended = registry.expire(now: wallClock.nowMilliseconds())
            if !ended.isEmpty { logger.debug("rooms ended", metadata: ["count": "\(ended.count)"]) }
        }
        self.checkpointTimer = RepeatingTimer(label: "roomstream.rooms.checkpoint", interval: .milliseconds(Int((configuration.checkpointIntervalSeconds * 1000).rounded()))) {
            _ = writeCheckpoint()
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
        checkpointTimer.start()
        readiness.set(.ready)
        logger.info("ready", metadata: ["version": "\(RoomstreamVersion.current)", "data_dir": "\(configuration.dataDirectory)"])
    }

    /// Stops taking traffic and finishes in-flight requests within the drain timeout.
    public func shutdown(completion: @escaping @Sendable (Bool) -> Void) {
        readiness.set(.draining)
        logger.info("draining", metadata: ["drain_timeout": "\(configuration.drainTimeout)"])
        server.shutdown(drainTimeout: configuration.drainTimeout) { [logger, expiryTimer, streamsTimer, checkpointTimer, checkpoint, registry, wallClock] clean in
            expiryTimer.cancel()
            streamsTimer.cancel()
            checkpointTimer.cancel()
            // The final checkpoint: the next start continues every live room as it is now.
            let failure = checkpoint.tryWrite(registry, now: wallClock.nowMilliseconds())
            if let failure { logger.error("final checkpoint failed", metadata: ["error": "\(failure)"]) }
            logger.info("stopped", metadata: ["clean": "\(clean && failure == nil)", "live_rooms": "\(registry.liveRoomCount)"])
            completion(clean && failure == nil)
        }
    }
}

/// The system's wall clock in epoch milliseconds.
public struct SystemWallClock: WallClock {
    public init() {}
    public func nowMilliseconds() -> Double { Date().timeIntervalSince1970 * 1000 }
}
