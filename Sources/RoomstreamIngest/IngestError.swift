/// Why a request body was rejected. Every case names what is wrong so the SDK developer can
/// fix it; the HTTP status of each is chosen in one place (`status`).
public enum IngestError: Error, Equatable, Sendable {
    case malformedJSON(String)
    case invalidField(field: String, problem: String)
    case tooMany(field: String, limit: Int)
    case invalidGzip(String)
    case decompressedTooLarge(limit: Int)

    public var code: String {
        switch self {
        case .malformedJSON: "malformed_json"
        case .invalidField: "invalid_field"
        case .tooMany: "too_many_items"
        case .invalidGzip: "invalid_gzip"
        case .decompressedTooLarge: "body_too_large"
        }
    }

    public var message: String {
        switch self {
        case .malformedJSON(let detail): "body is not valid JSON: \(detail)"
        case .invalidField(let field, let problem): "\(field): \(problem)"
        case .tooMany(let field, let limit): "\(field): more than \(limit) items"
        case .invalidGzip(let detail): "Content-Encoding is gzip but the body is not valid gzip: \(detail)"
        case .decompressedTooLarge(let limit): "decompressed body exceeds \(limit) bytes"
        }
    }
}
