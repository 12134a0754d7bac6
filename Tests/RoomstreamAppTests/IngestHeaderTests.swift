import Foundation
@testable import RoomstreamApp
import RoomstreamHTTP
import Testing

/// The ingest headers are compared as ASCII bytes (docs/decisions.md #34): every spelling the
/// RFCs allow is accepted, and the byte-level control-character check equals Unicode's Cc.
struct IngestHeaderTests {
    struct Spelling: Sendable, CustomTestStringConvertible {
        var name: String
        var headers: [String: String]
        var path = "/v1/rooms/r/peers/p/samples"
        var status: Int
        var testDescription: String { name }
    }

    static let key = AppTestService.ingestKey
    static let spellings: [Spelling] = [
        // RFC 9110 §11.1: the auth scheme is case-insensitive; RFC 9110 §5.5: OWS around a value.
        Spelling(name: "lowercase scheme", headers: ["Authorization": "bearer \(key)"], status: 202),
        Spelling(name: "uppercase scheme, extra spaces", headers: ["Authorization": "BEARER   \(key)  "], status: 202),
        Spelling(name: "scheme only", headers: ["Authorization": "Bearer"], status: 401),
        Spelling(name: "another scheme", headers: ["Authorization": "Basic \(key)"], status: 401),
        Spelling(name: "key as the scheme", headers: ["Authorization": "\(key)"], status: 401),
        Spelling(name: "key one byte short", headers: ["Authorization": "Bearer \(key.dropLast())"], status: 401),
        // RFC 9110 §8.3.1: type/subtype case-insensitive, parameters after ";".
        Spelling(name: "media type with charset", headers: ["Content-Type": "application/json; charset=utf-8"], status: 202),
        Spelling(name: "media type in capitals", headers: ["Content-Type": "Application/JSON"], status: 202),
        Spelling(name: "text/plain (sendBeacon)", headers: ["Content-Type": "text/plain;charset=UTF-8"], status: 202),
        Spelling(name: "media type with a space before ;", headers: ["Content-Type": "application/json ; charset=utf-8"], status: 202),
        Spelling(name: "a longer media type", headers: ["Content-Type": "application/jsonx"], status: 415),
        Spelling(name: "identity in capitals", headers: ["Content-Encoding": "IDENTITY"], status: 202),
        Spelling(name: "an unknown encoding", headers: ["Content-Encoding": "gzip2"], status: 415),
        // ids: C1 controls (U+0080–U+009F) are refused like C0; U+00A0 and é are not controls.
        Spelling(name: "C1 control in the room id", headers: [:], path: "/v1/rooms/a%C2%85b/peers/p/samples", status: 400),
        Spelling(name: "DEL in the peer id", headers: [:], path: "/v1/rooms/r/peers/a%7Fb/samples", status: 400),
        Spelling(name: "no-break space and é in ids", headers: [:], path: "/v1/rooms/a%C2%A0b/peers/%C3%A9/samples", status: 202),
    ]

    @Test("header and id spellings", arguments: spellings)
    func spelling(_ testCase: Spelling) async throws {
        let app = try AppTestService()
        var headers = ["Authorization": "Bearer \(Self.key)", "Content-Type": "application/json"]
        headers.merge(testCase.headers) { $1 }
        let response = try #require(try app.request("POST", testCase.path, headers: headers, body: Array(IngestRoutesTests.sample.utf8)))
        #expect(response.status == testCase.status, "\(response.bodyText)")
        await app.stop()
    }

    /// Every scalar of the first planes: the byte check agrees with general category Cc, alone
    /// and between other characters.
    @Test func controlCheckEqualsTheUnicodeCategory() {
        for value in UInt32(0)...0x2FFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let isControl = scalar.properties.generalCategory == .control
            #expect(IngestRoutes.containsControl(String(Character(scalar))) == isControl, "U+\(String(value, radix: 16))")
            #expect(IngestRoutes.containsControl("é\(Character(scalar))¢") == isControl, "U+\(String(value, radix: 16)) inside")
        }
    }

    @Test(arguments: [
        ("content-type", "Content-Type", true), ("CONTENT-TYPE", "content-type", true), ("content-typ", "content-type", false),
        ("content-types", "content-type", false), ("x-a", "X-A", true), ("x-[", "x-{", false),
    ])
    func asciiCaseInsensitiveEquality(_ a: String, _ b: String, _ equal: Bool) {
        #expect(ASCII.equalsIgnoringCase(Array(a.utf8)[...], b.utf8) == equal)
    }

    @Test(arguments: [(" \t a b \t", "a b"), ("", ""), ("   ", ""), ("x", "x"), ("\tx ", "x")])
    func trimmingWhitespace(_ input: String, _ expected: String) {
        #expect(Array(ASCII.trimmingWhitespace(Array(input.utf8)[...])) == Array(expected.utf8))
    }
}
