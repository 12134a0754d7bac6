#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// What a stream remembers across restarts (`<data>/streams/<id>/state.json`, written durably).
public struct StreamState: DurableJSONDocument, Equatable {
    /// End of the last sealed window (epoch ms); nil before the first seal.
    public var lastSealedWindowEnd: Int64?
    /// Its start (nil in states written before early seals: then it is end − interval).
    public var lastSealedWindowStart: Int64?
    /// Start of the stream's first window (epoch ms), fixed durably when the stream is created:
    /// a restart before the first seal resumes there instead of at the window containing the
    /// restart, which would skip the windows in between and the rooms journaled for them.
    public var firstWindowStart: Int64?
    /// Files not yet pruned, oldest first.
    public var files: [SealedFile] = []

    public init() {}

    enum CodingKeys: String, CodingKey {
        case lastSealedWindowEnd = "last_sealed_window_end"
        case lastSealedWindowStart = "last_sealed_window_start"
        case firstWindowStart = "first_window_start"
        case files
    }
}

/// A small JSON document kept in the data directory: loaded whole, saved durably (temporary
/// file, fsync, rename, directory fsync) with the given file mode.
public protocol DurableJSONDocument: Codable, Sendable {}

extension DurableJSONDocument {
    /// nil when the file does not exist; throws when it exists but cannot be decoded.
    public static func load(from path: String) throws -> Self? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try JSONDecoder().decode(Self.self, from: data)
    }

    public func save(to path: String, mode: mode_t = 0o644) throws {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        try DurableFile.makeDirectories(path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/"))
        let file = try DurableFile(path: path, mode: mode)
        try file.write(Array(try encoder.encode(self)))
        try file.commit()
    }
}

/// Retry delays: exponential from 1 s, capped (5 min by default), with ±20 % jitter so many
/// files failing together do not retry in lockstep.
public struct Backoff: Sendable, Equatable {
    public var base: Double = 1
    public var cap: Double = 300

    public init(base: Double = 1, cap: Double = 300) {
        self.base = base
        self.cap = cap
    }

    /// Seconds to wait after `attempts` failed attempts; `unit` in [0, 1) supplies the jitter.
    public func delay(afterAttempts attempts: Int, unit: Double) -> Double {
        let exponential = min(cap, base * pow(2, Double(max(0, attempts - 1))))
        return exponential * (0.8 + 0.4 * unit)
    }
}
