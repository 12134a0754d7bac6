import Testing
@testable import RoomstreamHTTP

/// The grammar of request lines and field lines (RFC 9112 §2-§5), each case fed whole,
/// byte by byte and split at every position.
struct HTTPRequestParserLinesTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var name: String
        var raw: String
        var expected: ParseOutcome
        var testDescription: String { name }
    }

    static func get(_ target: String, headers: [String] = ["Host: a"], method: String = "GET", version: String = "HTTP/1.1") -> ParseOutcome {
        .request(.init(method: method, target: target, version: version, headers: headers))
    }

    static let cases: [Case] = [
        // Request line (RFC 9112 §3)
        Case(name: "origin-form with query", raw: "GET /v1/rooms?state=live&limit=5 HTTP/1.1\r\nHost: a\r\n\r\n", expected: get("/v1/rooms?state=live&limit=5")),
        Case(name: "absolute-form", raw: "GET http://a.example/x HTTP/1.1\r\nHost: a\r\n\r\n", expected: get("http://a.example/x")),
        Case(name: "asterisk-form for OPTIONS", raw: "OPTIONS * HTTP/1.1\r\nHost: a\r\n\r\n", expected: get("*", method: "OPTIONS")),
        Case(name: "asterisk-form for GET", raw: "GET * HTTP/1.1\r\nHost: a\r\n\r\n", expected: .error(.invalidRequestTarget)),
        Case(name: "authority-form for CONNECT", raw: "CONNECT a.example:443 HTTP/1.1\r\nHost: a.example:443\r\n\r\n", expected: get("a.example:443", headers: ["Host: a.example:443"], method: "CONNECT")),
        Case(name: "relative target", raw: "GET foo HTTP/1.1\r\nHost: a\r\n\r\n", expected: .error(.invalidRequestTarget)),
        Case(name: "extension method", raw: "PURGE /x HTTP/1.1\r\nHost: a\r\n\r\n", expected: get("/x", method: "PURGE")),
        Case(name: "lowercase method is a different token", raw: "get / HTTP/1.1\r\nHost: a\r\n\r\n", expected: get("/", method: "get")),
        Case(name: "invalid method character", raw: "GE(T / HTTP/1.1\r\nHost: a\r\n\r\n", expected: .error(.invalidMethod)),
        Case(name: "two spaces after method", raw: "GET  / HTTP/1.1\r\nHost: a\r\n\r\n", expected: .error(.invalidRequestLine)),
        Case(name: "tab as separator", raw: "GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n", expected: .error(.invalidRequestLine)),
        Case(name: "missing version", raw: "GET /\r\nHost: a\r\n\r\n", expected: .error(.invalidRequestLine)),
        Case(name: "trailing space after version", raw: "GET / HTTP/1.1 \r\nHost: a\r\n\r\n", expected: .error(.invalidRequestLine)),
        Case(name: "space inside target", raw: "GET /a b HTTP/1.1\r\nHost: a\r\n\r\n", expected: .error(.invalidRequestLine)),
        Case(name: "fragment in the path", raw: "GET /healthz#x HTTP/1.1\r\nHost: a\r\n\r\n", expected: .error(.invalidRequestTarget)),
        Case(name: "fragment after the query", raw: "GET /a?b=1#frag HTTP/1.1\r\nHost: a\r\n\r\n", expected: .error(.invalidRequestTarget)),
        Case(name: "fragment alone", raw: "GET # HTTP/1.1\r\nHost: a\r\n\r\n", expected: .error(.invalidRequestTarget)),
        Case(name: "non-ASCII target", raw: "GET /caf\u{e9} HTTP/1.1\r\nHost: a\r\n\r\n", expected: .error(.invalidRequestTarget)),
        Case(name: "NUL in target", raw: "GET /a\u{0}b HTTP/1.1\r\nHost: a\r\n\r\n", expected: .error(.controlCharacter)),
        Case(name: "control character in method", raw: "G\u{1}ET / HTTP/1.1\r\nHost: a\r\n\r\n", expected: .error(.controlCharacter)),
        Case(name: "DEL in request line", raw: "GET /\u{7f} HTTP/1.1\r\nHost: a\r\n\r\n", expected: .error(.controlCharacter)),
        Case(name: "bare CR in request line", raw: "GET /\r HTTP/1.1\r\nHost: a\r\n\r\n", expected: .error(.bareCarriageReturn)),
        Case(name: "bare LF ends the request line", raw: "GET / HTTP/1.1\nHost: a\r\n\r\n", expected: .error(.bareLineFeed)),
        Case(name: "lowercase protocol name", raw: "GET / http/1.1\r\nHost: a\r\n\r\n", expected: .error(.invalidVersion)),
        Case(name: "version with two digits", raw: "GET / HTTP/1.10\r\nHost: a\r\n\r\n", expected: .error(.invalidVersion)),
        Case(name: "version without minor", raw: "GET / HTTP/1\r\nHost: a\r\n\r\n", expected: .error(.invalidVersion)),
        Case(name: "HTTP/2.0 → 505", raw: "GET / HTTP/2.0\r\nHost: a\r\n\r\n", expected: .error(.unsupportedVersion(major: 2, minor: 0))),
        Case(name: "HTTP/0.9 → 505", raw: "GET / HTTP/0.9\r\n\r\n", expected: .error(.unsupportedVersion(major: 0, minor: 9))),
        Case(name: "HTTP/3.0 → 505", raw: "GET / HTTP/3.0\r\nHost: a\r\n\r\n", expected: .error(.unsupportedVersion(major: 3, minor: 0))),
        // Field lines (RFC 9112 §5)
        Case(name: "OWS around the value is trimmed", raw: "GET / HTTP/1.1\r\nHost: a\r\nX-A: \t v 1 \t\r\n\r\n", expected: get("/", headers: ["Host: a", "X-A: v 1"])),
        Case(name: "empty value", raw: "GET / HTTP/1.1\r\nHost: a\r\nX-A:\r\n\r\n", expected: get("/", headers: ["Host: a", "X-A: "])),
        Case(name: "obs-text in a value is kept", raw: "GET / HTTP/1.1\r\nHost: a\r\nX-A: caf\u{e9}\r\n\r\n", expected: get("/", headers: ["Host: a", "X-A: caf\u{e9}"])),
        Case(name: "obs-fold", raw: "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n 2\r\n\r\n", expected: .error(.obsoleteLineFolding)),
        Case(name: "obs-fold with tab", raw: "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r\n\t2\r\n\r\n", expected: .error(.obsoleteLineFolding)),
        Case(name: "whitespace before the first field", raw: "GET / HTTP/1.1\r\n Host: a\r\n\r\n", expected: .error(.obsoleteLineFolding)),
        Case(name: "space before colon", raw: "GET / HTTP/1.1\r\nHost : a\r\n\r\n", expected: .error(.whitespaceBeforeColon)),
        Case(name: "tab before colon", raw: "GET / HTTP/1.1\r\nHost\t: a\r\n\r\n", expected: .error(.whitespaceBeforeColon)),
        Case(name: "no colon", raw: "GET / HTTP/1.1\r\nHost a\r\n\r\n", expected: .error(.missingColon)),
        Case(name: "empty name", raw: "GET / HTTP/1.1\r\n: a\r\n\r\n", expected: .error(.invalidFieldName)),
        Case(name: "invalid token character in name", raw: "GET / HTTP/1.1\r\nHo@st: a\r\n\r\n", expected: .error(.invalidFieldName)),
        Case(name: "non-ASCII name", raw: "GET / HTTP/1.1\r\nH\u{e9}: a\r\n\r\n", expected: .error(.invalidFieldName)),
        Case(name: "NUL in a value", raw: "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\u{0}2\r\n\r\n", expected: .error(.controlCharacter)),
        Case(name: "NUL in a name", raw: "GET / HTTP/1.1\r\nX\u{0}A: 1\r\nHost: a\r\n\r\n", expected: .error(.controlCharacter)),
        Case(name: "escape character in a value", raw: "GET / HTTP/1.1\r\nHost: a\r\nX-A: \u{1b}[31m\r\n\r\n", expected: .error(.controlCharacter)),
        Case(name: "bare CR in a value", raw: "GET / HTTP/1.1\r\nHost: a\r\nX-A: 1\r2\r\n\r\n", expected: .error(.bareCarriageReturn)),
        Case(name: "bare LF ends a field", raw: "GET / HTTP/1.1\r\nHost: a\nX: 1\r\n\r\n", expected: .error(.bareLineFeed)),
        Case(name: "bare LF ends the head", raw: "GET / HTTP/1.1\r\nHost: a\r\n\n", expected: .error(.bareLineFeed)),
        // Host (RFC 9112 §3.2)
        Case(name: "missing Host in 1.1", raw: "GET / HTTP/1.1\r\nX-A: 1\r\n\r\n", expected: .error(.missingHost)),
        Case(name: "Host is optional in 1.0", raw: "GET / HTTP/1.0\r\n\r\n", expected: .request(.init(method: "GET", target: "/", version: "HTTP/1.0", keepAlive: false))),
        Case(name: "two Host fields", raw: "GET / HTTP/1.1\r\nHost: a\r\nhost: a\r\n\r\n", expected: .error(.multipleHost)),
        Case(name: "Host with a path", raw: "GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", expected: .error(.invalidHost)),
        Case(name: "Host with a space", raw: "GET / HTTP/1.1\r\nHost: a b\r\n\r\n", expected: .error(.invalidHost)),
        Case(name: "Host with userinfo", raw: "GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", expected: .error(.invalidHost)),
        Case(name: "empty Host is valid", raw: "GET / HTTP/1.1\r\nHost:\r\n\r\n", expected: get("/", headers: ["Host: "])),
        Case(name: "Host with IPv6 literal and port", raw: "GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n", expected: get("/", headers: ["Host: [::1]:8080"])),
        Case(name: "Host name is case-insensitive", raw: "GET / HTTP/1.1\r\nHOST: a\r\n\r\n", expected: get("/", headers: ["HOST: a"])),
    ]

    @Test("lines, every feeding", arguments: cases)
    func line(_ testCase: Case) {
        expectSameOutcomeForEveryFeeding(Array(testCase.raw.utf8), [testCase.expected])
    }
}
