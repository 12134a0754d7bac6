@testable import RoomstreamHTTP
import Testing

struct HTTPResponseEncoderTests {
    func encode(_ response: HTTPResponse, close: Bool = false, version: HTTPVersion = .http1_1) -> String {
        var out: [UInt8] = []
        HTTPResponseEncoder.encodeHead(response, date: "Sun, 06 Nov 1994 08:49:37 GMT", close: close, requestVersion: version, into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    @Test func jsonResponseHead() {
        #expect(encode(.json(.ok, "{}")) == "HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 2\r\nContent-Type: application/json\r\n\r\n")
    }

    @Test func closingResponseSaysSo() {
        #expect(encode(HTTPResponse(status: .badRequest), close: true) == "HTTP/1.1 400 Bad Request\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    }

    @Test func persistentHTTP10ConnectionSaysKeepAlive() {
        #expect(encode(HTTPResponse(status: .ok), version: .http1_0).contains("\r\nConnection: keep-alive\r\n"))
        #expect(!encode(HTTPResponse(status: .ok), close: true, version: .http1_0).contains("keep-alive"))
    }

    @Test func noContentHasNoContentLength() {
        #expect(!encode(HTTPResponse(status: .noContent)).contains("Content-Length"))
        #expect(String(decoding: HTTPResponseEncoder.continueHead, as: UTF8.self) == "HTTP/1.1 100 Continue\r\n\r\n")
    }

    @Test func notModifiedHasNoContentLength() {
        let head = encode(HTTPResponse(status: HTTPStatus(code: 304), headers: [HTTPHeaderField("ETag", "\"abc\"")]))
        #expect(head == "HTTP/1.1 304 Not Modified\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\nETag: \"abc\"\r\n\r\n")
    }

    @Test func headerValuesCannotSplitTheResponse() {
        let head = encode(HTTPResponse(status: .ok, headers: [HTTPHeaderField("X-A", "1\r\nSet-Cookie: evil")]))
        #expect(head.contains("X-A: 1  Set-Cookie: evil\r\n"))
        // In a name and in the reason phrase too, and a lone LF or CR at either end.
        let names = encode(HTTPResponse(status: HTTPStatus(code: 299, reason: "Fine\nX-B: 2"), headers: [HTTPHeaderField("\rX-C\n", "\nv\r")]))
        #expect(names.hasPrefix("HTTP/1.1 299 Fine X-B: 2\r\n"))
        #expect(names.contains("\r\n X-C :  v \r\n"))
    }

    @Test(arguments: [
        (0, "Thu, 01 Jan 1970 00:00:00 GMT"),
        (784_111_777, "Sun, 06 Nov 1994 08:49:37 GMT"),
        (951_782_400, "Tue, 29 Feb 2000 00:00:00 GMT"),
        (1_662_249_562, "Sat, 03 Sep 2022 23:59:22 GMT"),
        (1_798_761_599, "Thu, 31 Dec 2026 23:59:59 GMT"),
        (4_107_542_400, "Mon, 01 Mar 2100 00:00:00 GMT"),
    ])
    func imfFixdate(_ seconds: Int, _ expected: String) {
        #expect(HTTPDate.imfFixdate(epochSeconds: seconds) == expected)
    }

    @Test(arguments: [
        (1, "1"), (0, "0"), (1_048_576, "1048576"), (9, "9"), (10, "10"), (99, "99"), (100, "100"), (202, "202"),
        (11_534, "11534"), (-1, "-1"), (-10, "-10"), (1 << 40, "1099511627776"),
        (Int.max, "9223372036854775807"), (Int.min, "-9223372036854775808"),
    ])
    func decimal(_ value: Int, _ expected: String) {
        var out: [UInt8] = Array("x=".utf8)  // appended after what is there
        ASCII.appendDecimal(value, to: &out)
        #expect(String(decoding: out, as: UTF8.self) == "x=" + expected)
        #expect(expected == String(value))
    }
}
