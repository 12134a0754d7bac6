/// Why a request body was rejected. Every case names what is wrong so the SDK developer can
/// fix it; the HTTP status of each is chosen in one place (`status`).
public enum IngestError: Error, Equatable, Sendable {
    case malformedJSON(String)
    case invalidField(field: String, problem: String)
    case tooMany(field: String, limit: Int)

    public var code: String {
        switch self {
        case .malformedJSON: "malformed_json"
        case .invalidField: "invalid_field"
        case .tooMany: "too_many_items"
        }
    }

    public var message: String {
        switch self {
        case .malformedJSON(let detail): "body is not valid JSON: \(detail)"
        case .invalidField(let field, let problem): "\(field): \(problem)"
        case .tooMany(let field, let limit): "\(field): more than \(limit) items"
        }
    }
}
