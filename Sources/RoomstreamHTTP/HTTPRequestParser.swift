/// What `HTTPRequestParser.next()` found.
public enum HTTPParseResult: Sendable {
    /// The buffered bytes end inside a message: append more and call `next()` again.
    case needMoreData
    /// The head asked for `Expect: 100-continue` and none of the body has arrived: send
    /// `100 Continue` (RFC 9110 §10.1.1), then call `next()` again. Reported once per request.
    case continueExpected
    /// A whole request. Bytes after it stay buffered for the next call (pipelining, RFC 9112 §9.3.2).
    case request(HTTPRequest)
    /// The bytes are not valid HTTP/1.1. The parser stays failed: answer and close.
    case error(HTTPParseError)
}

/// An incremental HTTP/1.1 request parser (RFC 9112): a value that is fed bytes as they
/// arrive and reports "complete / need more / error".
///
/// Each byte is examined once: the search for the end of a line resumes where the last one
/// stopped, and a line is validated once, when its CRLF has arrived. Header names and values
/// are handed on as ranges into the receive buffer, not copies. Every bound comes from
/// `HTTPParserLimits` and has its own error.
public struct HTTPRequestParser: Sendable {
    public let limits: HTTPParserLimits

    enum State: Sendable {
        case requestLine
        case fieldLines
        /// Content-Length body; `end` is relative to the message start.
        case fixedBody(end: Int)
        case chunkSizeLine
        case chunkData(remaining: Int)
        case chunkDataEnd
        case trailerLines
        case failed(HTTPParseError)
    }

    /// What is known about the message being parsed. Ranges are relative to `messageStart`
    /// so that compacting the buffer does not move them.
    struct Head: Sendable {
        var method: HTTPMethod = .get
        var target: Range<Int> = 0..<0
        var version: HTTPVersion = .http1_1
        var fields: [HTTPFields.Entry] = []
        var headerBytes = 0
        var skippedEmptyLineBytes = 0
        var contentLength: Int?
        var transferCodings: [String]?
        var hostCount = 0
        var connectionClose = false
        var connectionKeepAlive = false
        var expectContinue = false
        var unsupportedExpectation = false
        var bodyStart = 0
        var chunkedBody: [UInt8] = []
        var chunkFramingBytes = 0
        var trailers: [HTTPFields.Entry] = []
        var trailerBytes = 0
        var continueReported = false
    }

    var buffer: [UInt8] = []
    /// Absolute index of the first byte of the message being parsed.
    var messageStart = 0
    /// Absolute index of the first byte not yet consumed by a complete line or body.
    var cursor = 0
    /// Absolute index where the search for the next LF resumes, so no byte is scanned twice.
    var scanIndex = 0
    var state: State = .requestLine
    var head = Head()

    public init(limits: HTTPParserLimits = HTTPParserLimits()) {
        self.limits = limits
    }

    /// Bytes received and not yet handed out as part of a request.
    public var bufferedByteCount: Int { buffer.count - messageStart }

    /// True once a head is complete and its body is still arriving: the server's body
    /// timeout applies instead of the header timeout.
    public var isReadingBody: Bool {
        switch state {
        case .fixedBody, .chunkSizeLine, .chunkData, .chunkDataEnd, .trailerLines: true
        case .requestLine, .fieldLines, .failed: false
        }
    }

    /// True when any byte of a next request has arrived.
    public var hasPartialRequest: Bool { buffer.count > messageStart }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compact()
        reserveSlack(forAppending: bytes.count)
        buffer.append(contentsOf: bytes)
    }

    public mutating func append<Bytes: Sequence<UInt8>>(contentsOf bytes: Bytes) {
        compact()
        reserveSlack(forAppending: bytes.underestimatedCount)
        buffer.append(contentsOf: bytes)
    }

    /// Bytes of spare capacity kept past the buffered ones, so a body that ends the buffer can
    /// still be read ahead by simdjson (its SIMDJSON_PADDING) in place: `bodyReadableSlackBytes`.
    static let readAheadSlackBytes = 64

    /// Grows geometrically, as append would, but to leave the slack.
    private mutating func reserveSlack(forAppending count: Int) {
        let needed = buffer.count + count + Self.readAheadSlackBytes
        if buffer.capacity < needed { buffer.reserveCapacity(Swift.max(needed, buffer.capacity * 2)) }
    }

    /// Drops the bytes of requests already handed out. Indices are shifted, the relative
    /// ranges of the message in progress are untouched.
    private mutating func compact() {
        guard messageStart > 0 else { return }
        buffer.removeSubrange(0..<messageStart)
        cursor -= messageStart
        scanIndex -= messageStart
        messageStart = 0
    }

    /// Parses as far as the buffered bytes allow.
    public mutating func next() -> HTTPParseResult {
        while true {
            switch state {
            case .failed(let error):
                return .error(error)

            case .requestLine:
                switch nextLine(limit: limits.maxRequestLineBytes, tooLong: .requestLineTooLong(limit: limits.maxRequestLineBytes)) {
                case .incomplete: return .needMoreData
                case .failure(let error): return fail(error)
                case .line(let line):
                    if line.isEmpty {
                        // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the
                        // request-line; we ignore them up to the request-line limit.
                        head.skippedEmptyLineBytes += 2
                        if head.skippedEmptyLineBytes > limits.maxRequestLineBytes {
                            return fail(.requestLineTooLong(limit: limits.maxRequestLineBytes))
                        }
                        messageStart = cursor
                        continue
                    }
                    if let error = parseRequestLine(line) { return fail(error) }
                    state = .fieldLines
                }

            case .fieldLines:
                let remaining = limits.maxHeaderBytes - head.headerBytes
                switch nextLine(limit: remaining - 2, tooLong: .headerSectionTooLarge(limit: limits.maxHeaderBytes)) {
                case .incomplete: return .needMoreData
                case .failure(let error): return fail(error)
                case .line(let line):
                    if line.isEmpty {
                        if let error = finishHead() { return fail(error) }
                        continue
                    }
                    head.headerBytes += line.count + 2
                    guard head.fields.count < limits.maxHeaderFields else {
                        return fail(.tooManyHeaderFields(limit: limits.maxHeaderFields))
                    }
                    switch parseFieldLine(line) {
                    case .failure(let error): return fail(error)
                    case .success(let entry):
                        head.fields.append(entry)
                        if let error = interpretField(entry) { return fail(error) }
                    }
                }

            case .fixedBody(let end):
                if shouldReportContinue() { return .continueExpected }
                guard buffer.count - messageStart >= end else { return .needMoreData }
                cursor = messageStart + end
                return complete(body: buffer[(messageStart + head.bodyStart)..<cursor], readableSlack: buffer.capacity - cursor)

            case .chunkSizeLine:
                if shouldReportContinue() { return .continueExpected }
                let lineStart = cursor
                switch nextLine(limit: limits.maxChunkLineBytes, tooLong: .chunkLineTooLong(limit: limits.maxChunkLineBytes)) {
                case .incomplete: return .needMoreData
                case .failure(let error): return fail(error)
                case .line(let line):
                    if let error = countFraming(cursor - lineStart) { return fail(error) }
                    switch parseChunkSizeLine(line) {
                    case .failure(let error): return fail(error)
                    case .success(let size):
                        if size == 0 {
                            state = .trailerLines
                        } else if head.chunkedBody.count + size > limits.maxBodyBytes {
                            return fail(.bodyTooLarge(limit: limits.maxBodyBytes))
                        } else {
                            head.chunkedBody.reserveCapacity(head.chunkedBody.count + size)
                            state = .chunkData(remaining: size)
                        }
                    }
                }

            case .chunkData(let remaining):
                let available = buffer.count - cursor
                let take = min(available, remaining)
                head.chunkedBody.append(contentsOf: buffer[cursor..<(cursor + take)])
                cursor += take
                scanIndex = cursor
                if take < remaining {
                    state = .chunkData(remaining: remaining - take)
                    return .needMoreData
                }
                state = .chunkDataEnd

            case .chunkDataEnd:
                // RFC 9112 §7.1: chunk = chunk-size [ chunk-ext ] CRLF chunk-data CRLF
                guard buffer.count - cursor >= 2 else {
                    if buffer.count > cursor && buffer[cursor] != ByteClass.cr { return fail(.invalidChunkTerminator) }
                    return .needMoreData
                }
                guard buffer[cursor] == ByteClass.cr && buffer[cursor + 1] == ByteClass.lf else {
                    return fail(.invalidChunkTerminator)
                }
                cursor += 2
                scanIndex = cursor
                if let error = countFraming(2) { return fail(error) }
                state = .chunkSizeLine

            case .trailerLines:
                // RFC 9112 §7.1.2: trailer-section = *( field-line CRLF ), then CRLF. Held to the
                // header limits; never used for framing (RFC 9110 §6.5.1).
                let remaining = limits.maxHeaderBytes - head.trailerBytes
                switch nextLine(limit: remaining - 2, tooLong: .headerSectionTooLarge(limit: limits.maxHeaderBytes)) {
                case .incomplete: return .needMoreData
                case .failure(let error): return fail(error)
                case .line(let line):
                    if line.isEmpty {
                        return complete(body: head.chunkedBody[...], readableSlack: head.chunkedBody.capacity - head.chunkedBody.count)
                    }
                    head.trailerBytes += line.count + 2
                    guard head.trailers.count < limits.maxHeaderFields else {
                        return fail(.tooManyHeaderFields(limit: limits.maxHeaderFields))
                    }
                    switch parseFieldLine(line) {
                    case .failure(let error): return fail(error)
                    case .success(let entry): head.trailers.append(entry)
                    }
                }
            }
        }
    }

    private mutating func fail(_ error: HTTPParseError) -> HTTPParseResult {
        state = .failed(error)
        return .error(error)
    }

    private mutating func countFraming(_ bytes: Int) -> HTTPParseError? {
        head.chunkFramingBytes += bytes
        return head.chunkFramingBytes > limits.maxChunkFramingBytes
            ? .chunkFramingTooLarge(limit: limits.maxChunkFramingBytes) : nil
    }

    private mutating func shouldReportContinue() -> Bool {
        guard head.expectContinue, !head.continueReported else { return false }
        head.continueReported = true
        // Only when the client is still waiting: no body byte has arrived yet.
        return buffer.count == messageStart + head.bodyStart
    }

    enum LineResult {
        case incomplete
        case line(Range<Int>)
        case failure(HTTPParseError)
    }

    /// Finds the next CRLF-terminated line, resuming the LF search where it last stopped.
    /// RFC 9112 §2.2: lines end in CRLF; we do not accept a bare LF (a smuggling vector when a
    /// proxy in front reads framing differently).
    mutating func nextLine(limit: Int, tooLong: HTTPParseError) -> LineResult {
        let end = buffer.count
        // Body bytes consumed since the last line never count as scanned line bytes.
        scanIndex = max(scanIndex, cursor)
        guard let lf = buffer[scanIndex..<end].firstIndex(of: ByteClass.lf) else {
            scanIndex = end
            // The partial line may already hold its CR, hence limit + 1.
            return end - cursor > max(limit, 0) + 1 ? .failure(tooLong) : .incomplete
        }
        let hasCR = lf > cursor && buffer[lf - 1] == ByteClass.cr
        let line = cursor..<(hasCR ? lf - 1 : lf)
        // The length is checked first so the outcome does not depend on how the bytes were
        // split into reads (a partial line is held to the same bound above).
        guard line.count <= max(limit, 0) else { return .failure(tooLong) }
        guard hasCR else { return .failure(.bareLineFeed) }
        cursor = lf + 1
        scanIndex = cursor
        return .line(line)
    }

    /// Hands out the finished request and resets for the next one.
    /// `readableSlack`: bytes allocated past the body's end in the storage `body` views.
    private mutating func complete(body: ArraySlice<UInt8>, readableSlack: Int) -> HTTPParseResult {
        let storage = buffer[messageStart..<cursor]
        let base = storage.startIndex
        let target = String(decoding: buffer[(base + head.target.lowerBound)..<(base + head.target.upperBound)], as: UTF8.self)
        // RFC 9112 §9.3: HTTP/1.1 is persistent unless "close"; HTTP/1.0 only with "keep-alive".
        let keepAlive = head.version == .http1_0
            ? (head.connectionKeepAlive && !head.connectionClose) : !head.connectionClose
        var request = HTTPRequest(
            method: head.method, target: target, version: head.version,
            headers: HTTPFields(storage: storage, entries: head.fields), body: body,
            trailers: HTTPFields(storage: storage, entries: head.trailers), keepAlive: keepAlive)
        request.bodyReadableSlackBytes = readableSlack
        messageStart = cursor
        scanIndex = cursor
        head = Head()
        state = .requestLine
        return .request(request)
    }
}
