import Foundation
import RoomstreamBasics
import RoomstreamCore

/// The live state on disk (`<data>/rooms/live.checkpoint.json`): every live room with its
/// accumulators, the ended rooms still held, the rooms not yet journaled. Written whole with
/// temp file, fsync, rename and directory fsync, so after a crash it is either the previous
/// checkpoint or the new one, never a torn mix. A graceful stop writes one last checkpoint and
/// the next start continues from it: the same room instances, one record per room however
/// often the service restarts. What arrives between checkpoints is in the write-ahead log,
/// replayed after the checkpoint's `log_position` at start-up.
public final class RegistryCheckpoint: Sendable {
    public let path: String
    /// Serializes writers (the checkpoint timer, the seal, the stop) and counts their writes;
    /// never taken by requests. (Not a zero-size `Locked(())`: see `Locked`.)
    private let writes = Locked(0)
    private let lastError = Locked<String?>(nil)

    public init(dataDirectory: String) { path = "\(dataDirectory)/rooms/live.checkpoint.json" }

    struct Document: Codable {
        var version: Int
        var savedAt: Double
        var registry: RegistrySnapshot
        enum CodingKeys: String, CodingKey { case version, savedAt = "saved_at", registry }
    }

    static let version = 1

    /// The checkpoint, or nil when there is none. Throws when it exists but cannot be read:
    /// starting empty would silently drop every live room.
    public func load() throws(StreamError) -> RegistrySnapshot? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        let decoder = JSONDecoder()
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
        do {
            let document = try decoder.decode(Document.self, from: data)
            guard document.version == Self.version else {
                throw StreamError.unsupported("\(path): checkpoint version \(document.version), this build reads \(Self.version)")
            }
            return document.registry
        } catch let error as StreamError {
            throw error
        } catch {
            throw .unsupported("\(path) cannot be read (\(error)); move it aside to start without the live rooms it holds")
        }
    }

    /// Snapshots the registry (its lock held only to copy the state) and writes it durably.
    /// Returns the last write-ahead-log record the checkpoint includes.
    @discardableResult
    public func write(_ registry: RoomRegistry, now: Double) throws(StreamError) -> UInt64? {
        try writes.withLock { writes throws(StreamError) -> UInt64? in
            writes += 1
            let document = Document(version: Self.version, savedAt: now, registry: registry.snapshot())
            let encoder = JSONEncoder()
            encoder.nonConformingFloatEncodingStrategy = .convertToString(positiveInfinity: "inf", negativeInfinity: "-inf", nan: "nan")
            let data: Data
            do { data = try encoder.encode(document) } catch { throw .unsupported("encode checkpoint: \(error)") }
            try DurableFile.makeDirectories(String(path[..<(path.lastIndex(of: "/") ?? path.endIndex)]))
            let file = try DurableFile(path: path, mode: 0o600)
            try file.write(data)
            try file.commit()
            return document.registry.logPosition
        }
    }

    /// Writes a checkpoint; a failure is kept for `lastFailure` instead of thrown. With a
    /// write-ahead log, a new segment is started first and the segments the checkpoint covers
    /// are deleted after it.
    @discardableResult
    public func tryWrite(_ registry: RoomRegistry, log: WriteAheadLog? = nil, now: Double) -> Result<UInt64?, StreamError> {
        log?.roll()
        do {
            let position = try write(registry, now: now)
            lastError.withLock { $0 = nil }
            if let log, let position { log.checkpointed(through: position) }
            return .success(position)
        } catch {
            lastError.withLock { $0 = "\(error)" }
            return .failure(error)
        }
    }

    public var lastFailure: String? { lastError.withLock { $0 } }
}
