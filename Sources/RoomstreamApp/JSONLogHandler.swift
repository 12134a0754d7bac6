#if canImport(Glibc)
import Glibc
#endif
import Logging
import RoomstreamCore
import RoomstreamHTTP
import RoomstreamBasics
import Synchronization

/// swift-log handler that writes one JSON object per line to stderr:
/// `{"ts":"2026-11-25T15:49:05.123Z","level":"info","msg":"listening","port":"8080"}`.
/// Each line goes out in one write(2) under a lock, so lines from different threads never interleave.
public struct JSONLogHandler: LogHandler {
    public var logLevel: Logger.Level
    public var metadata: Logger.Metadata = [:]
    public var metadataProvider: Logger.MetadataProvider?
    private let output: JSONLogOutput

    public init(level: Logger.Level = .info, output: JSONLogOutput = .standardError) {
        self.logLevel = level
        self.output = output
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let explicit = event.metadata { merged.merge(explicit) { $1 } }
        if let error = event.error { merged["error"] = .string("\(error)") }
        output.write(Self.format(timestampMilliseconds: Self.nowMilliseconds(), level: event.level, message: event.message.description, metadata: merged))
    }

    static func nowMilliseconds() -> Int {
        var spec = timespec()
        clock_gettime(CLOCK_REALTIME, &spec)
        return spec.tv_sec * 1000 + spec.tv_nsec / 1_000_000
    }

    /// One log line, newline-terminated. Keys are sorted so lines are stable to read and test.
    static func format(timestampMilliseconds: Int, level: Logger.Level, message: String, metadata: Logger.Metadata) -> String {
        var line = "{\"ts\":\"\(ISO8601Milliseconds.format(Double(timestampMilliseconds)))\",\"level\":\"\(level.rawValue)\",\"msg\":\(JSONString.quote(message))"
        for key in metadata.keys.sorted() where key != "ts" && key != "level" && key != "msg" {
            if let value = metadata[key] {
                line += ",\(JSONString.quote(key)):\(encode(value))"
            }
        }
        line += "}\n"
        return line
    }

    private static func encode(_ value: Logger.Metadata.Value) -> String {
        switch value {
        case .string(let string): JSONString.quote(string)
        case .stringConvertible(let convertible): JSONString.quote(convertible.description)
        case .array(let values): "[" + values.map(encode).joined(separator: ",") + "]"
        case .dictionary(let dictionary):
            "{" + dictionary.keys.sorted().map { "\(JSONString.quote($0)):\(encode(dictionary[$0]!))" }.joined(separator: ",") + "}"
        }
    }
}

/// Where log lines go: stderr in the service, a memory buffer in tests.
public final class JSONLogOutput: Sendable {
    private let fd: Int32
    /// nil when writing to `fd`; the lines so far when capturing.
    private let captured: Locked<[String]?>
    /// Serializes the writes, and counts the lines written (a zero-size `Locked(())` is
    /// reported as racing by ThreadSanitizer: see `Locked`).
    private let linesWritten = Locked(0)

    public static let standardError = JSONLogOutput(fd: 2)

    init(fd: Int32) {
        self.fd = fd
        self.captured = Locked(nil)
    }

    /// Keeps lines in memory instead of writing them.
    public init(capturing: ()) {
        self.fd = -1
        self.captured = Locked([])
    }

    public var capturedLines: [String] { captured.withLock { $0 } ?? [] }

    func write(_ line: String) {
        let wasCaptured = captured.withLock { lines -> Bool in
            guard lines != nil else { return false }
            lines?.append(line)
            return true
        }
        if wasCaptured { return }
        var bytes = Array(line.utf8)
        linesWritten.withLock { lines in
            lines += 1
            var offset = 0
            while offset < bytes.count {
                // SAFETY: write(2) reads from the array only during the call; it is not empty here.
                let written = bytes.withUnsafeMutableBytes { buffer in buffer.baseAddress.map { Glibc.write(fd, $0 + offset, buffer.count - offset) } ?? 0 }
                if written <= 0 { return }  // stderr gone: nothing sensible left to do with a log line
                offset += written
            }
        }
    }
}
