/// Where a stream's files go.
public enum StreamDestination: Sendable, Equatable {
    /// A local directory (the embedded default, used by `make run`).
    case directory(path: String)
    /// An S3-compatible bucket.
    case s3(S3Destination)
}

public struct S3Destination: Sendable, Equatable {
    public var endpoint: String
    public var region: String
    public var bucket: String
    public var prefix: String
    public var accessKeyID: String
    /// The secret itself, or nil when it comes from `secretAccessKeyEnv`.
    public var secretAccessKey: String?
    public var secretAccessKeyEnv: String?
    public var pathStyle: Bool

    public init(endpoint: String, region: String, bucket: String, prefix: String = "", accessKeyID: String,
                secretAccessKey: String? = nil, secretAccessKeyEnv: String? = nil, pathStyle: Bool = false) {
        self.endpoint = endpoint
        self.region = region
        self.bucket = bucket
        self.prefix = prefix
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.secretAccessKeyEnv = secretAccessKeyEnv
        self.pathStyle = pathStyle
    }
}

public enum StreamCompression: String, Sendable, Equatable {
    case none
    case gzip
}

/// One data stream: every `intervalMinutes`, the rooms that ended in the window become one
/// file at `keyTemplate` in `destination`.
public struct StreamDefinition: Sendable, Equatable {
    public static let defaultKeyTemplate = "{prefix}dt={date}/{stream}_{start}_{end}.json"

    public var id: String
    public var intervalMinutes: Int
    public var compression: StreamCompression
    public var writeEmpty: Bool
    public var keyTemplate: String
    public var destination: StreamDestination
    public var paused: Bool

    public init(id: String, intervalMinutes: Int = 60, compression: StreamCompression = .none, writeEmpty: Bool = true,
                keyTemplate: String = StreamDefinition.defaultKeyTemplate, destination: StreamDestination, paused: Bool = false) {
        self.id = id
        self.intervalMinutes = intervalMinutes
        self.compression = compression
        self.writeEmpty = writeEmpty
        self.keyTemplate = keyTemplate
        self.destination = destination
        self.paused = paused
    }

    /// The object key of a window's file: placeholders `{prefix}` (the S3 prefix, else empty),
    /// `{stream}`, `{date}` (window start, `2022-09-04`), `{start}` and `{end}`
    /// (`20220904T0000Z`). `.gz` is appended for gzip streams.
    public func key(for window: StreamWindow) -> String {
        var prefix = ""
        if case .s3(let s3) = destination { prefix = s3.prefix }
        let key = keyTemplate
            .replacingOccurrences(of: "{prefix}", with: prefix)
            .replacingOccurrences(of: "{stream}", with: id)
            .replacingOccurrences(of: "{date}", with: window.startDate)
            .replacingOccurrences(of: "{start}", with: StreamWindow.compact(window.start))
            .replacingOccurrences(of: "{end}", with: StreamWindow.compact(window.end))
        return compression == .gzip ? key + ".gz" : key
    }
}

/// A stream definition that failed validation, naming the field.
public struct StreamDefinitionError: Error, Equatable, Sendable, CustomStringConvertible {
    public var field: String
    public var problem: String
    public init(field: String, problem: String) {
        self.field = field
        self.problem = problem
    }
    public var description: String { "\(field): \(problem)" }
}

extension StreamDefinition {
    /// Checks every field; the first problem found is thrown.
    public func validate() throws(StreamDefinitionError) {
        guard !id.isEmpty, id.count <= 64, id.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F }) else {
            throw StreamDefinitionError(field: "id", problem: "must be 1-64 characters of a-z, 0-9, - and _")
        }
        guard (1...1440).contains(intervalMinutes) else {
            throw StreamDefinitionError(field: "interval_minutes", problem: "must be from 1 to 1440")
        }
        guard keyTemplate.contains("{start}") || keyTemplate.contains("{end}") else {
            throw StreamDefinitionError(field: "key_template", problem: "must contain {start} or {end} so every window gets its own key")
        }
        guard !keyTemplate.hasPrefix("/"), !keyTemplate.contains(".."), !keyTemplate.contains("//") || keyTemplate.hasPrefix("{prefix}") else {
            throw StreamDefinitionError(field: "key_template", problem: "must be a relative key without '..'")
        }
        // Keys are signed as sent: keep to characters every S3-compatible store treats alike.
        let keyCharacters = { (text: String) in text.utf8.allSatisfy { ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || "/=._-{}".utf8.contains($0) } }
        guard keyCharacters(keyTemplate) else {
            throw StreamDefinitionError(field: "key_template", problem: "may contain only A-Z a-z 0-9 / = . _ - and placeholders")
        }
        switch destination {
        case .directory(let path):
            guard !path.isEmpty else { throw StreamDefinitionError(field: "destination.path", problem: "must not be empty") }
        case .s3(let s3):
            guard s3.endpoint.hasPrefix("https://") || s3.endpoint.hasPrefix("http://") else {
                throw StreamDefinitionError(field: "destination.endpoint", problem: "must be an http:// or https:// URL")
            }
            guard !s3.region.isEmpty else { throw StreamDefinitionError(field: "destination.region", problem: "must not be empty") }
            guard (3...63).contains(s3.bucket.count), s3.bucket.utf8.allSatisfy({ ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x2E }) else {
                throw StreamDefinitionError(field: "destination.bucket", problem: "must be 3-63 characters of a-z, 0-9, - and .")
            }
            guard keyCharacters(s3.prefix), !s3.prefix.contains("{"), !s3.prefix.hasPrefix("/") else {
                throw StreamDefinitionError(field: "destination.prefix", problem: "may contain only A-Z a-z 0-9 / = . _ - and must not start with /")
            }
            guard !s3.accessKeyID.isEmpty else { throw StreamDefinitionError(field: "destination.access_key_id", problem: "must not be empty") }
            guard (s3.secretAccessKey != nil) != (s3.secretAccessKeyEnv != nil) else {
                throw StreamDefinitionError(field: "destination.secret_access_key", problem: "give exactly one of secret_access_key and secret_access_key_env")
            }
        }
    }
}
