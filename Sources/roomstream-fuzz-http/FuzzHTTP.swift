// libFuzzer target for the HTTP/1.1 request parser (`make fuzz`), built like
// roomstream-fuzz-ingest: with -DFUZZING it hands control to libFuzzer's driver; built
// normally it replays the files it is given.
//
// Beyond "never crash", it checks a differential property: feeding the input whole and in
// chunks of a size taken from the input must give the same requests, the same error and the
// same fields read of the last request.
import FuzzDriver
import RoomstreamHTTP

func summarize(_ bytes: UnsafeBufferPointer<UInt8>, chunkSize: Int, limits: HTTPParserLimits) -> [String] {
    var parser = HTTPRequestParser(limits: limits)
    var outcomes: [String] = []
    var offset = 0
    feeding: while offset < bytes.count {
        let end = min(bytes.count, offset + chunkSize)
        parser.append(UnsafeRawBufferPointer(UnsafeBufferPointer(rebasing: bytes[offset..<end])))
        offset = end
        while true {
            switch parser.next() {
            case .needMoreData: continue feeding
            case .continueExpected: continue
            case .request(let request):
                let headers = request.headers.map { "\($0.name):\($0.value)" }.joined(separator: "|")
                outcomes.append("\(request.method) \(request.target) \(request.version) [\(headers)] \(Array(request.body)) \(request.keepAlive)")
                precondition(request.body.count <= limits.maxBodyBytes, "body over the limit")
                precondition(request.headers.count <= limits.maxHeaderFields, "too many fields accepted")
            case .error(let error):
                outcomes.append("error \(error)")
                break feeding
            }
        }
    }
    // What the server's own error answers read (a CORS `Origin`): the same however the bytes came.
    outcomes.append("partial [\(parser.partialFields.map { "\($0.name):\($0.value)" }.joined(separator: "|"))]")
    return outcomes
}

/// The differential check on one input.
func fuzzHTTPParser(_ bytes: UnsafeBufferPointer<UInt8>) {
    let limits = HTTPParserLimits(maxRequestLineBytes: 256, maxHeaderBytes: 1024, maxHeaderFields: 16, maxBodyBytes: 2048, maxChunkLineBytes: 64, maxChunkFramingBytes: 512)
    let whole = summarize(bytes, chunkSize: max(bytes.count, 1), limits: limits)
    let chunkSize = bytes.isEmpty ? 1 : Int(bytes[0] % 7) + 1
    let chunked = summarize(bytes, chunkSize: chunkSize, limits: limits)
    precondition(whole == chunked, "feeding in chunks of \(chunkSize) changed the outcome:\n\(whole)\n\(chunked)")
}

@main
struct FuzzHTTP {
    static func main() throws {
        try FuzzDriver.run { bytes in fuzzHTTPParser(bytes.bindMemory(to: UInt8.self)) }
    }
}
