import RoomstreamCore
@testable import RoomstreamIngest
import Testing

/// The decoder parses a body in place when its storage has simdjson's padding past it
/// (`readableSlackBytes`), and copies it otherwise. Whatever the slack holds must never change
/// the answer: the same batch, or the same error, as the copying path.
struct InPlaceParseTests {
    static let sample = #"{"sdk_version":"1.0.0","keys":{"tier":"gold"},"events":[{"ts":1700000000000,"type":"pc_created","pc":"pc1"}],"samples":[{"seq":1,"ts":1700000001000,"pc":"pc1","stats":[{"id":"O1","type":"outbound-rtp","timestamp":1700000001000,"kind":"audio","bytesSent":1000,"packetsSent":10}]}]}"#

    /// Bodies cut short or left open, each followed by slack that would complete it if simdjson
    /// read it as input: `}`, `"`, `]}` and a whole object.
    static let cases: [(name: String, body: String)] = [
        ("whole", sample),
        ("unterminated object", String(sample.dropLast())),
        ("unterminated string", #"{"sdk_version":"1.0"#),
        ("unterminated array", #"{"samples":[{"seq":1,"ts":1,"pc":"a","stats":[]}"#),
        ("number at the end", #"{"user_rating":4"#),
        ("literal cut", #"{"user_rating":nul"#),
        ("empty", ""),
    ]
    static let slacks = ["}", "\"", "]}", "\"}]}", #"{"a":1}"#, "\u{0}"]

    @Test(arguments: cases, slacks)
    func theSlackNeverChangesTheAnswer(_ testCase: (name: String, body: String), slack: String) {
        let body = Array(testCase.body.utf8)
        let copied = Result { () throws(IngestError) in try IngestDecoder.decode(body + [], limits: IngestLimits()) }
        // The body, then the slack repeated to fill simdjson's padding.
        var storage = body
        let fill = Array(slack.utf8)
        while storage.count < body.count + JSONValue.paddingBytes { storage += fill }
        let inPlace = storage.withUnsafeBytes { all in
            Result { () throws(IngestError) in
                try IngestDecoder.decode(UnsafeRawBufferPointer(rebasing: all[0..<body.count]), readableSlackBytes: storage.count - body.count)
            }
        }
        switch (copied, inPlace) {
        case (.success(let a), .success(let b)): #expect(a == b, "\(testCase.name)")
        case (.failure(let a), .failure(let b)): #expect("\(a)" == "\(b)", "\(testCase.name)")
        default: Issue.record("\(testCase.name) + \(slack): copied \(copied), in place \(inPlace)")
        }
    }

    @Test func theWholeSampleDecodesInPlace() throws {
        var storage = Array(Self.sample.utf8)
        let count = storage.count
        storage += [UInt8](repeating: UInt8(ascii: "}"), count: JSONValue.paddingBytes)
        let batch = try storage.withUnsafeBytes { all throws(IngestError) in
            try IngestDecoder.decode(UnsafeRawBufferPointer(rebasing: all[0..<count]), readableSlackBytes: JSONValue.paddingBytes)
        }
        #expect(batch.samples.count == 1 && batch.events.count == 1 && batch.sdkVersion == "1.0.0")
    }
}
