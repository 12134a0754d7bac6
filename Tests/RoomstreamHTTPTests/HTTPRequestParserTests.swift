import Testing
@testable import RoomstreamHTTP

/// Message framing: lengths, chunked coding, pipelining, persistence, limits, 100-continue.
struct HTTPRequestParserTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var raw: String
        var expected: [ParseOutcome]
        var limits = HTTPParserLimits()
        var testDescription: String { name }
    }

    static let small = HTTPParserLimits(maxRequestLineBytes: 32, maxHeaderBytes: 64, maxHeaderFields: 3, maxBodyBytes: 10, maxChunkLineBytes: 16, maxChunkFramingBytes: 40)

    static let framingCases: [Case] = [
        Case(name: "GET with Host", raw: "GET /healthz HTTP/1.1\r\nHost: a\r\n\r\n",
             expected: [.request(.init(method: "GET", target: "/healthz", headers: ["Host: a"]))]),
        Case(name: "empty lines before the request line are ignored (RFC 9112 §2.2)", raw: "\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n",
             expected: [.request(.init(method: "GET", target: "/", headers: ["Host: a"]))]),
        Case(name: "Content-Length body", raw: "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nhello",
             expected: [.request(.init(method: "POST", target: "/x", headers: ["Host: a", "Content-Length: 5"], body: "hello"))]),
        Case(name: "Content-Length 0", raw: "POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 0\r\n\r\n",
             expected: [.request(.init(method: "POST", target: "/x", headers: ["Host: a", "Content-Length: 0"]))]),
        Case(name: "chunked with extensions and trailers", raw: "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1;q=\"a\\\"b\"\r\nhello\r\nA ; x\r\n, world!!!\r\n0\r\nX-Sum: 1\r\n\r\n",
             expected: [.request(.init(method: "POST", target: "/c", headers: ["Host: a", "Transfer-Encoding: chunked"], body: "hello, world!!!", trailers: ["X-Sum: 1"]))]),
        Case(name: "chunked, empty body", raw: "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
             expected: [.request(.init(method: "POST", target: "/c", headers: ["Host: a", "Transfer-Encoding: chunked"]))]),
        Case(name: "chunked, uppercase hex and leading zeros", raw: "POST /c HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n00B\r\nhello world\r\n000\r\n\r\n",
             expected: [.request(.init(method: "POST", target: "/c", headers: ["Host: a", "Transfer-Encoding: Chunked"], body: "hello world"))]),
        Case(name: "pipelined requests in order (RFC 9112 §9.3.2)", raw: "GET /1 HTTP/1.1\r\nHost: a\r\n\r\nPOST /2 HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nokGET /3 HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n",
             expected: [
                .request(.init(method: "GET", target: "/1", headers: ["Host: a"])),
                .request(.init(method: "POST", target: "/2", headers: ["Host: a", "Content-Length: 2"], body: "ok")),
                .request(.init(method: "GET", target: "/3", headers: ["Host: a", "Connection: close"], keepAlive: false)),
             ]),
        Case(name: "line feeds inside a body are not line ends of the next request", raw: "POST /1 HTTP/1.1\r\nHost: a\r\nContent-Length: 6\r\n\r\nab\ncd\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
             expected: [
                .request(.init(method: "POST", target: "/1", headers: ["Host: a", "Content-Length: 6"], body: "ab\ncd\n")),
                .request(.init(method: "GET", target: "/2", headers: ["Host: a"])),
             ]),
        Case(name: "line feeds inside chunk data are not line ends", raw: "POST /1 HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\n\n\n\n\r\n0\r\n\r\nGET /2 HTTP/1.1\r\nHost: a\r\n\r\n",
             expected: [
                .request(.init(method: "POST", target: "/1", headers: ["Host: a", "Transfer-Encoding: chunked"], body: "\n\n\n")),
                .request(.init(method: "GET", target: "/2", headers: ["Host: a"])),
             ]),
        Case(name: "HTTP/1.0 closes by default", raw: "GET / HTTP/1.0\r\n\r\n",
             expected: [.request(.init(method: "GET", target: "/", version: "HTTP/1.0", keepAlive: false))]),
        Case(name: "HTTP/1.0 keep-alive is opt-in", raw: "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n",
             expected: [.request(.init(method: "GET", target: "/", version: "HTTP/1.0", headers: ["Connection: Keep-Alive"]))]),
        Case(name: "Connection: close among other options", raw: "GET / HTTP/1.1\r\nHost: a\r\nConnection: foo, CLOSE\r\n\r\n",
             expected: [.request(.init(method: "GET", target: "/", headers: ["Host: a", "Connection: foo, CLOSE"], keepAlive: false))]),
        Case(name: "HTTP/1.2 is processed as 1.1 (RFC 9110 §2.5)", raw: "GET / HTTP/1.2\r\nHost: a\r\n\r\n",
             expected: [.request(.init(method: "GET", target: "/", headers: ["Host: a"]))]),
        Case(name: "HEAD", raw: "HEAD /healthz HTTP/1.1\r\nHost: a\r\n\r\n",
             expected: [.request(.init(method: "HEAD", target: "/healthz", headers: ["Host: a"]))]),
        Case(name: "both Content-Length and Transfer-Encoding", raw: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n",
             expected: [.error(.contentLengthWithTransferEncoding)]),
        Case(name: "Transfer-Encoding before Content-Length", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nContent-Length: 3\r\n\r\n",
             expected: [.error(.contentLengthWithTransferEncoding)]),
        Case(name: "duplicate identical Content-Length", raw: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\nabc",
             expected: [.error(.multipleContentLength)]),
        Case(name: "Content-Length list", raw: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 3, 3\r\n\r\nabc",
             expected: [.error(.invalidContentLength)]),
        Case(name: "Content-Length with plus sign", raw: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: +3\r\n\r\nabc",
             expected: [.error(.invalidContentLength)]),
        Case(name: "Content-Length negative", raw: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: -3\r\n\r\n",
             expected: [.error(.invalidContentLength)]),
        Case(name: "Content-Length with inner space", raw: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1 2\r\n\r\n",
             expected: [.error(.invalidContentLength)]),
        Case(name: "Content-Length empty", raw: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n",
             expected: [.error(.invalidContentLength)]),
        Case(name: "Content-Length hex", raw: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 0x10\r\n\r\n",
             expected: [.error(.invalidContentLength)]),
        Case(name: "Content-Length overflow", raw: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999999999999999\r\n\r\n",
             expected: [.error(.invalidContentLength)]),
        Case(name: "Transfer-Encoding gzip only", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip\r\n\r\n",
             expected: [.error(.chunkedNotFinal)]),
        Case(name: "chunked not final", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
             expected: [.error(.chunkedNotFinal)]),
        Case(name: "chunked not final across lines", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n\r\n",
             expected: [.error(.chunkedNotFinal)]),
        Case(name: "another coding before chunked", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
             expected: [.error(.unsupportedTransferCoding)]),
        Case(name: "chunked twice", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
             expected: [.error(.invalidTransferEncoding)]),
        Case(name: "empty Transfer-Encoding", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: \r\n\r\n",
             expected: [.error(.chunkedNotFinal)]),
        Case(name: "Transfer-Encoding in HTTP/1.0", raw: "POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
             expected: [.error(.transferEncodingInHTTP10)]),
        Case(name: "bad chunk size", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
             expected: [.error(.invalidChunkSize)]),
        Case(name: "chunk size with sign", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-1\r\n",
             expected: [.error(.invalidChunkSize)]),
        Case(name: "chunk size overflow", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nFFFFFFFFFFFFFFFFF\r\n",
             expected: [.error(.invalidChunkSize)]),
        Case(name: "chunk size with trailing garbage", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5 x\r\nhello\r\n0\r\n\r\n",
             expected: [.error(.invalidChunkSize)]),
        Case(name: "empty chunk extension name", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;=1\r\nhello\r\n0\r\n\r\n",
             expected: [.error(.invalidChunkExtension)]),
        Case(name: "unterminated quoted chunk extension", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5;a=\"x\r\nhello\r\n0\r\n\r\n",
             expected: [.error(.invalidChunkExtension)]),
        Case(name: "chunk data not followed by CRLF", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n",
             expected: [.error(.invalidChunkTerminator)]),
        Case(name: "chunk data followed by CR and junk", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\rX0\r\n\r\n",
             expected: [.error(.invalidChunkTerminator)]),
        Case(name: "chunk size line with a bare LF", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n5\nhello\r\n0\r\n\r\n",
             expected: [.error(.bareLineFeed)]),
        Case(name: "unsupported Expect", raw: "POST / HTTP/1.1\r\nHost: a\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\nx",
             expected: [.error(.unsupportedExpectation)]),
        Case(name: "Expect ignored in HTTP/1.0", raw: "POST / HTTP/1.0\r\nExpect: 200-ok\r\nContent-Length: 1\r\n\r\nx",
             expected: [.request(.init(method: "POST", target: "/", version: "HTTP/1.0", headers: ["Expect: 200-ok", "Content-Length: 1"], body: "x", keepAlive: false))]),
        Case(name: "request line too long → 414", raw: "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: a\r\n\r\n",
             expected: [.error(.requestLineTooLong(limit: 32))], limits: small),
        Case(name: "over-long request line ending in a bare LF is too long, however it arrives", raw: "GET /aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa HTTP/1.1\nHost: a\r\n\r\n",
             expected: [.error(.requestLineTooLong(limit: 32))], limits: small),
        Case(name: "request line at the limit", raw: "GET /aaaaaaaaaaaaaaaaaa HTTP/1.1\r\nHost: a\r\n\r\n",
             expected: [.request(.init(method: "GET", target: "/aaaaaaaaaaaaaaaaaa", headers: ["Host: a"]))], limits: small),
        Case(name: "header section too large → 431", raw: "GET / HTTP/1.1\r\nHost: a\r\nX-Long: \(String(repeating: "v", count: 60))\r\n\r\n",
             expected: [.error(.headerSectionTooLarge(limit: 64))], limits: small),
        Case(name: "too many header fields → 431", raw: "GET / HTTP/1.1\r\nHost: a\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n",
             expected: [.error(.tooManyHeaderFields(limit: 3))], limits: small),
        Case(name: "declared body too large → 413 before the body", raw: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 11\r\n\r\n",
             expected: [.error(.bodyTooLarge(limit: 10))], limits: small),
        Case(name: "body at the limit", raw: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 10\r\n\r\n0123456789",
             expected: [.request(.init(method: "POST", target: "/", headers: ["Host: a", "Content-Length: 10"], body: "0123456789"))], limits: small),
        Case(name: "chunked body too large → 413", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n6\r\n",
             expected: [.error(.bodyTooLarge(limit: 10))], limits: HTTPParserLimits(maxBodyBytes: 10)),
        Case(name: "chunk line too long", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n1;aaaaaaaaaaaaaaaaaaaaaa\r\n",
             expected: [.error(.chunkLineTooLong(limit: 16))], limits: HTTPParserLimits(maxChunkLineBytes: 16)),
        Case(name: "many tiny chunks exceed the framing bound", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n" + String(repeating: "1;e=1\r\nx\r\n", count: 5),
             expected: [.error(.chunkFramingTooLarge(limit: 40))], limits: HTTPParserLimits(maxChunkFramingBytes: 40)),
        Case(name: "trailer section too large", raw: "POST / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nX: \(String(repeating: "t", count: 70))\r\n\r\n",
             expected: [.error(.headerSectionTooLarge(limit: 64))], limits: HTTPParserLimits(maxHeaderBytes: 64)),
    ]

    @Test("framing, every feeding", arguments: framingCases)
    func framing(_ testCase: Case) {
        expectSameOutcomeForEveryFeeding(Array(testCase.raw.utf8), testCase.expected, limits: testCase.limits)
    }

    @Test func continueIsReportedOnceBeforeTheBody() {
        let head = Array("PUT /u HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n".utf8)
        var parser = HTTPRequestParser()
        parser.append(contentsOf: head)
        guard case .continueExpected = parser.next() else { Issue.record("expected continue"); return }
        guard case .needMoreData = parser.next() else { Issue.record("expected need more"); return }
        #expect(parser.isReadingBody)
        parser.append(contentsOf: "abc".utf8)
        guard case .request(let request) = parser.next() else { Issue.record("expected request"); return }
        #expect(String(decoding: request.body, as: UTF8.self) == "abc")
        #expect(!parser.isReadingBody)
    }

    @Test func noContinueWhenTheBodyCameWithTheHead() {
        let all = parse(Array("PUT /u HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\nabc".utf8), feeding: .whole)
        #expect(all.count == 1)
        if case .request = all.first {} else { Issue.record("expected a request, got \(all)") }
    }

    @Test func noContinueForAnEmptyBody() {
        let all = parse(Array("GET / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n\r\n".utf8), feeding: .whole)
        #expect(all == [.request(.init(method: "GET", target: "/", headers: ["Host: a", "Expect: 100-continue"]))])
    }

    @Test func continueForChunkedBodies() {
        let all = parse(Array("POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n".utf8), feeding: .whole)
        #expect(all == [.continueExpected])
    }

    @Test func oversizedDeclaredBodyIsRejectedEvenWithExpectContinue() {
        let all = parse(Array("PUT / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\nContent-Length: 100\r\n\r\n".utf8), feeding: .whole, limits: Self.small)
        #expect(all == [.error(.bodyTooLarge(limit: 10))])
    }

    @Test func partialLineBeyondALimitFailsWithoutItsLineFeed() {
        // A client that never sends LF must not grow the buffer past the limit.
        var parser = HTTPRequestParser(limits: Self.small)
        parser.append(contentsOf: Array(repeating: UInt8(ascii: "A"), count: 40))
        guard case .error(.requestLineTooLong) = parser.next() else { Issue.record("expected 414"); return }
    }

    @Test func bodyIsASliceOfTheReceiveBuffer() {
        var parser = HTTPRequestParser()
        parser.append(contentsOf: "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 4\r\n\r\nbody".utf8)
        guard case .request(let request) = parser.next() else { Issue.record("expected request"); return }
        // The body's indices are positions in the buffer the head came in, not a fresh array.
        #expect(request.body.startIndex > 0)
        #expect(parser.bufferedByteCount == 0)
        #expect(!parser.hasPartialRequest)
    }

    @Test func bufferIsCompactedBetweenPipelinedRequests() {
        var parser = HTTPRequestParser()
        let one = "GET /a HTTP/1.1\r\nHost: a\r\n\r\n"
        parser.append(contentsOf: (one + "GET /b HT").utf8)
        guard case .request = parser.next() else { Issue.record("expected /a"); return }
        #expect(parser.hasPartialRequest)
        parser.append(contentsOf: "TP/1.1\r\nHost: a\r\n\r\n".utf8)
        guard case .request(let second) = parser.next() else { Issue.record("expected /b"); return }
        #expect(second.target == "/b")
        #expect(parser.end == one.utf8.count)  // only the second request remains (same length as the first)
    }

    @Test func failedParserStaysFailed() {
        var parser = HTTPRequestParser()
        parser.append(contentsOf: "BAD\r\n".utf8)
        guard case .error(let first) = parser.next() else { Issue.record("expected error"); return }
        parser.append(contentsOf: "GET / HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
        guard case .error(let second) = parser.next() else { Issue.record("expected error"); return }
        #expect(first == second)
    }
}

/// A Content-Length body leaves simdjson's padding allocated past it in the receive buffer
/// (`bodyReadableSlackBytes`), however the bytes arrived: the ingest decoder parses it in place.
struct BodySlackTests {
    @Test(arguments: [1, 7, 64, 11_534])
    func aContentLengthBodyKeepsTheReadAheadSlackAtEverySplit(bodyBytes: Int) {
        let body = String(repeating: "x", count: bodyBytes)
        let raw = Array("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: \(bodyBytes)\r\n\r\n\(body)".utf8)
        // The harness's feedings: every split for the small bodies; for the large one whole,
        // byte by byte and a few splits (each split re-parses the whole request).
        let feedings: [Feeding] = bodyBytes > 1_000
            ? [.whole, .byteByByte] + [1, 2, raw.count / 2, raw.count - 1].map { .split(at: $0) }
            : Feeding.all(for: raw)
        for feeding in feedings {
            var parser = HTTPRequestParser()
            var last: HTTPParseResult = .needMoreData
            for chunk in feeding.chunks(of: raw) {
                parser.append(contentsOf: chunk)
                last = parser.next()
            }
            guard case .request(let request) = last else {
                Issue.record("\(feeding): \(last)")
                continue
            }
            #expect(request.body.count == bodyBytes)
            #expect(request.bodyReadableSlackBytes >= HTTPRequestParser.readAheadSlackBytes, "\(feeding)")
        }
    }

    @Test func receiveFillsOnlyTheFreeRoomAndCountsWhatWasRead() {
        var parser = HTTPRequestParser()
        // A new parser has no room: the server reads into its loop's buffer and appends.
        #expect(parser.receive(minimum: 1, maximum: 100) { _ in Issue.record("called without room"); return 0 } == nil)
        let request = Array("GET /a HTTP/1.1\r\nHost: a\r\n\r\n".utf8)
        parser.append(contentsOf: request)
        guard case .request = parser.next() else { Issue.record("expected /a"); return }
        // The buffer now has room for a request of the same size, short of the slack.
        var offered = 0
        let got = parser.receive(minimum: 1, maximum: 10_000) { room in
            offered = room.count
            request.withUnsafeBytes { room.copyMemory(from: $0) }
            return request.count
        }
        #expect(got == request.count && offered == request.count)
        guard case .request(let again) = parser.next() else { Issue.record("expected /a again"); return }
        #expect(again.target == "/a")
        // Too little room for the minimum: not called. A failed read (-1) or EOF (0) adds nothing.
        #expect(parser.receive(minimum: offered + 1, maximum: 10_000) { _ in Issue.record("called below the minimum"); return 0 } == nil)
        #expect(parser.receive(minimum: 1, maximum: 10_000) { _ in -1 } == -1)
        #expect(parser.receive(minimum: 1, maximum: 10_000) { _ in 0 } == 0)
        #expect(parser.bufferedByteCount == 0)
    }

    @Test func replacingTheBodyForgetsTheSlack() {
        var parser = HTTPRequestParser()
        parser.append(contentsOf: Array("POST /a HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\nok".utf8))
        guard case .request(var request) = parser.next() else { Issue.record("no request"); return }
        #expect(request.bodyReadableSlackBytes > 0)
        request.body = [1, 2, 3]
        #expect(request.bodyReadableSlackBytes == 0)
    }

    /// The fields read so far, which the server's own error answers use (a listed CORS
    /// `Origin`): a complete head's fields while its body arrives or after it failed, the lines
    /// read so far of a head cut short, none once a request is handed out. Every feeding.
    @Test(arguments: [
        // (bytes, body limit, expected Origin, expected field count)
        ("POST / HTTP/1.1\r\nHost: h\r\nOrigin: https://a.example\r\nContent-Length: 10\r\n\r\nabc", 1024, "https://a.example", 3),
        ("POST / HTTP/1.1\r\nHost: h\r\nOrigin:  https://a.example \r\nContent-Length: 4096\r\n\r\n", 1024, "https://a.example", 3),
        ("POST / HTTP/1.1\r\nOrigin: https://a.example\r\nX-Long: \(String(repeating: "x", count: 200))\r\n", 1024, "https://a.example", 1),
        ("POST / HTTP/1.1\r\nHost: h\r\nOrigin: https://a.exa", 1024, nil, 1),
        ("POST / HTTP/1.1\r\nHost: h\r\nX: 1\r\nOrigin: https://a.example\r\nContent-Length: 1\r\n\r\n!", 1024, nil, 0),
        ("GET / HTTP/1.1\r\nHost: h\r\nOrigin: https://a.example\r\nContent-Length: x\r\n\r\n", 1024, "https://a.example", 3),
    ] as [(String, Int, String?, Int)])
    func partialFieldsHoldWhatWasReadOfTheRequest(_ text: String, _ maxBodyBytes: Int, _ origin: String?, _ count: Int) {
        let bytes = Array(text.utf8)
        var limits = HTTPParserLimits()
        limits.maxBodyBytes = maxBodyBytes
        limits.maxHeaderBytes = 128
        for feeding in Feeding.all(for: bytes) {
            var parser = HTTPRequestParser(limits: limits)
            feed: for chunk in feeding.chunks(of: bytes) {
                parser.append(contentsOf: chunk)
                while true {
                    switch parser.next() {
                    case .needMoreData: continue feed
                    case .error: break feed
                    case .request, .continueExpected: continue
                    }
                }
            }
            #expect(parser.partialFields.count == count, "fed \(feeding)")
            #expect(parser.partialFields["origin"] == origin, "fed \(feeding)")
        }
    }
}

