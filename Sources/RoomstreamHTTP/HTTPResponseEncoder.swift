/// Serializes response heads (RFC 9112 §4 status-line, §5 fields). The body is written
/// separately, in the same `writev`, so it is never copied.
public enum HTTPResponseEncoder {
    /// RFC 9110 §10.1.1: the interim response that lets an `Expect: 100-continue` client send its body.
    public static let continueHead: [UInt8] = Array("HTTP/1.1 100 Continue\r\n\r\n".utf8)

    /// Appends the status line and header section to `out`.
    /// - Parameters:
    ///   - date: the IMF-fixdate for the `Date` field (RFC 9110 §6.6.1), cached by the caller.
    ///   - close: adds `Connection: close` (RFC 9112 §9.6) when the server closes after this response.
    ///   - requestVersion: a persistent HTTP/1.0 connection needs an explicit `Connection: keep-alive`.
    public static func encodeHead(
        _ response: HTTPResponse, date: String, close: Bool, requestVersion: HTTPVersion, into out: inout [UInt8]
    ) {
        // RFC 9110 §6.2: a server sends the highest minor version it supports, HTTP/1.1.
        out.append(contentsOf: "HTTP/1.1 ".utf8)
        ASCII.appendDecimal(response.status.code, to: &out)
        out.append(ByteClass.space)
        appendSanitized(response.status.reason, to: &out)
        out.append(contentsOf: "\r\nDate: ".utf8)
        out.append(contentsOf: date.utf8)
        // RFC 9110 §8.6: no Content-Length in 1xx and 204 responses; in a 304 it could only be
        // the 200's length, which the encoder does not know, so none (the 304 has no content).
        let code = response.status.code
        if code >= 200 && code != 204 && code != 304 {
            out.append(contentsOf: "\r\nContent-Length: ".utf8)
            ASCII.appendDecimal(response.body.count, to: &out)
        }
        if close {
            out.append(contentsOf: "\r\nConnection: close".utf8)
        } else if requestVersion == .http1_0 {
            out.append(contentsOf: "\r\nConnection: keep-alive".utf8)
        }
        for field in response.headers {
            out.append(contentsOf: "\r\n".utf8)
            appendSanitized(field.name, to: &out)
            out.append(contentsOf: ": ".utf8)
            appendSanitized(field.value, to: &out)
        }
        out.append(contentsOf: "\r\n\r\n".utf8)
    }

    /// Response splitting guard: a CR or LF from a handler value becomes a space. Values
    /// without one (all of them, in practice) are copied whole: appending byte by byte was the
    /// largest user-space item of a `/healthz` request (2.9 % of its CPU).
    private static func appendSanitized(_ string: String, to out: inout [UInt8]) {
        var string = string
        string.withUTF8 { bytes in
            guard bytes.contains(where: { $0 == ByteClass.cr || $0 == ByteClass.lf }) else {
                out.append(contentsOf: bytes)
                return
            }
            for byte in bytes { out.append(byte == ByteClass.cr || byte == ByteClass.lf ? ByteClass.space : byte) }
        }
    }

}

/// IMF-fixdate (RFC 9110 §5.6.7), e.g. `Sun, 06 Nov 1994 08:49:37 GMT`, computed without
/// Foundation's formatters (they cost microseconds per call).
public enum HTTPDate {
    private static let weekdays = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]  // 1970-01-01 was a Thursday
    private static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    public static func imfFixdate(epochSeconds: Int) -> String {
        let (days, secondsOfDay) = CivilDate.split(epochSeconds: epochSeconds)
        let (year, month, day) = CivilDate.from(daysSinceEpoch: days)
        let weekday = weekdays[((days % 7) + 7) % 7]
        func two(_ n: Int) -> String { TextFormat.padded(n, width: 2) }
        return "\(weekday), \(two(day)) \(months[month - 1]) \(year) \(two(secondsOfDay / 3600)):\(two(secondsOfDay / 60 % 60)):\(two(secondsOfDay % 60)) GMT"
    }
}
