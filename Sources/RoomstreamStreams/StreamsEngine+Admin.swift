import Foundation

/// Changing streams at run time (the admin API). Every change is persisted before it is
/// answered, in `data/streams/definitions.json`.
extension StreamsEngine {
    public enum AdminError: Error, Equatable, Sendable {
        case exists(String)
        case notFound(String)
        case invalid(StreamDefinitionError)
        case intervalChange
        case persistence(String)
    }

    public func create(_ definition: StreamDefinition, now: Double) throws(AdminError) {
        do { try definition.validate() } catch { throw .invalid(error) }
        try streams.withLock { runtimes throws(AdminError) in
            guard !runtimes.contains(where: { $0.definition.id == definition.id }) else { throw .exists(definition.id) }
            let runtime: Runtime
            do { runtime = try Self.makeRuntime(definition, configuration: configuration, now: now) } catch { throw .persistence("\(error)") }
            var next = runtimes
            next.append(runtime)
            try persist(next, deletedNow: nil)
            runtimes = next
        }
        onEvent("stream created", ["stream": definition.id])
    }

    /// Applies `change` to a stream's definition. The interval cannot change: windows already
    /// sealed would not line up with the new ones (create another stream instead).
    public func update(_ id: String, _ change: (inout StreamDefinition) -> Void) throws(AdminError) {
        try streams.withLock { runtimes throws(AdminError) in
            guard let index = runtimes.firstIndex(where: { $0.definition.id == id }) else { throw .notFound(id) }
            var definition = runtimes[index].definition
            change(&definition)
            definition.id = id
            guard definition.intervalMinutes == runtimes[index].definition.intervalMinutes else { throw .intervalChange }
            do throws(StreamDefinitionError) { try definition.validate() } catch { throw .invalid(error) }
            var next = runtimes
            next[index].definition = definition
            // A changed destination gets an immediate attempt for everything not yet delivered.
            next[index].nextAttempt = [:]
            try persist(next, deletedNow: nil)
            runtimes = next
        }
        onEvent("stream updated", ["stream": id])
    }

    /// Removes the stream. Its spool and state stay on disk (nothing sealed is deleted).
    public func delete(_ id: String) throws(AdminError) {
        try streams.withLock { runtimes throws(AdminError) in
            guard runtimes.contains(where: { $0.definition.id == id }) else { throw .notFound(id) }
            let next = runtimes.filter { $0.definition.id != id }
            try persist(next, deletedNow: id)
            runtimes = next
        }
        onEvent("stream deleted", ["stream": id])
    }

    private func persist(_ runtimes: [Runtime], deletedNow: String?) throws(AdminError) {
        let path = Self.overridesPath(configuration.dataDirectory)
        do {
            var overrides = try StreamOverrides.load(from: path) ?? StreamOverrides()
            overrides.streams = runtimes.map { StoredDefinition($0.definition) }
            if let deletedNow, !overrides.deleted.contains(deletedNow) { overrides.deleted.append(deletedNow) }
            let live = Set(runtimes.map(\.definition.id))
            overrides.deleted.removeAll { live.contains($0) }
            try overrides.save(to: path, mode: 0o600)  // it holds S3 secrets
        } catch {
            throw .persistence("\(error)")
        }
    }
}
