#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Delivery: claiming files (under the lock), uploading them (outside it), recording the
/// outcome, pruning and saving state.
extension StreamsEngine {
    /// Marks the files due for an attempt as `uploading` and returns them.
    func claimDeliveries(_ runtime: inout Runtime, now: Double) -> [Delivery] {
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
    func deliver(_ delivery: Delivery) throws {
        let file = delivery.file
        switch delivery.destination {
        case .directory(let path):
            try DirectoryStore(root: directories.resolve(path)).put(key: file.key, from: delivery.spoolPath)
        case .s3(let s3):
            let credentials: S3Credentials
            do { credentials = try S3Credentials.resolve(s3, environment: environment()) } catch {
                throw StreamError.unsupported("\(error)")
            }
            let client = S3Client(destination: s3, credentials: credentials)
            if file.bytes > configuration.multipartThresholdBytes {
                try client.putMultipart(key: file.key, path: delivery.spoolPath, partBytes: configuration.multipartPartBytes,
                                        contentType: SealedFile.contentType(gzip: file.gzip))
            } else {
                guard let data = FileManager.default.contents(atPath: delivery.spoolPath) else {
                    throw StreamError.io(operation: "read", path: delivery.spoolPath, errno: ENOENT)
                }
                try client.put(key: file.key, body: Array(data), contentType: SealedFile.contentType(gzip: file.gzip))
            }
        }
    }

    func record(_ delivery: Delivery, error: (any Error)?, in runtime: inout Runtime, now: Double) {
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
    /// here), then deleted; undelivered files are never deleted. Takes the expired ones out of
    /// the state and returns their spool names (the caller unlinks them, outside the lock).
    func takeExpired(_ runtime: inout Runtime, now: Double) -> [String] {
        let cutoff = now - configuration.retentionSeconds * 1000
        let expired = runtime.state.files.filter { $0.state == .uploaded && ($0.uploadedAt ?? now) < cutoff }.map(\.spoolName)
        guard !expired.isEmpty else { return [] }
        runtime.state.files.removeAll { expired.contains($0.spoolName) }
        return expired
    }

    /// Saves a stream's state durably (called without the lock; only the tick's queue saves).
    func save(_ id: String, _ state: StreamState) {
        do {
            try state.save(to: Self.statePath(configuration.dataDirectory, id))
        } catch {
            streams.withLock { runtimes in
                if let index = runtimes.firstIndex(where: { $0.definition.id == id }) { runtimes[index].lastError = "save state: \(error)" }
            }
            onEvent("state save failed", ["stream": id, "error": "\(error)"])
        }
    }
}
