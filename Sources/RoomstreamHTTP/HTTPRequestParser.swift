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

    /// The receive buffer: `buffer[0..<end]` holds received bytes; the rest is allocated and
    /// zero-filled room, so bytes can be read straight into it (`receive`) and a body that ends
    /// the received bytes still has simdjson's padding allocated past it.
    var buffer: [UInt8] = []
    /// Bytes received into `buffer`.
    var end = 0
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
    public var bufferedByteCount: Int { end - messageStart }

    /// True once a head is complete and its body is still arriving: the server's body
    /// timeout applies instead of the header timeout.
    public var isReadingBody: Bool {
        switch state {
        case .fixedBody, .chunkSizeLine, .chunkData, .chunkDataEnd, .trailerLines: true
        case .requestLine, .fieldLines, .failed: false
        }
    }

    /// True when any byte of a next request has arrived.
    public var hasPartialRequest: Bool { end > messageStart }

    /// The field lines of the request being parsed that were read so far: all of them once its
    /// head is complete (while its body arrives, or when it failed after the head, as a 413
    /// does), none before its first field line. For the answers the server gives before a
    /// request is handed out, which may depend on one of them (a CORS `Origin`). Empty
    /// between requests.
    public var partialFields: HTTPFields {
        HTTPFields(storage: buffer[messageStart..<end], entries: head.fields)
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        compact()
        makeRoom(for: bytes.count)
        // SAFETY: makeRoom left at least bytes.count bytes of the buffer past `end`.
        buffer.withUnsafeMutableBytes { room in
            UnsafeMutableRawBufferPointer(rebasing: room[end..<(end + bytes.count)]).copyMemory(from: bytes)
        }
        end += bytes.count
    }

    public mutating func append<Bytes: Sequence<UInt8>>(contentsOf bytes: Bytes) {
        let array = Array(bytes)
        array.withUnsafeBytes { append($0) }
    }

    /// Lets `read` write received bytes straight into the buffer's free room (no copy from a
    /// read buffer), up to `maximum` bytes, and returns what it returned. Returns nil without
    /// calling it when fewer than `minimum` bytes are free: the caller reads elsewhere and
    /// appends, which grows the buffer as needed. So the buffer grows only by what arrived,
    /// and an idle connection's buffer stays the size its largest request made it.
    public mutating func receive(minimum: Int, maximum: Int, _ read: (UnsafeMutableRawBufferPointer) -> Int) -> Int? {
        compact()
        let free = Swift.min(maximum, buffer.count - Self.readAheadSlackBytes - end)
        guard free >= Swift.max(1, minimum) else { return nil }
        // SAFETY: `read` gets the free room past `end`, short of the slack, and reports how
        // much of it it filled (or an error below 1); only that much is counted as received.
        let count = buffer.withUnsafeMutableBytes { room in read(UnsafeMutableRawBufferPointer(rebasing: room[end..<(end + free)])) }
        if count > 0 { end += Swift.min(count, free) }
        return count
    }

    /// Bytes of allocated room always kept past the received ones, so a body that ends the
    /// buffer can be read ahead by simdjson (its SIMDJSON_PADDING) in place:
    /// `HTTPRequest.bodyReadableSlackBytes`.
    static let readAheadSlackBytes = 64

    /// Grows the buffer geometrically (zero-filled) to hold `count` more bytes and the slack.
    private mutating func makeRoom(for count: Int) {
        let needed = end + count + Self.readAheadSlackBytes
        guard buffer.count < needed else { return }
        let grown = Swift.max(needed, buffer.count * 2)
        buffer.append(contentsOf: repeatElement(0, count: grown - buffer.count))
    }

    /// Drops the bytes of requests already handed out. Indices are shifted, the relative
    /// ranges of the message in progress are untouched.
    private mutating func compact() {
        guard messageStart > 0 else { return }
        let kept = end - messageStart
        if kept > 0 {
            // SAFETY: both ranges lie in buffer[0..<end]; copyMemory(from:) allows the source
            // and destination to overlap (memmove).
            buffer.withUnsafeMutableBytes { all in
                UnsafeMutableRawBufferPointer(rebasing: all[0..<kept]).copyMemory(from: UnsafeRawBufferPointer(rebasing: all[messageStart..<end]))
            }
        }
        end = kept
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
                guard self.end - messageStart >= end else { return .needMoreData }
                cursor = messageStart + end
                return complete(body: buffer[(messageStart + head.bodyStart)..<cursor], readableSlack: buffer.count - cursor)

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
                let available = end - cursor
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
                guard end - cursor >= 2 else {
                    if end > cursor && buffer[cursor] != ByteClass.cr { return fail(.invalidChunkTerminator) }
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
        return end == messageStart + head.bodyStart
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
        let end = self.end
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
