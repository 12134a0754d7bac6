import Foundation
import RoomstreamCore
import RoomstreamBasics
import Synchronization

/// Runs every configured stream: seals due windows from the registry's ended rooms, delivers
/// the files, retries failures with backoff, persists state, prunes delivered files after the
/// retention period, and releases rooms every stream has sealed. `tick(now:)` does one round;
/// the app calls it from a Dispatch timer. State reads (status endpoints) take the lock briefly.
public final class StreamsEngine: Sendable {
    public struct Configuration: Sendable {
        public var dataDirectory: String
        public var peerTimeoutSeconds: Double
        public var graceSeconds: Double = 10
        public var retentionSeconds: Double = 7 * 86_400
        public var publicURL: String
        public var backoff = Backoff()
        /// Files above this go to S3 as multipart uploads (parts of `multipartPartBytes`).
        public var multipartThresholdBytes = 64 * 1024 * 1024
        public var multipartPartBytes = 16 * 1024 * 1024
        /// Least delay before retrying after a configuration error (403/404 from the store).
        public var configurationErrorRetrySeconds: Double = 60
        /// Root for directory destinations made through the admin API (nil: `<data>/files`).
        public var apiDirectoryRoot: String?

        /// Where directory destinations resolve, and where API-made ones must stay.
        public var directories: DirectoryConfinement { DirectoryConfinement(dataDirectory: dataDirectory, apiRoot: apiDirectoryRoot) }

        public init(dataDirectory: String, peerTimeoutSeconds: Double, publicURL: String) {
            self.dataDirectory = dataDirectory
            self.peerTimeoutSeconds = peerTimeoutSeconds
            self.publicURL = publicURL
        }
    }

    /// One stream's live status, as `GET /v1/streams/{id}` shows it.
    public struct Status: Sendable {
        public var definition: StreamDefinition
        public var lastSealedWindow: StreamWindow?
        public var nextSealTime: Int64
        public var files: [SealedFile]
        public var lastError: String?
    }

    struct Runtime: Sendable {
        var definition: StreamDefinition
        var scheduler: SealScheduler
        var state: StreamState
        var nextAttempt: [String: Double] = [:]
        var lastError: String?
    }

    public let configuration: Configuration
    public let directories: DirectoryConfinement
    private let registry: RoomRegistry
    let streams: Locked<[Runtime]>
    /// Serializes admin changes (held across their disk work; see StreamsEngine+Admin).
    let adminLock = Locked(())
    let onEvent: @Sendable (String, [String: String]) -> Void

    /// Loads each stream's state; a stream without state starts with the window containing `now`.
    public init(definitions: [StreamDefinition], registry: RoomRegistry, configuration: Configuration, now: Double,
                onEvent: @escaping @Sendable (String, [String: String]) -> Void = { _, _ in }) throws {
        self.configuration = configuration
        self.directories = configuration.directories
        self.registry = registry
        self.onEvent = onEvent
        // API changes (data/streams/definitions.json) overlay the configured streams.
        let overrides = try StreamOverrides.load(from: Self.overridesPath(configuration.dataDirectory)) ?? StreamOverrides()
        var runtimes: [Runtime] = []
        for definition in overrides.apply(to: definitions) {
            runtimes.append(try Self.makeRuntime(definition, configuration: configuration, now: now))
        }
        self.streams = Locked(runtimes)
    }

    static func makeRuntime(_ definition: StreamDefinition, configuration: Configuration, now: Double) throws -> Runtime {
        let state = try StreamState.load(from: statePath(configuration.dataDirectory, definition.id)) ?? StreamState()
        let scheduler: SealScheduler
        if let end = state.lastSealedWindowEnd {
            let length = Int64(definition.intervalMinutes) * 60_000
            scheduler = SealScheduler(intervalMinutes: definition.intervalMinutes, peerTimeoutSeconds: configuration.peerTimeoutSeconds,
                                      graceSeconds: configuration.graceSeconds, after: StreamWindow(start: end - length, end: end))
        } else {
            scheduler = SealScheduler(intervalMinutes: definition.intervalMinutes, peerTimeoutSeconds: configuration.peerTimeoutSeconds,
                                      graceSeconds: configuration.graceSeconds, firstWindowContaining: now)
        }
        return Runtime(definition: definition, scheduler: scheduler, state: state)
    }

    static func statePath(_ data: String, _ id: String) -> String { "\(data)/streams/\(id)/state.json" }
    var journal: EndedRoomJournal { EndedRoomJournal(directory: "\(configuration.dataDirectory)/rooms/ended") }
    static func overridesPath(_ data: String) -> String { "\(data)/streams/definitions.json" }
    func spoolDirectory(_ id: String) -> String { "\(configuration.dataDirectory)/streams/\(id)/spool" }

    public var statuses: [Status] {
        streams.withLock { runtimes in
            runtimes.map { runtime in
                Status(
                    definition: runtime.definition,
                    lastSealedWindow: runtime.state.lastSealedWindowEnd.map {
                        StreamWindow(start: $0 - Int64(runtime.definition.intervalMinutes) * 60_000, end: $0)
                    },
                    nextSealTime: runtime.scheduler.nextSealTime, files: runtime.state.files, lastError: runtime.lastError)
            }
        }
    }

    public func status(of id: String) -> Status? { statuses.first { $0.definition.id == id } }

    /// The spool path of a file, when it is still kept.
    public func spoolPath(stream id: String, file name: String) -> (path: String, file: SealedFile)? {
        streams.withLock { runtimes in
            guard let runtime = runtimes.first(where: { $0.definition.id == id }),
                  let file = runtime.state.files.first(where: { $0.spoolName == name }) else { return nil }
            return ("\(spoolDirectory(id))/\(name)", file)
        }
    }

    /// Makes a failed or pending file's next delivery attempt happen at the next tick.
    public func retryNow(stream id: String, file name: String) -> Bool {
        streams.withLock { runtimes in
            guard let index = runtimes.firstIndex(where: { $0.definition.id == id }),
                  runtimes[index].state.files.contains(where: { $0.spoolName == name && $0.state != .uploaded }) else { return false }
            runtimes[index].nextAttempt[name] = 0
            return true
        }
    }

    /// A delivery claimed under the lock and performed outside it.
    struct Delivery: Sendable {
        var stream: String
        var file: SealedFile
        var destination: StreamDestination
        var spoolPath: String
    }

    /// One round: seal what is due, deliver what is pending, prune, release rooms. Uploads run
    /// without the lock (they can take minutes), so status requests never wait for the network.
    public func tick(now: Double) {
        let work = streams.withLock { runtimes -> [Delivery] in
            // Rooms that ended since the last tick go to the journal first: from there they
            // survive a restart until every stream has sealed them.
            let ended = registry.takeNewlyEnded()
            if !runtimes.isEmpty {
                do {
                    try journal.record(ended, publicURL: configuration.publicURL)
                } catch {
                    onEvent("journal failed", ["rooms": "\(ended.count)", "error": "\(error)"])
                }
            }
            var work: [Delivery] = []
            for index in runtimes.indices {
                sealDue(&runtimes[index], now: now)
                work += claimDeliveries(&runtimes[index], now: now)
                prune(&runtimes[index], now: now)
            }
            // Rooms ending before every stream's next window are in every stream's files.
            if let oldestOpen = runtimes.map({ $0.scheduler.nextWindow.start }).min() {
                registry.releaseEndedRooms(endedBefore: Double(oldestOpen))
                journal.release(endedBefore: oldestOpen)
            }
            return work
        }
        guard !work.isEmpty else { return }
        let outcomes = work.map { delivery -> (Delivery, (any Error)?) in
            do {
                try deliver(delivery)
                return (delivery, nil)
            } catch {
                return (delivery, error)
            }
        }
        streams.withLock { runtimes in
            for (delivery, error) in outcomes {
                // The stream may have been changed or deleted while the upload ran.
                guard let index = runtimes.firstIndex(where: { $0.definition.id == delivery.stream }) else { continue }
                record(delivery, error: error, in: &runtimes[index], now: now)
            }
            for runtime in runtimes where outcomes.contains(where: { $0.0.stream == runtime.definition.id }) { save(runtime) }
        }
    }

    private func sealDue(_ runtime: inout Runtime, now: Double) {
        guard !runtime.definition.paused else { return }
        for window in runtime.scheduler.due(now: now, limit: 1000) {
            let rooms: [String]
            do {
                rooms = try journal.records(endingFrom: window.start, to: window.end)
            } catch {
                runtime.lastError = "read journal for \(window): \(error)"
                return
            }
            if rooms.isEmpty && !runtime.definition.writeEmpty {
                runtime.scheduler.sealed(window)
                runtime.state.lastSealedWindowEnd = window.end
                continue
            }
            do {
                let file = try Sealer.seal(records: rooms, window: window, definition: runtime.definition,
                                           spoolDirectory: spoolDirectory(runtime.definition.id), now: now)
                runtime.state.files.append(file)
                runtime.scheduler.sealed(window)
                runtime.state.lastSealedWindowEnd = window.end
                try runtime.state.save(to: Self.statePath(configuration.dataDirectory, runtime.definition.id))
                onEvent("sealed", ["stream": runtime.definition.id, "window": "\(window)", "rooms": "\(rooms.count)", "bytes": "\(file.bytes)"])
            } catch {
                // The window stays due: it is sealed again on the next tick, never skipped.
                runtime.lastError = "seal \(window): \(error)"
                onEvent("seal failed", ["stream": runtime.definition.id, "window": "\(window)", "error": "\(error)"])
                return
            }
        }
    }

    /// Marks the files due for an attempt as `uploading` and returns them.
    private func claimDeliveries(_ runtime: inout Runtime, now: Double) -> [Delivery] {
        var claimed: [Delivery] = []
        for index in runtime.state.files.indices where runtime.state.files[index].state != .uploaded {
            let name = runtime.state.files[index].spoolName
            guard now >= runtime.nextAttempt[name, default: 0] else { continue }
            runtime.state.files[index].attempts += 1
            runtime.state.files[index].state = .uploading
            claimed.append(Delivery(stream: runtime.definition.id, file: runtime.state.files[index], destination: runtime.definition.destination,
                                    spoolPath: "\(spoolDirectory(runtime.definition.id))/\(name)"))
        }
        return claimed
    }

    /// The upload itself: network or disk, no lock held.
    private func deliver(_ delivery: Delivery) throws {
        let file = delivery.file
        switch delivery.destination {
        case .directory(let path):
            try DirectoryStore(root: directories.resolve(path)).put(key: file.key, from: delivery.spoolPath)
        case .s3(let s3):
            guard let secret = s3.secretAccessKey ?? s3.secretAccessKeyEnv.flatMap({ ProcessInfo.processInfo.environment[$0] }) else {
                throw StreamError.unsupported("secret_access_key_env \(s3.secretAccessKeyEnv ?? "") is not set in the environment")
            }
            let client = S3Client(destination: s3, secret: secret)
            if file.bytes > configuration.multipartThresholdBytes {
                try client.putMultipart(key: file.key, path: delivery.spoolPath, partBytes: configuration.multipartPartBytes,
                                        contentEncoding: file.gzip ? "gzip" : nil)
            } else {
                guard let data = FileManager.default.contents(atPath: delivery.spoolPath) else {
                    throw StreamError.io(operation: "read", path: delivery.spoolPath, errno: ENOENT)
                }
                try client.put(key: file.key, body: Array(data), contentEncoding: file.gzip ? "gzip" : nil)
            }
        }
    }

    private func record(_ delivery: Delivery, error: (any Error)?, in runtime: inout Runtime, now: Double) {
        let name = delivery.file.spoolName
        guard let index = runtime.state.files.firstIndex(where: { $0.spoolName == name }) else { return }
        guard let error else {
            runtime.state.files[index].state = .uploaded
            runtime.state.files[index].uploadedAt = now
            runtime.state.files[index].lastError = nil
            runtime.nextAttempt[name] = nil
            // The stream's error clears once nothing is failing any more.
            if !runtime.state.files.contains(where: { $0.state == .retrying }) { runtime.lastError = nil }
            onEvent("delivered", ["stream": runtime.definition.id, "key": delivery.file.key])
            return
        }
        let attempts = runtime.state.files[index].attempts
        runtime.state.files[index].state = .retrying
        runtime.state.files[index].lastError = "\(error)"
        runtime.lastError = "deliver \(delivery.file.key): \(error)"
        var delay = configuration.backoff.delay(afterAttempts: attempts, unit: Double.random(in: 0..<1))
        // Wrong keys, bucket or endpoint will not fix themselves: retry, but slowly.
        if (error as? S3Error)?.isConfigurationError == true { delay = max(delay, configuration.configurationErrorRetrySeconds) }
        runtime.nextAttempt[name] = now + delay * 1000
        onEvent("delivery failed", ["stream": runtime.definition.id, "key": delivery.file.key, "attempts": "\(attempts)", "error": "\(error)"])
    }

    /// Delivered files are kept in the spool for the retention period (BI tools may fetch them
    /// here), then deleted; undelivered files are never deleted.
    private func prune(_ runtime: inout Runtime, now: Double) {
        let cutoff = now - configuration.retentionSeconds * 1000
        let expired = runtime.state.files.filter { $0.state == .uploaded && ($0.uploadedAt ?? now) < cutoff }
        guard !expired.isEmpty else { return }
        for file in expired { unlink("\(spoolDirectory(runtime.definition.id))/\(file.spoolName)") }
        runtime.state.files.removeAll { file in expired.contains { $0.spoolName == file.spoolName } }
        save(runtime)
    }

    private func save(_ runtime: Runtime) {
        do {
            try runtime.state.save(to: Self.statePath(configuration.dataDirectory, runtime.definition.id))
        } catch {
            onEvent("state save failed", ["stream": runtime.definition.id, "error": "\(error)"])
        }
    }
}

#if canImport(Glibc)
import Glibc
#endif
