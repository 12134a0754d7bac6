import Testing
@testable import RoomstreamHTTP

/// What a test expects of one parsed message, in a form that compares across feeding strategies.
struct ParsedRequest: Equatable, CustomStringConvertible {
    var method: String
    var target: String
    var version: String = "HTTP/1.1"
    var headers: [String] = []
    var body: String = ""
    var keepAlive = true
    var trailers: [String] = []

    var description: String { "\(method) \(target) \(version) \(headers) body=\(body.debugDescription) keepAlive=\(keepAlive) trailers=\(trailers)" }

    init(method: String, target: String, version: String = "HTTP/1.1", headers: [String] = [], body: String = "", keepAlive: Bool = true, trailers: [String] = []) {
        self.method = method
        self.target = target
        self.version = version
        self.headers = headers
        self.body = body
        self.keepAlive = keepAlive
        self.trailers = trailers
    }

    init(_ request: HTTPRequest) {
        method = request.method.rawValue
        target = request.target
        version = request.version.description
        headers = request.headers.map { "\($0.name): \($0.value)" }
        body = String(decoding: request.body, as: UTF8.self)
        keepAlive = request.keepAlive
        trailers = request.trailers.map { "\($0.name): \($0.value)" }
    }
}

enum ParseOutcome: Equatable, CustomStringConvertible {
    case request(ParsedRequest)
    case continueExpected
    case error(HTTPParseError)

    var description: String {
        switch self {
        case .request(let request): "request(\(request))"
        case .continueExpected: "continue"
        case .error(let error): "error(\(error))"
        }
    }
}

/// How the bytes of a case reach the parser.
enum Feeding: CustomStringConvertible {
    case whole
    case byteByByte
    case split(at: Int)

    var description: String {
        switch self {
        case .whole: "whole"
        case .byteByByte: "byte by byte"
        case .split(let at): "split at \(at)"
        }
    }

    func chunks(of bytes: [UInt8]) -> [ArraySlice<UInt8>] {
        switch self {
        case .whole: [bytes[...]]
        case .byteByByte: bytes.indices.map { bytes[$0...$0] }
        case .split(let at): [bytes[..<at], bytes[at...]]
        }
    }

    /// Every strategy the guide asks for: whole, one byte at a time, and split at every position.
    static func all(for bytes: [UInt8]) -> [Feeding] {
        [.whole, .byteByByte] + (1..<max(bytes.count, 1)).map { .split(at: $0) }
    }
}

/// Feeds `bytes` in the given chunks and collects everything the parser reports. Stops at the first error.
/// `direct`: each chunk is first offered to `receive` (as a read(2) straight into the buffer's
/// free room would fill it), and only what did not fit is appended, as the server does.
func parse(_ bytes: [UInt8], feeding: Feeding, direct: Bool = false, limits: HTTPParserLimits = HTTPParserLimits()) -> [ParseOutcome] {
    var parser = HTTPRequestParser(limits: limits)
    var outcomes: [ParseOutcome] = []
    for chunk in feeding.chunks(of: bytes) {
        var rest = chunk
        if direct {
            let taken = parser.receive(minimum: 1, maximum: rest.count) { room in
                let count = min(room.count, rest.count)
                rest.prefix(count).withUnsafeBytes { room.copyMemory(from: $0) }
                return count
            } ?? 0
            rest = rest.dropFirst(taken)
        }
        if !rest.isEmpty { parser.append(contentsOf: rest) }
        loop: while true {
            switch parser.next() {
            case .needMoreData: break loop
            case .continueExpected: outcomes.append(.continueExpected)
            case .request(let request): outcomes.append(.request(ParsedRequest(request)))
            case .error(let error):
                outcomes.append(.error(error))
                return outcomes
            }
        }
    }
    return outcomes
}

/// Parses `bytes` with every feeding strategy and checks each gives `expected`
/// (continue notices aside: whether one is due depends on how the body arrived).
func expectSameOutcomeForEveryFeeding(_ bytes: [UInt8], _ expected: [ParseOutcome], limits: HTTPParserLimits = HTTPParserLimits(), sourceLocation: SourceLocation = #_sourceLocation) {
    for feeding in Feeding.all(for: bytes) {
        for direct in [false, true] {
            let outcomes = parse(bytes, feeding: feeding, direct: direct, limits: limits).filter { $0 != .continueExpected }
            #expect(outcomes == expected, "fed \(feeding)\(direct ? ", read into the buffer" : "")", sourceLocation: sourceLocation)
            if outcomes != expected { return }
        }
    }
}
