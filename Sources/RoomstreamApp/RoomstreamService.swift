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
    /// The admin listener (`server.admin_listener`), when configured.
    public let adminServer: HTTPServer?
    public let registry: RoomRegistry
    private let logger: Logger
    private let wallClock: any WallClock
    private let expiryTimer: RepeatingTimer
    public let streams: StreamsEngine
    private let streamsTimer: RepeatingTimer
    public let checkpoint: RegistryCheckpoint
    private let checkpointTimer: RepeatingTimer
    /// Prometheus metrics (`GET /metrics`).
    let metrics: ServiceMetrics
    /// The write-ahead log (nil when `durability.log_policy` is `off`).
    public let log: WriteAheadLog?

    /// Throws when a stream's saved state cannot be read: starting without it could skip or
    /// repeat windows, so the operator must look.
    public init(configuration: RoomstreamConfiguration, logger: Logger, clock: any ServerClock = SystemClock(), wallClock: any WallClock = SystemWallClock()) throws {
        self.configuration = configuration
        self.logger = logger
        self.wallClock = wallClock
        try Self.prepareDataDirectory(configuration.dataDirectory)

        // The live state continues from the last checkpoint, then the write-ahead log after it.
        let checkpoint = RegistryCheckpoint(dataDirectory: configuration.dataDirectory)
        self.checkpoint = checkpoint
        let logDirectory = "\(configuration.dataDirectory)/rooms/log"
        let log = configuration.logPolicy.map { WriteAheadLog(configuration: .init(directory: logDirectory, policy: $0)) }
        self.log = log
        let snapshot = try checkpoint.load()
        let registry = snapshot.map { RoomRegistry(configuration: configuration.rooms, restoring: $0, log: log) } ?? RoomRegistry(configuration: configuration.rooms, log: log)
        self.registry = registry
        try Self.recover(registry: registry, snapshot: snapshot, log: log, logDirectory: logDirectory, checkpoint: checkpoint,
                         now: wallClock.nowMilliseconds(), logger: logger)
        let writeCheckpoint: @Sendable () -> Bool = { [logger, wallClock] in
            if case .failure(let error) = checkpoint.tryWrite(registry, log: log, now: wallClock.nowMilliseconds()) {
                logger.error("checkpoint failed", metadata: ["error": "\(error)"])
                return false
            }
            return true
        }
        var streamsConfiguration = StreamsEngine.Configuration(
            dataDirectory: configuration.dataDirectory, peerTimeoutSeconds: configuration.rooms.peerTimeoutSeconds, publicURL: configuration.publicURL)
        streamsConfiguration.graceSeconds = configuration.graceSeconds
        streamsConfiguration.retentionSeconds = configuration.retentionDays * 86_400
        streamsConfiguration.multipartThresholdBytes = configuration.multipartThresholdMiB * 1024 * 1024
        streamsConfiguration.apiDirectoryRoot = configuration.apiDirectoryRoot
        streamsConfiguration.maxPausedSeconds = configuration.maxPausedHours * 3600
        streamsConfiguration.instanceID = configuration.instanceID
        let metrics = ServiceMetrics()
        self.metrics = metrics
        let streams = try StreamsEngine(definitions: configuration.streams, registry: registry, configuration: streamsConfiguration, now: wallClock.nowMilliseconds(),
                                        beforeSeal: writeCheckpoint, onMeasurement: { metrics.streams($0) }) { [logger] event, fields in
            let level: Logger.Level = event.contains("failed") ? .error : .info
            logger.log(level: level, "stream: \(event)", metadata: fields.mapValues { .string($0) })
        }
        self.streams = streams
        // An S3 stream whose secret cannot be found would fail only at its first upload, an
        // interval later: refuse to start instead (exit 2). The running definitions (API changes
        // included) are what count.
        for status in streams.statuses {
            guard case .s3(let s3) = status.definition.destination else { continue }
            do { _ = try S3Credentials.resolve(s3, environment: ProcessInfo.processInfo.environment) } catch {
                throw ConfigurationError(field: "streams \(status.definition.id): \(error.field)", problem: error.problem)
            }
        }
        // Seals and deliveries run on their own queue, never on the event loops.
        self.streamsTimer = RepeatingTimer(label: "roomstream.streams", interval: .seconds(1)) { [streams, wallClock] in
            streams.tick(now: wallClock.nowMilliseconds())
        }
        let checkpointQueue = DispatchQueue(label: "roomstream.rooms.checkpoint.early")
        let earlyCheckpointPending = Locked(false)
        // When the log passes half its bound between checkpoints (or the bound itself): one
        // checkpoint at once, not one per request.
        let checkpointSoon: @Sendable () -> Void = {
            let start = earlyCheckpointPending.withLock { pending in
                defer { pending = true }
                return !pending
            }
            guard start else { return }
            checkpointQueue.async {
                _ = writeCheckpoint()
                earlyCheckpointPending.withLock { $0 = false }
            }
        }
        let durability = IngestDurability(
            checkpoint: checkpoint, log: log, maxUncheckpointedLogBytes: configuration.maxUncheckpointedLogBytes,
            earlyCheckpointLogBytes: configuration.earlyCheckpointLogBytes ?? configuration.maxUncheckpointedLogBytes / 2, checkpointSoon: checkpointSoon)
        var locator = try GeoLocator(configuration: configuration.location)
        locator.onError = { [logger] error in logger.warning("location look-up failed", metadata: ["error": "\(error)"]) }
        if locator.isEnabled {
            logger.info("location databases", metadata: [
                "city": "\(locator.city.map { "\($0.path) (\($0.databaseType))" } ?? "none")",
                "asn": "\(locator.asn.map { "\($0.path) (\($0.databaseType))" } ?? "none")",
            ])
        }
        let serverBox = Locked<HTTPServer?>(nil)
        let makeRouter = { [readiness, logger] (surface: Routes.Surface) in
            Routes.make(readiness: readiness, registry: registry, streams: streams, durability: durability, configuration: configuration, clock: wallClock,
                        metrics: metrics, locator: locator, surface: surface, serverCounters: { serverBox.withLock { $0?.counters } }) { error, request in
                logger.error("handler failed", metadata: [
                    "method": "\(request.method)", "target": "\(request.target)", "request_id": "\(request.requestID ?? "")", "error": "\(error)",
                ])
            }
        }
        let pipeline = RequestPipeline(router: makeRouter(.main), metrics: metrics, logger: logger)
        // Once a second, peers silent for the peer timeout leave and empty rooms end.
        self.expiryTimer = RepeatingTimer(label: "roomstream.rooms.expiry", interval: .seconds(1)) { [registry, wallClock, logger] in
            let ended = registry.expire(now: wallClock.nowMilliseconds())
            if !ended.isEmpty { logger.debug("rooms ended", metadata: ["count": "\(ended.count)"]) }
        }
        self.checkpointTimer = RepeatingTimer(label: "roomstream.rooms.checkpoint", interval: .milliseconds(Int((configuration.checkpointIntervalSeconds * 1000).rounded()))) {
            _ = writeCheckpoint()
        }
        // Trusted proxies carry many clients: their connections are not capped per client.
        var serverConfiguration = configuration.server
        serverConfiguration.perClientExemptNetworks = configuration.clientAddress.trustedProxies
        serverConfiguration.serverErrorHeaders = IngestCORS(origins: configuration.corsOrigins).serverErrorHeaders
        self.server = HTTPServer(configuration: serverConfiguration, clock: clock, logger: logger, batchObserver: log.map(LogBatches.init)) { pipeline.handle($0) }
        if let admin = configuration.adminListener {
            var adminConfiguration = serverConfiguration
            adminConfiguration.host = admin.host
            adminConfiguration.port = admin.port
            adminConfiguration.maxConnections = admin.maxConnections
            adminConfiguration.eventLoopCount = 1
            let adminPipeline = RequestPipeline(router: makeRouter(.admin), metrics: metrics, logger: logger)
            var adminLogger = logger
            adminLogger[metadataKey: "listener"] = "admin"
            self.adminServer = HTTPServer(configuration: adminConfiguration, clock: clock, logger: adminLogger) { adminPipeline.handle($0) }
        } else {
            self.adminServer = nil
        }
        serverBox.withLock { [server] in $0 = server }
    }

    /// Starts listening (the data directory was prepared by `init`), then reports ready.
    public func start() throws {
        // Every connection is a descriptor; the spool, the log and the uploads need some more.
        let wantedDescriptors = configuration.server.maxConnections + (configuration.adminListener?.maxConnections ?? 0) + 512
        let descriptors = DescriptorLimit.raise(to: wantedDescriptors)
        if descriptors < wantedDescriptors {
            logger.warning("the open-file limit is below server.max_connections plus headroom; new connections fail with EMFILE before the limit (raise LimitNOFILE / ulimit -n)",
                           metadata: ["open_file_limit": "\(descriptors)", "wanted": "\(wantedDescriptors)"])
        }
        try server.start()
        do { try adminServer?.start() } catch {
            server.shutdown(drainTimeout: .zero) { _ in }
            throw error
        }
        expiryTimer.start()
        streamsTimer.start()
        checkpointTimer.start()
        readiness.set(.ready)
        let deleted = streams.configuredStreamsDeletedByAPI(configuration.streams)
        logger.info("ready", metadata: [
            "version": "\(RoomstreamVersion.current)", "data_dir": "\(configuration.dataDirectory)",
            "summary": "\(ConfigurationCheck.summary(configuration))",
            "running_streams": "\(streams.statuses.map(\.definition.id).joined(separator: ","))",
        ])
        if !deleted.isEmpty {
            logger.warning("configured streams deleted through the admin API stay deleted (data/streams/definitions.json)",
                           metadata: ["streams": "\(deleted.joined(separator: ","))"])
        }
    }

    /// Stops taking traffic and finishes in-flight requests within the drain timeout.
    public func shutdown(completion: @escaping @Sendable (Bool) -> Void) {
        readiness.set(.draining)
        logger.info("draining", metadata: ["drain_timeout": "\(configuration.drainTimeout)"])
        server.shutdown(drainTimeout: configuration.drainTimeout) { [logger, expiryTimer, streamsTimer, checkpointTimer, checkpoint, registry, wallClock, log, adminServer] clean in
            // The admin listener answered probes (readyz: draining) through the drain; now it goes too.
            adminServer?.shutdown(drainTimeout: .seconds(1)) { _ in }
            expiryTimer.cancel()
            streamsTimer.cancel()
            checkpointTimer.cancel()
            // The final checkpoint: the next start continues every live room as it is now.
            var saved = true
            if case .failure(let error) = checkpoint.tryWrite(registry, log: log, now: wallClock.nowMilliseconds()) {
                logger.error("final checkpoint failed; the write-ahead log keeps what it lacks", metadata: ["error": "\(error)"])
                saved = false
            }
            log?.finish()
            logger.info("stopped", metadata: ["clean": "\(clean && saved)", "live_rooms": "\(registry.liveRoomCount)"])
            completion(clean && saved)
        }
    }
}

extension RoomstreamService {
    static func prepareDataDirectory(_ path: String) throws(ConfigurationError) {
        do {
            try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        } catch {
            throw ConfigurationError(field: "data_dir", problem: "cannot create '\(path)': \(error.localizedDescription)")
        }
    }

    /// Replays the write-ahead log after the checkpoint, writes a checkpoint of the result (so
    /// the old segments can go), and opens the log for appending. A checkpoint without a log
    /// position was written with the log off: any segments are older than it and are dropped.
    static func recover(registry: RoomRegistry, snapshot: RegistrySnapshot?, log: WriteAheadLog?, logDirectory: String,
                        checkpoint: RegistryCheckpoint, now: Double, logger: Logger) throws {
        if let snapshot {
            logger.info("live state restored", metadata: ["live_rooms": "\(snapshot.live.count)", "ended_rooms": "\(snapshot.ended.count)", "checkpoint": "\(checkpoint.path)"])
        }
        var last = snapshot?.logPosition ?? 0
        if snapshot == nil || snapshot?.logPosition != nil {
            let summary = try WriteAheadLog.replay(directory: logDirectory, after: last) { record in
                if let refused = registry.replay(record) { logger.warning("replayed request refused", metadata: ["error": "\(refused)"]) }
            }
            for problem in summary.problems { logger.error("write-ahead log", metadata: ["problem": "\(problem)"]) }
            if summary.applied > 0 {
                logger.info("write-ahead log replayed", metadata: ["records": "\(summary.applied)", "last_lsn": "\(summary.lastLSN)", "live_rooms": "\(registry.liveRoomCount)"])
            }
            last = summary.lastLSN
        } else {
            logger.warning("write-ahead log segments predate the checkpoint (written with the log off); removing them")
            try WriteAheadLog.removeSegments(in: logDirectory)
        }
        try log?.open(after: last)
        // The replayed state as a checkpoint; the segments it covers are deleted. When it cannot
        // be written the segments stay and ingest answers 503 until a checkpoint works.
        if case .failure(let error) = checkpoint.tryWrite(registry, log: log, now: now) {
            logger.error("checkpoint after recovery failed", metadata: ["error": "\(error)"])
        } else if log == nil {
            try WriteAheadLog.removeSegments(in: logDirectory)
        }
    }
}

/// The system's wall clock in epoch milliseconds.
public struct SystemWallClock: WallClock {
    public init() {}
    public func nowMilliseconds() -> Double { Date().timeIntervalSince1970 * 1000 }
}

/// The write-ahead log's group commit follows the ingest loops' batches: one group per
/// batch of requests (`EventBatchObserver`, `WriteAheadLog.batchBegan`).
struct LogBatches: EventBatchObserver {
    let log: WriteAheadLog
    func batchBegan() { log.batchBegan() }
    func batchEnded() { log.batchEnded() }
}
