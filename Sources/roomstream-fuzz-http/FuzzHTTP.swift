// libFuzzer target for the HTTP/1.1 request parser (`make fuzz`), built like
// roomstream-fuzz-ingest: with -DFUZZING it hands control to libFuzzer's driver; built
// normally it replays the files it is given.
//
// Beyond "never crash", it checks a differential property: feeding the input whole and in
// chunks of a size taken from the input must give the same requests and the same error.
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

#if FUZZING
/// libFuzzer's driver, from libclang_rt.fuzzer_no_main (linked by scripts/fuzz.sh).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<Int32>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32
#endif

@main
struct FuzzHTTP {
    static func main() throws {
        #if FUZZING
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        // SAFETY: libFuzzer passes `size` readable bytes at `data` for the duration of the callback.
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
            fuzzHTTPParser(UnsafeBufferPointer(start: data, count: size))
            return 0
        })
        #else
        for path in CommandLine.arguments.dropFirst() {
            let bytes = try Array(Data(contentsOf: URL(fileURLWithPath: path)))
            bytes.withUnsafeBufferPointer { fuzzHTTPParser($0) }
            print("ok \(path)")
        }
        #endif
    }
}

import Foundation
