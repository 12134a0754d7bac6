import RoomstreamHTTP
@testable import RoomstreamServer
import TestSupport
import Testing

struct RouterTests {
    static func router() -> Router {
        var router = Router()
        router.add(.post, "/v1/rooms/{room_id}/peers/{peer_id}/samples") { request in
            .json(.accepted, "{\"room\":\(JSONString.quote(request.parameter("room_id"))),\"peer\":\(JSONString.quote(request.parameter("peer_id")))}")
        }
        router.add(.get, "/v1/rooms") { request in
            .json(.ok, "{\"state\":\(JSONString.quote(request.query["state"] ?? "")),\"n\":\(request.query.all("x").count)}")
        }
        router.add(.get, "/v1/rooms/{room_id}") { request in .json(.ok, JSONString.quote(request.parameter("room_id"))) }
        router.add(.delete, "/v1/rooms/{room_id}") { _ in HTTPResponse(status: .noContent) }
        router.add(.get, "/boom") { _ in throw APIError.badRequest("bad_thing", "a bad thing") }
        router.add(.get, "/crash") { _ in throw CancellationError() }
        return router
    }

    struct Case: Sendable, CustomTestStringConvertible {
        var method: HTTPMethod
        var target: String
        var status: Int
        var body: String?
        var allow: String?
        var testDescription: String { "\(method) \(target)" }
    }

    static let cases: [Case] = [
        Case(method: .post, target: "/v1/rooms/r1/peers/p1/samples", status: 202, body: #"{"room":"r1","peer":"p1"}"#),
        Case(method: .post, target: "/v1/rooms/a%20b/peers/%E2%9C%93/samples", status: 202, body: #"{"room":"a b","peer":"✓"}"#),
        Case(method: .post, target: "/v1/rooms/a%2Fb/peers/p/samples", status: 202, body: #"{"room":"a/b","peer":"p"}"#),
        Case(method: .post, target: "/v1/rooms/a+b/peers/p/samples", status: 202, body: #"{"room":"a+b","peer":"p"}"#),
        Case(method: .post, target: "/v1/rooms/%zz/peers/p/samples", status: 400, body: #"{"error":{"code":"invalid_path","message":"path segment '%zz' has invalid percent-encoding"}}"#),
        Case(method: .post, target: "/v1/rooms/%FF/peers/p/samples", status: 400),
        Case(method: .post, target: "/v1/rooms//peers/p/samples", status: 404),
        // Literal segments match decoded, as RFC 3986 §2.3 makes %72 and r the same unreserved character.
        Case(method: .post, target: "/v1/%72ooms/r1/peers/p1/%73amples", status: 202, body: #"{"room":"r1","peer":"p1"}"#),
        Case(method: .post, target: "/v1/roomz/r1/peers/p1/samples", status: 404),
        Case(method: .post, target: "/v1/rooms/r1/peers/p1/sample%73/x", status: 404),
        Case(method: .put, target: "/v1/room%73/r9", status: 405, allow: "GET, DELETE, HEAD, OPTIONS"),
        Case(method: .get, target: "/v1/rooms?state=live&x=1&x=2", status: 200, body: #"{"state":"live","n":2}"#),
        Case(method: .get, target: "/v1/rooms?state=a+b%21", status: 200, body: #"{"state":"a b!","n":0}"#),
        Case(method: .get, target: "/v1/rooms?state=%G", status: 400),
        Case(method: .get, target: "http://example.com/v1/rooms?state=abs", status: 200, body: #"{"state":"abs","n":0}"#),
        Case(method: .get, target: "/v1/rooms/r9", status: 200, body: #""r9""#),
        Case(method: .head, target: "/v1/rooms/r9", status: 200),
        Case(method: .put, target: "/v1/rooms/r9", status: 405, allow: "GET, DELETE, HEAD, OPTIONS"),
        Case(method: .options, target: "/v1/rooms/r9", status: 204, allow: "GET, DELETE, HEAD, OPTIONS"),
        Case(method: .options, target: "*", status: 204, allow: "POST, GET, DELETE, HEAD, OPTIONS"),
        Case(method: .get, target: "/v1/rooms/r9/", status: 404),
        // Past `PathSegments.maximumCount` segments no route can match; the ranges stay bounded.
        Case(method: .get, target: "/v1/rooms" + String(repeating: "/r", count: 40), status: 404),
        Case(method: .get, target: "/v1" + String(repeating: "/", count: 5000), status: 404),
        Case(method: .get, target: "/v1/rooms/%E2%9C%93", status: 200, body: #""✓""#),
        Case(method: .get, target: "/nope", status: 404, body: #"{"error":{"code":"not_found","message":"no route for GET /nope"}}"#),
        Case(method: .other("BREW"), target: "/v1/rooms", status: 501),
        Case(method: .get, target: "/boom", status: 400, body: #"{"error":{"code":"bad_thing","message":"a bad thing"}}"#),
        Case(method: .get, target: "/crash", status: 500, body: #"{"error":{"code":"internal_error","message":"the server failed to handle this request"}}"#),
    ]

    @Test("routing", arguments: cases)
    func routing(_ testCase: Case) {
        let response = Self.router().respond(to: HTTPRequest(method: testCase.method, target: testCase.target))
        #expect(response.status.code == testCase.status)
        if let body = testCase.body { #expect(String(decoding: response.body, as: UTF8.self) == body) }
        if let allow = testCase.allow { #expect(response.header("Allow") == allow) }
        if testCase.status >= 400 { #expect(response.header("Content-Type") == "application/json") }
    }

    /// The segments' ranges are exactly those `split` + `dropFirst` gave before.
    @Test(arguments: ["/", "", "/a", "/a/", "//", "/a//b/", "a/b", "/v1/rooms/r%2F1/peers/p/samples", "no-slash", "/é/ü", "///"])
    func pathSegmentsAreTheSplitOnSlash(_ path: String) {
        let expected = Array(path.utf8.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false).dropFirst()).map { Array($0) }
        let walked = Array(path.utf8).withUnsafeBufferPointer { bytes in PathSegments.ranges(in: bytes).map { Array(bytes[$0]) } }
        #expect(walked == expected)
    }

    @Test func unexpectedErrorsAreReported() {
        let seen = LockedBox<String>("")
        var router = Router { error, request in seen.set("\(request.target) \(type(of: error))") }
        router.add(.get, "/x") { _ in throw CancellationError() }
        _ = router.respond(to: HTTPRequest(method: .get, target: "/x"))
        #expect(seen.get() == "/x CancellationError")
    }

    @Test(arguments: [
        ("a%41", "aA"), ("%e2%9c%93", "✓"), ("plain", "plain"), ("%", nil), ("%4", nil), ("%C3%28", nil),
    ] as [(String, String?)])
    func percentDecoding(_ input: String, _ expected: String?) {
        #expect(PercentDecoding.decode(Substring(input)) == expected)
    }
}

