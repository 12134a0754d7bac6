import Foundation

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
///
/// This is the one wire type of a stream definition: the config file's `streams[]`, the admin
/// API's bodies and answers, and `data/streams/definitions.json` all read and write it through
/// `Codable` (snake_case keys; see `docs/data-streams.md`). Decoding validates every field and
/// rejects unknown keys, naming the field (`destination.bucket: must be …`).
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
    /// (`20220904T0000Z`), `{instance}` (the service's `instance_id`: instances sharing a
    /// destination each write their own part of a window). `.gz` is appended for gzip streams.
    public func key(for window: StreamWindow, instance: String = "") -> String {
        var prefix = ""
        if case .s3(let s3) = destination { prefix = s3.prefix }
        let key = keyTemplate
            .replacingOccurrences(of: "{prefix}", with: prefix)
            .replacingOccurrences(of: "{stream}", with: id)
            .replacingOccurrences(of: "{date}", with: window.startDate)
            .replacingOccurrences(of: "{start}", with: StreamWindow.compact(window.start))
            .replacingOccurrences(of: "{end}", with: StreamWindow.compact(window.end))
            .replacingOccurrences(of: "{instance}", with: instance)
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
        try KeyRules.checkTemplate(keyTemplate, field: "key_template")
        // The longest key this template makes (the prefix included) must fit S3's 1,024 bytes.
        let longest = key(for: StreamWindow(start: 0, end: 0)).utf8.count + 64 - id.utf8.count
        guard longest <= KeyRules.maxKeyBytes else {
            throw StreamDefinitionError(field: "key_template", problem: "makes keys of up to \(longest) bytes with the prefix; S3 allows \(KeyRules.maxKeyBytes)")
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
            try KeyRules.checkPrefix(s3.prefix, field: "destination.prefix")
            // Neither key nor secret: the standard AWS variables at upload time (S3Credentials).
            if s3.usesEnvironmentCredentials { return }
            guard !s3.accessKeyID.isEmpty else {
                throw StreamDefinitionError(field: "destination.access_key_id", problem: "must not be empty (or leave out the key and the secret to use AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY)")
            }
            guard (s3.secretAccessKey != nil) != (s3.secretAccessKeyEnv != nil) else {
                throw StreamDefinitionError(field: "destination.secret_access_key", problem: "give exactly one of secret_access_key and secret_access_key_env")
            }
            guard s3.secretAccessKey != "***" else {
                throw StreamDefinitionError(field: "destination.secret_access_key", problem: "\"***\" is how answers hide the secret: send the secret itself, or leave the field out to keep it")
            }
        }
    }
}

/// What object keys (and so key templates and prefixes) may hold. Keys are UTF-8; the S3 client
/// sends each byte outside `A-Z a-z 0-9 - . _ ~ /` as `%XX` exactly once (AWS `UriEncode`), so
/// `=`, `:`, `+`, spaces, `%` and non-ASCII are safe on every S3-compatible store. Refused:
/// control characters (S3 and file systems treat them differently), a leading `/`, empty,
/// `.` and `..` segments (the directory store maps keys to paths: a key must not climb out of
/// its root, and `a//b` would name the same file as `a/b`), and keys over 1,024 bytes.
public enum KeyRules {
    public static let maxKeyBytes = 1024
    public static let placeholders = ["{prefix}", "{stream}", "{date}", "{start}", "{end}", "{instance}"]

    static func checkText(_ text: String, field: String) throws(StreamDefinitionError) {
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || (0x7F...0x9F).contains($0.value) }) else {
            throw StreamDefinitionError(field: field, problem: "must not contain control characters")
        }
        guard !text.hasPrefix("/") else { throw StreamDefinitionError(field: field, problem: "must be relative (no leading /)") }
        let segments = text.split(separator: "/", omittingEmptySubsequences: false)
        for (index, segment) in segments.enumerated() {
            // A trailing "/" (a prefix such as "exports/") leaves one empty last segment.
            if segment.isEmpty && index == segments.count - 1 && index > 0 { continue }
            guard !segment.isEmpty, segment != ".", segment != ".." else {
                throw StreamDefinitionError(field: field, problem: "must not contain empty, '.' or '..' path segments")
            }
        }
    }

    /// A key template: placeholders are the only braces; the rendered key follows the rules.
    public static func checkTemplate(_ template: String, field: String) throws(StreamDefinitionError) {
        guard template.contains("{start}") || template.contains("{end}") else {
            throw StreamDefinitionError(field: field, problem: "must contain {start} or {end} so every window gets its own key")
        }
        var rest = template
        for placeholder in placeholders { rest = rest.replacingOccurrences(of: placeholder, with: "x") }
        guard !rest.contains("{"), !rest.contains("}") else {
            throw StreamDefinitionError(field: field, problem: "has an unknown placeholder: known are \(placeholders.joined(separator: " "))")
        }
        try checkText(template.hasPrefix("{prefix}") ? "p/" + template.dropFirst("{prefix}".count) : template, field: field)
    }

    public static func checkPrefix(_ prefix: String, field: String) throws(StreamDefinitionError) {
        guard !prefix.isEmpty else { return }
        guard !prefix.contains("{"), !prefix.contains("}") else { throw StreamDefinitionError(field: field, problem: "must not contain { or }") }
        try checkText(prefix, field: field)
    }
}

// MARK: - The wire form

/// A coding key for any name: lets decoding list the keys present and refuse unknown ones.
struct AnyCodingKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ string: String) { stringValue = string }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

extension CodingUserInfoKey {
    /// Set to `true` when encoding for an answer: secrets become `***` (never leave the process).
    public static let redactSecrets = CodingUserInfoKey(rawValue: "roomstream.redactSecrets")!
}

/// Reads one JSON object's fields, turning every decoding problem into a `StreamDefinitionError`
/// that names the field.
struct FieldReader {
    let container: KeyedDecodingContainer<AnyCodingKey>
    let prefix: String

    init(_ decoder: any Decoder, prefix: String) throws(StreamDefinitionError) {
        do { container = try decoder.container(keyedBy: AnyCodingKey.self) } catch {
            throw StreamDefinitionError(field: prefix.isEmpty ? "stream" : String(prefix.dropLast()), problem: "must be a JSON object")
        }
        self.prefix = prefix
    }

    func only(_ known: [String]) throws(StreamDefinitionError) {
        for key in container.allKeys.map(\.stringValue).sorted() where !known.contains(key) {
            throw StreamDefinitionError(field: prefix + key, problem: "unknown key (known: \(known.sorted().joined(separator: ", ")))")
        }
    }

    private func read<T: Decodable>(_ type: T.Type, _ key: String, _ expected: String) throws(StreamDefinitionError) -> T? {
        let codingKey = AnyCodingKey(key)
        guard container.contains(codingKey) else { return nil }
        do {
            if try container.decodeNil(forKey: codingKey) { return nil }
            return try container.decode(type, forKey: codingKey)
        } catch {
            throw StreamDefinitionError(field: prefix + key, problem: "must be \(expected)")
        }
    }

    func string(_ key: String) throws(StreamDefinitionError) -> String? { try read(String.self, key, "a string") }
    func bool(_ key: String) throws(StreamDefinitionError) -> Bool? { try read(Bool.self, key, "true or false") }

    func integer(_ key: String, in range: ClosedRange<Int>) throws(StreamDefinitionError) -> Int? {
        guard let value = try read(Double.self, key, "an integer from \(range.lowerBound) to \(range.upperBound)") else { return nil }
        guard value.rounded() == value, value >= Double(range.lowerBound), value <= Double(range.upperBound) else {
            throw StreamDefinitionError(field: prefix + key, problem: "must be an integer from \(range.lowerBound) to \(range.upperBound), got \(value)")
        }
        return Int(value)
    }

    func required<T>(_ value: T?, _ key: String) throws(StreamDefinitionError) -> T {
        guard let value else { throw StreamDefinitionError(field: prefix + key, problem: "is required") }
        return value
    }

    func nested(_ key: String) throws(StreamDefinitionError) -> (any Decoder)? {
        let codingKey = AnyCodingKey(key)
        guard container.contains(codingKey) else { return nil }
        do { return try container.superDecoder(forKey: codingKey) } catch {
            throw StreamDefinitionError(field: prefix + key, problem: "must be a JSON object")
        }
    }
}

extension StreamDefinition: Codable {
    static let keys = ["id", "interval_minutes", "compression", "write_empty", "key_template", "destination", "paused"]

    /// Decodes and validates; throws `StreamDefinitionError` naming the first bad field.
    public init(from decoder: any Decoder) throws {
        let fields = try FieldReader(decoder, prefix: "")
        try fields.only(Self.keys)
        var definition = StreamDefinition(id: try fields.required(try fields.string("id"), "id"), destination: .directory(path: ""))
        if let minutes = try fields.integer("interval_minutes", in: 1...1440) { definition.intervalMinutes = minutes }
        if let compression = try fields.string("compression") {
            guard let value = StreamCompression(rawValue: compression) else {
                throw StreamDefinitionError(field: "compression", problem: "must be none or gzip, got \"\(compression)\"")
            }
            definition.compression = value
        }
        if let writeEmpty = try fields.bool("write_empty") { definition.writeEmpty = writeEmpty }
        if let paused = try fields.bool("paused") { definition.paused = paused }
        if let template = try fields.string("key_template") { definition.keyTemplate = template }
        definition.destination = try StreamDestination.decode(try fields.required(try fields.nested("destination"), "destination"))
        try definition.validate()
        self = definition
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: AnyCodingKey.self)
        try container.encode(id, forKey: AnyCodingKey("id"))
        try container.encode(intervalMinutes, forKey: AnyCodingKey("interval_minutes"))
        try container.encode(compression.rawValue, forKey: AnyCodingKey("compression"))
        try container.encode(writeEmpty, forKey: AnyCodingKey("write_empty"))
        try container.encode(keyTemplate, forKey: AnyCodingKey("key_template"))
        try container.encode(paused, forKey: AnyCodingKey("paused"))
        try destination.encode(to: container.superEncoder(forKey: AnyCodingKey("destination")))
    }
}

extension StreamDestination: Encodable {
    static let directoryKeys = ["type", "path"]
    static let s3Keys = ["type", "endpoint", "region", "bucket", "prefix", "access_key_id", "secret_access_key", "secret_access_key_env", "path_style"]

    static func decode(_ decoder: any Decoder) throws(StreamDefinitionError) -> StreamDestination {
        let fields = try FieldReader(decoder, prefix: "destination.")
        switch try fields.string("type") {
        case "directory":
            try fields.only(directoryKeys)
            return .directory(path: try fields.string("path") ?? "")
        case "s3":
            try fields.only(s3Keys)
            return .s3(S3Destination(
                endpoint: try fields.string("endpoint") ?? "", region: try fields.string("region") ?? "",
                bucket: try fields.string("bucket") ?? "", prefix: try fields.string("prefix") ?? "",
                accessKeyID: try fields.string("access_key_id") ?? "", secretAccessKey: try fields.string("secret_access_key"),
                secretAccessKeyEnv: try fields.string("secret_access_key_env"), pathStyle: try fields.bool("path_style") ?? false))
        case let other:
            throw StreamDefinitionError(field: "destination.type", problem: "must be directory or s3\(other.map { ", got \"\($0)\"" } ?? "")")
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: AnyCodingKey.self)
        switch self {
        case .directory(let path):
            try container.encode("directory", forKey: AnyCodingKey("type"))
            try container.encode(path, forKey: AnyCodingKey("path"))
        case .s3(let s3):
            try container.encode("s3", forKey: AnyCodingKey("type"))
            try container.encode(s3.endpoint, forKey: AnyCodingKey("endpoint"))
            try container.encode(s3.region, forKey: AnyCodingKey("region"))
            try container.encode(s3.bucket, forKey: AnyCodingKey("bucket"))
            try container.encode(s3.prefix, forKey: AnyCodingKey("prefix"))
            if !s3.accessKeyID.isEmpty { try container.encode(s3.accessKeyID, forKey: AnyCodingKey("access_key_id")) }
            let redact = encoder.userInfo[.redactSecrets] as? Bool == true
            if let secret = s3.secretAccessKey { try container.encode(redact ? "***" : secret, forKey: AnyCodingKey("secret_access_key")) }
            if let name = s3.secretAccessKeyEnv { try container.encode(name, forKey: AnyCodingKey("secret_access_key_env")) }
            try container.encode(s3.pathStyle, forKey: AnyCodingKey("path_style"))
        }
    }
}

extension StreamDefinition {
    /// Decodes one definition from JSON bytes; every problem is a `StreamDefinitionError`.
    public static func decode(json: Data) throws(StreamDefinitionError) -> StreamDefinition {
        do {
            return try JSONDecoder().decode(StreamDefinition.self, from: json)
        } catch let error as StreamDefinitionError {
            throw error
        } catch {
            throw StreamDefinitionError(field: "stream", problem: "is not valid JSON: \(error.localizedDescription)")
        }
    }

    /// The definition as a JSON object (for merging a PATCH body over it); secrets included.
    public var jsonObject: [String: Any] {
        // Encoding a validated definition and parsing it back cannot fail (ignore the impossible error).
        guard let data = try? JSONEncoder().encode(self),  // ignore: see above
              let object = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else { return [:] }  // ignore: see above
        return object
    }
}
