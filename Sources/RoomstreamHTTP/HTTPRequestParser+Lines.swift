/// The grammar of each kind of line, applied once to a complete line (CRLF excluded).
extension HTTPRequestParser {
    /// RFC 9112 §3: request-line = method SP request-target SP HTTP-version
    mutating func parseRequestLine(_ line: Range<Int>) -> HTTPParseError? {
        if let error = checkControls(line) { return error }
        var index = line.lowerBound
        // RFC 9110 §9.1: method = token
        while index < line.upperBound, ByteClass.isToken(buffer[index]) { index += 1 }
        guard index > line.lowerBound else { return .invalidRequestLine }
        guard index < line.upperBound else { return .invalidRequestLine }
        guard buffer[index] == ByteClass.space else {
            return ByteClass.isWhitespace(buffer[index]) ? .invalidRequestLine : .invalidMethod
        }
        head.method = HTTPMethod(bytes: buffer[line.lowerBound..<index])
        index += 1  // exactly one SP (RFC 9112 §3)

        // RFC 9112 §3.2: request-target, no whitespace inside
        let targetStart = index
        while index < line.upperBound, ByteClass.isTarget(buffer[index]) { index += 1 }
        guard index < line.upperBound else { return .invalidRequestLine }
        guard buffer[index] == ByteClass.space else {
            return ByteClass.isWhitespace(buffer[index]) ? .invalidRequestLine : .invalidRequestTarget
        }
        guard index > targetStart else { return .invalidRequestLine }  // an empty target
        if let error = checkTargetForm(targetStart..<index) { return error }
        head.target = (targetStart - messageStart)..<(index - messageStart)
        index += 1

        // RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT
        let version = buffer[index..<line.upperBound]
        guard version.count == 8, version.starts(with: "HTTP/".utf8) else {
            return version.contains(ByteClass.space) ? .invalidRequestLine : .invalidVersion
        }
        let major = version[index + 5], dot = version[index + 6], minor = version[index + 7]
        guard (0x30...0x39).contains(major), dot == 0x2E, (0x30...0x39).contains(minor) else { return .invalidVersion }
        let majorValue = Int(major - 0x30), minorValue = Int(minor - 0x30)
        // RFC 9110 §6.2 / §2.5: another major version is not ours (505); a higher 1.x minor
        // version is processed as the highest one we implement, 1.1.
        guard majorValue == 1 else { return .unsupportedVersion(major: majorValue, minor: minorValue) }
        head.version = minorValue == 0 ? .http1_0 : .http1_1
        return nil
    }

    /// RFC 9112 §3.2: origin-form ("/path"), absolute-form ("http://host/path"),
    /// authority-form (CONNECT only) and asterisk-form (OPTIONS only).
    private func checkTargetForm(_ target: Range<Int>) -> HTTPParseError? {
        let first = buffer[target.lowerBound]
        if first == 0x2F { return nil }  // "/"
        if head.method == .connect { return nil }
        if target.count == 1 && first == 0x2A { return head.method == .options ? nil : .invalidRequestTarget }  // "*"
        // absolute-form: scheme "://" (RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ))
        var index = target.lowerBound
        while index < target.upperBound {
            let b = buffer[index]
            let isSchemeChar = (b >= 0x41 && b <= 0x5A) || (b >= 0x61 && b <= 0x7A) || (index > target.lowerBound && ((b >= 0x30 && b <= 0x39) || b == 0x2B || b == 0x2D || b == 0x2E))
            if !isSchemeChar { break }
            index += 1
        }
        if index > target.lowerBound, buffer[index..<target.upperBound].starts(with: "://".utf8) { return nil }
        return .invalidRequestTarget
    }

    /// Control characters (other than HTAB) and NUL are never valid in a line; a CR here is not
    /// part of the CRLF that ended it (RFC 9112 §2.2).
    private func checkControls(_ line: Range<Int>) -> HTTPParseError? {
        for index in line where ByteClass.isForbiddenControl(buffer[index]) {
            return buffer[index] == ByteClass.cr ? .bareCarriageReturn : .controlCharacter
        }
        return nil
    }

    /// RFC 9112 §5: field-line = field-name ":" OWS field-value OWS
    mutating func parseFieldLine(_ line: Range<Int>) -> Result<HTTPFields.Entry, HTTPParseError> {
        // RFC 9112 §5.2: obs-fold (a line starting with SP or HTAB) is rejected. This also
        // covers whitespace between the start-line and the first field (§2.2).
        if ByteClass.isWhitespace(buffer[line.lowerBound]) { return .failure(.obsoleteLineFolding) }
        if let error = checkControls(line) { return .failure(error) }
        var index = line.lowerBound
        while index < line.upperBound, ByteClass.isToken(buffer[index]) { index += 1 }
        let nameEnd = index
        guard index < line.upperBound, buffer[index] == ByteClass.colon else {
            // RFC 9112 §5.1: no whitespace is allowed between the field name and colon.
            if index < line.upperBound, ByteClass.isWhitespace(buffer[index]) {
                var rest = index
                while rest < line.upperBound, ByteClass.isWhitespace(buffer[rest]) { rest += 1 }
                if rest < line.upperBound, buffer[rest] == ByteClass.colon, nameEnd > line.lowerBound {
                    return .failure(.whitespaceBeforeColon)
                }
            }
            return .failure(buffer[line].contains(ByteClass.colon) ? .invalidFieldName : .missingColon)
        }
        guard nameEnd > line.lowerBound else { return .failure(.invalidFieldName) }
        index += 1
        var valueStart = index, valueEnd = line.upperBound
        while valueStart < valueEnd, ByteClass.isWhitespace(buffer[valueStart]) { valueStart += 1 }
        while valueEnd > valueStart, ByteClass.isWhitespace(buffer[valueEnd - 1]) { valueEnd -= 1 }
        // RFC 9110 §5.5: field-value = *field-content (VCHAR, obs-text, SP, HTAB); controls
        // were rejected above, so every remaining byte is allowed.
        return .success(HTTPFields.Entry(
            name: (line.lowerBound - messageStart)..<(nameEnd - messageStart),
            value: (valueStart - messageStart)..<(valueEnd - messageStart)))
    }

    private func fieldName(_ entry: HTTPFields.Entry, is lowercasedName: StaticString) -> Bool {
        guard entry.name.count == lowercasedName.utf8CodeUnitCount else { return false }
        // SAFETY: a StaticString's bytes are immutable and live for the whole program.
        let expected = UnsafeBufferPointer(start: lowercasedName.utf8Start, count: lowercasedName.utf8CodeUnitCount)
        var index = messageStart + entry.name.lowerBound
        for byte in expected {
            if ASCII.lowercased(buffer[index]) != byte { return false }
            index += 1
        }
        return true
    }

    /// Splits a list-valued field (RFC 9110 §5.6.1) into lowercased, OWS-trimmed members.
    private func listMembers(_ entry: HTTPFields.Entry) -> [String] {
        let value = buffer[(messageStart + entry.value.lowerBound)..<(messageStart + entry.value.upperBound)]
        return value.split(separator: 0x2C, omittingEmptySubsequences: true).compactMap { member in
            let trimmed = ASCII.trimmingWhitespace(member)
            return trimmed.isEmpty ? nil : String(decoding: trimmed.map(ASCII.lowercased), as: UTF8.self)
        }
    }

    /// Records the fields that frame the message or the connection as they arrive.
    mutating func interpretField(_ entry: HTTPFields.Entry) -> HTTPParseError? {
        let value = buffer[(messageStart + entry.value.lowerBound)..<(messageStart + entry.value.upperBound)]
        switch entry.name.count {
        case 4 where fieldName(entry, is: "host"):
            // RFC 9112 §3.2: more than one Host, or an invalid one, is a 400.
            head.hostCount += 1
            if head.hostCount > 1 { return .multipleHost }
            if !value.allSatisfy(ByteClass.isHost) { return .invalidHost }
        case 14 where fieldName(entry, is: "content-length"):
            // RFC 9110 §8.6: Content-Length = 1*DIGIT. We reject every duplicate, even an
            // identical one, and any sign, space or overflow (RFC 9112 §6.3 item 5).
            if head.contentLength != nil { return .multipleContentLength }
            guard !value.isEmpty, value.count <= 18, value.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else {
                return .invalidContentLength
            }
            head.contentLength = value.reduce(0) { $0 * 10 + Int($1 - 0x30) }
        case 17 where fieldName(entry, is: "transfer-encoding"):
            // RFC 9112 §6.1: several Transfer-Encoding lines form one list.
            head.transferCodings = (head.transferCodings ?? []) + listMembers(entry)
        case 10 where fieldName(entry, is: "connection"):
            // RFC 9110 §7.6.1: Connection = #connection-option
            for option in listMembers(entry) {
                if option == "close" { head.connectionClose = true }
                if option == "keep-alive" { head.connectionKeepAlive = true }
            }
        case 6 where fieldName(entry, is: "expect"):
            // RFC 9110 §10.1.1: only 100-continue is defined.
            for expectation in listMembers(entry) {
                if expectation == "100-continue" { head.expectContinue = true } else { head.unsupportedExpectation = true }
            }
        default:
            break
        }
        return nil
    }

    /// The header section is complete: decide how the body is framed (RFC 9112 §6.3).
    mutating func finishHead() -> HTTPParseError? {
        // RFC 9112 §3.2: a server MUST respond 400 to an HTTP/1.1 request without Host.
        if head.version == .http1_1 && head.hostCount == 0 { return .missingHost }
        head.bodyStart = cursor - messageStart
        // RFC 9110 §10.1.1: an HTTP/1.0 client cannot understand 100 Continue; ignore expectations.
        if head.version == .http1_0 {
            head.expectContinue = false
            head.unsupportedExpectation = false
        }
        if let codings = head.transferCodings {
            // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 request is faulty framing.
            if head.version == .http1_0 { return .transferEncodingInHTTP10 }
            // RFC 9112 §6.3 item 3: both present is a smuggling attempt; reject and close.
            if head.contentLength != nil { return .contentLengthWithTransferEncoding }
            guard codings.allSatisfy({ $0.utf8.allSatisfy(ByteClass.isToken) }),
                  codings.filter({ $0 == "chunked" }).count <= 1
            else { return .invalidTransferEncoding }
            // RFC 9112 §6.3 item 4: if chunked is not the final coding, 400 and close.
            guard codings.last == "chunked" else { return .chunkedNotFinal }
            // RFC 9112 §6.1: a coding we do not understand SHOULD get 501.
            guard codings.count == 1 else { return .unsupportedTransferCoding }
            if head.unsupportedExpectation { return .unsupportedExpectation }
            state = .chunkSizeLine
            return nil
        }
        let length = head.contentLength ?? 0  // RFC 9112 §6.3 item 6: no framing fields, no body
        if length > limits.maxBodyBytes { return .bodyTooLarge(limit: limits.maxBodyBytes) }
        if head.unsupportedExpectation { return .unsupportedExpectation }
        if length == 0 { head.expectContinue = false }
        state = .fixedBody(end: head.bodyStart + length)
        return nil
    }

    /// RFC 9112 §7.1: chunk-size [ chunk-ext ] where chunk-size = 1*HEXDIG and
    /// chunk-ext = *( BWS ";" BWS chunk-ext-name [ BWS "=" BWS chunk-ext-val ] ).
    /// Extensions are validated and ignored (§7.1.1).
    func parseChunkSizeLine(_ line: Range<Int>) -> Result<Int, HTTPParseError> {
        if let error = checkControls(line) { return .failure(error) }
        var index = line.lowerBound
        var size = 0
        while index < line.upperBound, let digit = ByteClass.hexValue(buffer[index]) {
            guard size <= (Int.max - digit) / 16 else { return .failure(.invalidChunkSize) }
            size = size * 16 + digit
            index += 1
        }
        guard index > line.lowerBound else { return .failure(.invalidChunkSize) }
        func skipWhitespace() { while index < line.upperBound, ByteClass.isWhitespace(buffer[index]) { index += 1 } }
        func skipToken() -> Bool {
            let start = index
            while index < line.upperBound, ByteClass.isToken(buffer[index]) { index += 1 }
            return index > start
        }
        skipWhitespace()
        if index < line.upperBound, buffer[index] != 0x3B { return .failure(.invalidChunkSize) }
        while index < line.upperBound {
            guard buffer[index] == 0x3B else { return .failure(.invalidChunkExtension) }  // ";"
            index += 1
            skipWhitespace()
            guard skipToken() else { return .failure(.invalidChunkExtension) }
            skipWhitespace()
            if index < line.upperBound, buffer[index] == 0x3D {  // "="
                index += 1
                skipWhitespace()
                if index < line.upperBound, buffer[index] == 0x22 {  // quoted-string (RFC 9110 §5.6.4)
                    index += 1
                    var closed = false
                    while index < line.upperBound {
                        let b = buffer[index]
                        index += 1
                        if b == 0x22 { closed = true; break }
                        if b == 0x5C { index += 1 }  // quoted-pair
                    }
                    guard closed, index <= line.upperBound else { return .failure(.invalidChunkExtension) }
                } else if !skipToken() {
                    return .failure(.invalidChunkExtension)
                }
                skipWhitespace()
            }
        }
        return .success(size)
    }
}
