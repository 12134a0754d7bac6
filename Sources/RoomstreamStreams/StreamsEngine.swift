#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RoomstreamBasics
import RoomstreamCore

/// Runs every configured stream: seals due windows from the ended-room journal, delivers the
/// files, retries failures with backoff, persists state, prunes delivered files after the
/// retention period, and releases rooms every stream has sealed. `tick(now:)` does one round;
/// the app calls it from a Dispatch timer. Rounds never overlap: `tickLock` serializes them, so
/// an extra caller (a test, a future "seal now") cannot seal a window while another round holds
/// rooms it has taken from the registry but not yet journaled.
///
/// Locking: the streams lock guards only in-memory state and is never held across disk or
/// network I/O. A tick takes a snapshot of what is due under the lock, journals, seals,
/// uploads and saves outside it, and commits each result under the lock again; status and
/// admin requests therefore never wait for a disk or a store.
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
        /// How long a paused stream holds its windows unsealed (the journal keeps their rooms).
        /// Windows that ended longer ago are sealed into the stream's spool anyway, where they
        /// wait, undelivered, for the resume: the journal and the ended rooms held in memory
        /// stay bounded, and nothing is lost.
        public var maxPausedSeconds: Double = 24 * 3600
        /// This service's `instance_id`, for `{instance}` in key templates.
        public var instanceID = ""
        /// Where secrets' variables are read (the process environment; tests pass their own).
        public var environment: @Sendable () -> [String: String] = { ProcessInfo.processInfo.environment }
        /// How a destination is tried before the admin API accepts it (tests may replace it).
        public var destinationCheck: (@Sendable (StreamDestination, DirectoryConfinement, [String: String]) -> DestinationCheck.Failure?)?

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
        public var files: [SealedFile]
        /// The journal's error while the journal is failing, else the stream's own.
        public var lastError: String?
        /// When windows come due (for the backlog at a given time).
        public var scheduler: SealScheduler
        /// Rooms in the journal waiting for this stream (ended at or after its next window).
        public var pendingRooms: Int

        /// When the next window is due to be sealed (epoch ms).
        public var nextSealTime: Int64 { scheduler.nextSealTime }

        /// Windows whose seal time has passed at `now` but which are not sealed yet.
        public func dueWindows(now: Double) -> Int { scheduler.due(now: now, limit: 100_000).count }
    }

    struct Runtime: Sendable {
        var definition: StreamDefinition
        var scheduler: SealScheduler
        var state: StreamState
        var nextAttempt: [String: Double] = [:]
        var lastError: String?
        /// `POST …/seal` asked for an early seal up to this cut (applied at the next tick).
        var earlyCut: Int64?
    }

    /// The journal as the engine knows it: its entries, sorted (nil until listed successfully),
    /// and the last failure to list or write it.
    struct JournalState: Sendable {
        var entries: [EndedRoomJournal.Entry]?
        var lastError: String?
    }

    public let configuration: Configuration
    public let directories: DirectoryConfinement
    let registry: RoomRegistry
    let streams: Locked<[Runtime]>
    /// Serializes admin changes and counts them (held across their disk work; see
    /// StreamsEngine+Admin). Not a `Locked(())`: see `tickLock`.
    let adminLock = Locked<UInt64>(0)
    /// Serializes whole rounds, and counts them (held across their disk and network work, like
    /// `adminLock`; only rounds take it, so status and admin requests never wait on it). Two
    /// overlapping rounds lost rooms: one took the newly ended rooms and was still journaling
    /// them when the other sealed their window from the journal without them. (Not a
    /// `Locked(())`: ThreadSanitizer reports the accesses to a zero-size value as races.)
    let tickLock = Locked<UInt64>(0)
    let journalState = Locked(JournalState())
    let onEvent: @Sendable (String, [String: String]) -> Void
    /// Typed outcomes for metrics (the service counts seals and uploads).
    let onMeasurement: @Sendable (StreamsMeasurement) -> Void
    /// Called before windows are sealed (the service writes a checkpoint of the live state, so
    /// a crash after the seal cannot bring back as live a room the file already holds); false
    /// postpones the seal to the next tick.
    let beforeSeal: (@Sendable () -> Bool)?

    /// Loads each stream's state; a stream without state starts with the window containing `now`.
    public init(definitions: [StreamDefinition], registry: RoomRegistry, configuration: Configuration, now: Double,
                beforeSeal: (@Sendable () -> Bool)? = nil,
                onMeasurement: @escaping @Sendable (StreamsMeasurement) -> Void = { _ in },
                onEvent: @escaping @Sendable (String, [String: String]) -> Void = { _, _ in }) throws {
        self.configuration = configuration
        self.onMeasurement = onMeasurement
        self.beforeSeal = beforeSeal
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
        let path = statePath(configuration.dataDirectory, definition.id)
        var state = try StreamState.load(from: path) ?? StreamState()
        if state.lastSealedWindowEnd == nil && state.firstWindowStart == nil {
            state.firstWindowStart = StreamWindow.containing(now, intervalMinutes: definition.intervalMinutes).start
            try state.save(to: path)
        }
        let scheduler: SealScheduler
        if let end = state.lastSealedWindowEnd {
            scheduler = SealScheduler(intervalMinutes: definition.intervalMinutes, peerTimeoutSeconds: configuration.peerTimeoutSeconds,
                                      graceSeconds: configuration.graceSeconds, resumingAt: end)
        } else {
            scheduler = SealScheduler(intervalMinutes: definition.intervalMinutes, peerTimeoutSeconds: configuration.peerTimeoutSeconds,
                                      graceSeconds: configuration.graceSeconds, firstWindowContaining: state.firstWindowStart.map { Double($0) } ?? now)
        }
        return Runtime(definition: definition, scheduler: scheduler, state: state)
    }

    func environment() -> [String: String] { configuration.environment() }

    func destinationCheck(_ destination: StreamDestination) -> DestinationCheck.Failure? {
        let environment = environment()
        if let check = configuration.destinationCheck { return check(destination, directories, environment) }
        return DestinationCheck.run(destination, directories: directories, environment: environment)
    }

    static func statePath(_ data: String, _ id: String) -> String { "\(data)/streams/\(id)/state.json" }
    var journal: EndedRoomJournal { EndedRoomJournal(directory: "\(configuration.dataDirectory)/rooms/ended") }
    static func overridesPath(_ data: String) -> String { "\(data)/streams/definitions.json" }
    func spoolDirectory(_ id: String) -> String { "\(configuration.dataDirectory)/streams/\(id)/spool" }

    public var statuses: [Status] {
        let (entries, journalError) = journalState.withLock { ($0.entries ?? [], $0.lastError) }
        return streams.withLock { runtimes in
            runtimes.map { runtime in
                Status(
                    definition: runtime.definition,
                    lastSealedWindow: runtime.state.lastSealedWindowEnd.map {
                        StreamWindow(start: runtime.state.lastSealedWindowStart ?? $0 - Int64(runtime.definition.intervalMinutes) * 60_000, end: $0)
                    },
                    files: runtime.state.files,
                    lastError: journalError ?? runtime.lastError, scheduler: runtime.scheduler,
                    pendingRooms: entries.count - Self.firstIndex(in: entries, endingAtOrAfter: runtime.scheduler.nextWindow.start))
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

    /// Every file still in a spool (any state), with its path: what `room_url` can be served from.
    public func retainedFiles() -> [(path: String, file: SealedFile)] {
        streams.withLock { runtimes in
            runtimes.flatMap { runtime in runtime.state.files.map { ("\(spoolDirectory(runtime.definition.id))/\($0.spoolName)", $0) } }
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

    /// Windows of one stream to seal this tick, taken under the lock and sealed outside it.
    struct SealJob: Sendable {
        var definition: StreamDefinition
        var windows: [StreamWindow]
    }

    /// One round: journal what ended, seal what is due, deliver what is pending, prune,
    /// release rooms. Every step's I/O runs without the streams lock.
    public func tick(now: Double) {
        tickLock.withLock { rounds in
            rounds += 1
            round(now: now)
        }
    }

    private func round(now: Double) {
        let hasStreams = streams.withLock { !$0.isEmpty }
        // Without streams nothing needs the ended rooms journaled (they stay for the queries).
        if !hasStreams { _ = registry.takeNewlyEnded() }
        // Early seals: the live rooms' earliest possible end is read before the journal is
        // updated, so every room either ended before (journaled now) or ends at or after it.
        if streams.withLock({ $0.contains { $0.earlyCut != nil } }) {
            applyEarlySeals(earliestPossibleEnd: registry.earliestPossibleEnd(), now: now)
        }
        let entries = hasStreams ? updateJournal() : nil

        // 1. Seal: what is due, snapshotted under the lock; the files written outside it.
        //    Nothing is sealed while the journal cannot be listed: it must not look empty.
        if let entries {
            let pausedLimit = now - configuration.maxPausedSeconds * 1000
            let jobs = streams.withLock { runtimes in
                runtimes.compactMap { runtime -> SealJob? in
                    var windows = runtime.scheduler.due(now: now, limit: 1000)
                    // A paused stream holds its windows, up to the bound.
                    if runtime.definition.paused { windows = windows.prefix { Double($0.end) < pausedLimit }.map { $0 } }
                    return windows.isEmpty ? nil : SealJob(definition: runtime.definition, windows: windows)
                }
            }
            if !jobs.isEmpty, beforeSeal?() ?? true {
                for job in jobs { seal(job, entries: entries, now: now) }
            }
        }

        // 2. Deliver: files claimed (marked uploading) under the lock, uploaded outside it. A
        //    paused stream delivers nothing; delivered files past retention leave the state.
        var expired: [(stream: String, names: [String])] = []
        let work = streams.withLock { runtimes -> [Delivery] in
            var work: [Delivery] = []
            for index in runtimes.indices {
                if !runtimes[index].definition.paused { work += claimDeliveries(&runtimes[index], now: now) }
                let names = takeExpired(&runtimes[index], now: now)
                if !names.isEmpty { expired.append((runtimes[index].definition.id, names)) }
            }
            return work
        }
        let outcomes = work.map { delivery -> (Delivery, (any Error)?) in
            let started = ContinuousClock.now
            do {
                try deliver(delivery)
                onMeasurement(.delivered(stream: delivery.stream, seconds: (ContinuousClock.now - started).seconds, bytes: delivery.file.bytes))
                return (delivery, nil)
            } catch {
                onMeasurement(.deliveryFailed(stream: delivery.stream))
                return (delivery, error)
            }
        }
        let changed = Set(outcomes.map(\.0.stream)).union(expired.map(\.stream))
        let toSave = streams.withLock { runtimes -> [(String, StreamState)] in
            for (delivery, error) in outcomes {
                // The stream may have been changed or deleted while the upload ran.
                guard let index = runtimes.firstIndex(where: { $0.definition.id == delivery.stream }) else { continue }
                record(delivery, error: error, in: &runtimes[index], now: now)
            }
            return runtimes.filter { changed.contains($0.definition.id) }.map { ($0.definition.id, $0.state) }
        }
        // 3. Prune the expired files (already out of the state) and save what changed.
        for (stream, names) in expired {
            for name in names { unlink("\(spoolDirectory(stream))/\(name)") }
        }
        for (id, state) in toSave { save(id, state) }

        // 4. Release: rooms ending before every stream's next window are in every stream's files.
        guard entries != nil, let oldestOpen = streams.withLock({ $0.map { $0.scheduler.nextWindow.start }.min() }) else { return }
        registry.releaseEndedRooms(endedBefore: Double(oldestOpen))
        let released = journalState.withLock { state -> [EndedRoomJournal.Entry] in
            guard let entries = state.entries else { return [] }
            let cut = Self.firstIndex(in: entries, endingAtOrAfter: oldestOpen)
            state.entries = Array(entries[cut...])
            return Array(entries[..<cut])
        }
        let failed = journal.remove(released)
        if failed > 0 { onEvent("journal release failed", ["files": "\(failed)"]) }
    }

    /// Seals a job's windows in order, each from the journal one room at a time, committing
    /// each file under the lock as soon as it is durable.
    private func seal(_ job: SealJob, entries: [EndedRoomJournal.Entry], now: Double) {
        let id = job.definition.id
        let journal = self.journal
        for window in job.windows {
            let rooms = Array(entries[Self.firstIndex(in: entries, endingAtOrAfter: window.start)..<Self.firstIndex(in: entries, endingAtOrAfter: window.end)])
            var file: SealedFile?
            let started = ContinuousClock.now
            if !rooms.isEmpty || job.definition.writeEmpty {
                do {
                    file = try Sealer.seal(recordCount: rooms.count, record: { index throws(StreamError) in try journal.read(rooms[index]) },
                                           window: window, definition: job.definition, spoolDirectory: spoolDirectory(id), now: now,
                                           instance: configuration.instanceID)
                } catch {
                    // The window stays due: it is sealed again on the next tick, never skipped.
                    streams.withLock { runtimes in
                        if let index = runtimes.firstIndex(where: { $0.definition.id == id }) { runtimes[index].lastError = "seal \(window): \(error)" }
                    }
                    onEvent("seal failed", ["stream": id, "window": "\(window)", "error": "\(error)"])
                    onMeasurement(.sealFailed(stream: id))
                    return
                }
            }
            let state = streams.withLock { runtimes -> StreamState? in
                guard let index = runtimes.firstIndex(where: { $0.definition.id == id }),
                      runtimes[index].scheduler.sealed(window) else { return nil }  // deleted meanwhile
                if let file { runtimes[index].state.files.append(file) }
                runtimes[index].state.lastSealedWindowEnd = window.end
                runtimes[index].state.lastSealedWindowStart = window.start
                return runtimes[index].state
            }
            guard let state else { return }
            save(id, state)
            onMeasurement(.sealed(stream: id, seconds: (ContinuousClock.now - started).seconds, rooms: file?.rooms ?? 0, bytes: file?.bytes ?? 0))
            if let file { onEvent("sealed", ["stream": id, "window": "\(window)", "rooms": "\(file.rooms)", "bytes": "\(file.bytes)"]) }
        }
    }
}

/// What the engine measures, for the service's metrics.
public enum StreamsMeasurement: Sendable, Equatable {
    /// A window sealed (a file written, or none for an empty window without `write_empty`).
    case sealed(stream: String, seconds: Double, rooms: Int, bytes: Int)
    case sealFailed(stream: String)
    case delivered(stream: String, seconds: Double, bytes: Int)
    case deliveryFailed(stream: String)
}

