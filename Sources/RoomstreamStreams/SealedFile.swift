import Foundation

/// A window's file and where it is in its delivery (persisted; see `StreamState`).
public struct SealedFile: Codable, Sendable, Equatable {
    public enum State: String, Codable, Sendable, CaseIterable {
        case sealed, uploading, uploaded, retrying
    }

    public var stream: String
    /// Window start and end, epoch ms.
    public var windowStart: Int64
    public var windowEnd: Int64
    /// Object key in the destination.
    public var key: String
    /// File name in the stream's spool directory.
    public var spoolName: String
    public var rooms: Int
    public var bytes: Int
    /// Hex SHA-256 of the file's bytes as stored (compressed when gzip).
    public var sha256: String
    public var gzip: Bool
    public var state: State
    public var attempts: Int
    public var lastError: String?
    public var sealedAt: Double
    public var uploadedAt: Double?

    public var window: StreamWindow { StreamWindow(start: windowStart, end: windowEnd) }

    /// How a file travels (S3 objects, downloads): a gzip file is `application/gzip` and has no
    /// `Content-Encoding`. With `Content-Encoding: gzip`, HTTP clients (browsers, Python
    /// requests, curl --compressed) inflate it on the fly, so what they save under its `.json.gz`
    /// name is no longer gzip and readers such as DuckDB refuse it; as a file, what a client
    /// saves is byte for byte what the store holds (RFC 9110 §8.4: content coding belongs to
    /// the representation, and these objects *are* gzip files).
    public static func contentType(gzip: Bool) -> String { gzip ? "application/gzip" : "application/json" }

    enum CodingKeys: String, CodingKey {
        case stream, key, rooms, bytes, sha256, gzip, state, attempts
        case windowStart = "window_start", windowEnd = "window_end", spoolName = "spool_name"
        case lastError = "last_error", sealedAt = "sealed_at", uploadedAt = "uploaded_at"
    }
}
