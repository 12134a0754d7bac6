#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RoomstreamCore

/// Changing streams at run time (the admin API). Every change is persisted before it is
/// answered, in `data/streams/definitions.json`. Changes are serialized by `adminLock`, which
/// is held across the disk work (state files, the definitions file, the directory check); the
/// streams lock, which status requests and the seal timer take, is held only to read a
/// snapshot and to commit, never across I/O.
extension StreamsEngine {
    public enum AdminError: Error, Equatable, Sendable {
        case exists(String)
        case notFound(String)
        case invalid(StreamDefinitionError)
        case intervalChange
        case persistence(String)
        /// The destination check failed (`DestinationCheck`).
        case destination(DestinationCheck.Failure)
        /// The stream's destination changed while this change was being checked.
        case changedMeanwhile(String)
        /// An early seal is not possible now (why).
        case cannotSealNow(String)
    }

    /// Seals the stream's current window early, at the next tick: its file holds the rooms
    /// that ended from the window's start until the cut, and the rest of the window becomes the
    /// next file's window. The cut is now, rounded up to the second (a room that ended a moment
    /// ago is in the file), or earlier when a live room could still end before it: a room's end
    /// is the last activity of its peers, so the cut is at most the earliest last activity
    /// among live rooms, and no room can end behind it. The tick computes the cut again (live
    /// rooms first, then the journal), so a room live at that moment cannot be missed either.
    /// Returns the windows as they would be cut now.
    public func sealNow(_ id: String, now: Double) throws(AdminError) -> (sealing: StreamWindow, next: StreamWindow) {
        let requested = Int64((now / 1000).rounded(.up)) * 1000
        let predicted = Self.earlyCut(requested, earliestPossibleEnd: registry.earliestPossibleEnd())
        return try streams.withLock { runtimes throws(AdminError) -> (sealing: StreamWindow, next: StreamWindow) in
            guard let index = runtimes.firstIndex(where: { $0.definition.id == id }) else { throw .notFound(id) }
            guard !runtimes[index].definition.paused else { throw .cannotSealNow("stream \(id) is paused; resume it first") }
            let window = runtimes[index].scheduler.nextWindow
            guard runtimes[index].earlyCut == nil, runtimes[index].scheduler.earlySealTime == nil else {
                throw .cannotSealNow("an early seal of \(window) is already under way")
            }
            guard requested < window.end else {
                throw .cannotSealNow("window \(window) is ending; it is sealed at its watermark")
            }
            guard predicted > window.start else {
                throw .cannotSealNow("nothing to seal yet: the window started at \(ISO8601Milliseconds.format(Double(window.start))) and a live room may still end before \(ISO8601Milliseconds.format(Double(requested)))")
            }
            runtimes[index].earlyCut = requested
            let sealing = StreamWindow(start: window.start, end: predicted)
            return (sealing, SealScheduler.window(startingAt: predicted, intervalMinutes: runtimes[index].definition.intervalMinutes))
        }
    }

    static func earlyCut(_ requested: Int64, earliestPossibleEnd: Double?) -> Int64 {
        guard let earliest = earliestPossibleEnd else { return requested }
        return min(requested, Int64(earliest.rounded(.down)) / 1000 * 1000)
    }

    /// At the start of a tick: turns requested early seals into cut windows. `earliest` was
    /// read from the registry before the journal was updated (see `sealNow`).
    func applyEarlySeals(earliestPossibleEnd earliest: Double?, now: Double) {
        let dropped = streams.withLock { runtimes -> [String] in
            var dropped: [String] = []
            for index in runtimes.indices {
                guard let requested = runtimes[index].earlyCut else { continue }
                runtimes[index].earlyCut = nil
                let cut = Self.earlyCut(requested, earliestPossibleEnd: earliest)
                if runtimes[index].scheduler.sealEarly(at: cut, now: Int64(now.rounded(.down))) == nil { dropped.append(runtimes[index].definition.id) }
            }
            return dropped
        }
        for id in dropped { onEvent("early seal dropped: a live room may still end at the window's start", ["stream": id]) }
    }

    /// Before a definition is accepted: its S3 secret must be resolvable (always; no I/O), and,
    /// when `check` is set, the destination is tried (`DestinationCheck`, network or disk).
    /// Runs without any lock: a check may take seconds.
    func verify(_ definition: StreamDefinition, check: Bool) throws(AdminError) {
        if case .s3(let s3) = definition.destination {
            do { _ = try S3Credentials.resolve(s3, environment: environment()) } catch {
                throw .destination(DestinationCheck.Failure(kind: .definition, field: error.field, problem: error.problem))
            }
        }
        guard check else { return }
        if let failure = destinationCheck(definition.destination) { throw .destination(failure) }
    }

    /// Directory destinations set through the API must stay under the API root; an unchanged
    /// path (it may come from the config file) is left alone.
    private func checkAPIDirectory(_ definition: StreamDefinition, unlessSameAs current: StreamDefinition? = nil) throws(AdminError) {
        guard case .directory(let path) = definition.destination else { return }
        if let current, case .directory(let currentPath) = current.destination, currentPath == path { return }
        do { try directories.checkAPIPath(path) } catch { throw .invalid(error) }
    }

    private var definitions: [StreamDefinition] { streams.withLock { $0.map(\.definition) } }

    /// Configured streams (from the file) that the admin API deleted: they are not running.
    public func configuredStreamsDeletedByAPI(_ configured: [StreamDefinition]) -> [String] {
        let running = Set(definitions.map(\.id))
        return configured.map(\.id).filter { !running.contains($0) }
    }

    public func create(_ definition: StreamDefinition, now: Double, check: Bool = true) throws(AdminError) {
        do { try definition.validate() } catch { throw .invalid(error) }
        guard !definitions.contains(where: { $0.id == definition.id }) else { throw .exists(definition.id) }
        try checkAPIDirectory(definition)
        try verify(definition, check: check)
        try adminLock.withLock { changes throws(AdminError) in
            changes += 1
            let current = definitions
            guard !current.contains(where: { $0.id == definition.id }) else { throw .exists(definition.id) }
            let runtime: Runtime
            do { runtime = try Self.makeRuntime(definition, configuration: configuration, now: now) } catch { throw .persistence("\(error)") }
            try persist(current + [definition], deletedNow: nil)
            streams.withLock { $0.append(runtime) }
        }
        onEvent("stream created", ["stream": definition.id])
    }

    /// Applies `change` to a stream's definition. The interval cannot change: windows already
    /// sealed would not line up with the new ones (create another stream instead).
    public func update(_ id: String, check: Bool = true, _ change: (inout StreamDefinition) -> Void) throws(AdminError) {
        // The new destination is checked first, outside the admin lock (it may take seconds);
        // the change is then applied to the definition as it is by then.
        guard let snapshot = definitions.first(where: { $0.id == id }) else { throw .notFound(id) }
        var candidate = snapshot
        change(&candidate)
        candidate.id = id
        do throws(StreamDefinitionError) { try candidate.validate() } catch { throw .invalid(error) }
        let checked = candidate.destination
        if checked != snapshot.destination {
            try checkAPIDirectory(candidate, unlessSameAs: snapshot)
            try verify(candidate, check: check)
        }
        try adminLock.withLock { changes throws(AdminError) in
            changes += 1
            var current = definitions
            guard let index = current.firstIndex(where: { $0.id == id }) else { throw .notFound(id) }
            let before = current[index]
            var definition = before
            change(&definition)
            definition.id = id
            guard definition.intervalMinutes == before.intervalMinutes else { throw .intervalChange }
            do throws(StreamDefinitionError) { try definition.validate() } catch { throw .invalid(error) }
            try checkAPIDirectory(definition, unlessSameAs: before)
            if definition.destination != before.destination && definition.destination != checked { throw .changedMeanwhile(id) }
            current[index] = definition
            try persist(current, deletedNow: nil)
            streams.withLock { runtimes in
                guard let live = runtimes.firstIndex(where: { $0.definition.id == id }) else { return }
                runtimes[live].definition = definition
                // A changed destination gets an immediate attempt for everything not yet delivered.
                runtimes[live].nextAttempt = [:]
            }
        }
        onEvent("stream updated", ["stream": id])
    }

    /// Removes the stream. Its spool and state stay on disk (nothing sealed is deleted).
    public func delete(_ id: String) throws(AdminError) {
        try adminLock.withLock { changes throws(AdminError) in
            changes += 1
            let current = definitions
            guard current.contains(where: { $0.id == id }) else { throw .notFound(id) }
            try persist(current.filter { $0.id != id }, deletedNow: id)
            streams.withLock { $0.removeAll { $0.definition.id == id } }
        }
        onEvent("stream deleted", ["stream": id])
    }

    private func persist(_ definitions: [StreamDefinition], deletedNow: String?) throws(AdminError) {
        let path = Self.overridesPath(configuration.dataDirectory)
        do {
            var overrides = try StreamOverrides.load(from: path) ?? StreamOverrides()
            overrides.streams = definitions
            if let deletedNow, !overrides.deleted.contains(deletedNow) { overrides.deleted.append(deletedNow) }
            let live = Set(definitions.map(\.id))
            overrides.deleted.removeAll { live.contains($0) }
            try overrides.save(to: path, mode: 0o600)  // it holds S3 secrets
        } catch {
            throw .persistence("\(error)")
        }
    }
}
