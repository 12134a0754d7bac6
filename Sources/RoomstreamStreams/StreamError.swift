#if canImport(Glibc)
import Glibc
#endif

/// Why sealing or delivering a file failed. Nothing here deletes a sealed file.
public enum StreamError: Error, Equatable, Sendable, CustomStringConvertible {
    case io(operation: String, path: String, errno: Int32)
    case compression(String)
    case unsupported(String)
    /// `data/streams/definitions.json` holds a definition that does not validate.
    case invalidStoredDefinition(path: String, field: String, problem: String)

    public var description: String {
        switch self {
        case .io(let operation, let path, let code): "\(operation) \(path): \(String(cString: strerror(code))) (errno \(code))"
        case .compression(let detail): "gzip: \(detail)"
        case .unsupported(let detail): detail
        case .invalidStoredDefinition(let path, let field, let problem): "\(path): \(field.isEmpty ? "" : field + ": ")\(problem)"
        }
    }
}
