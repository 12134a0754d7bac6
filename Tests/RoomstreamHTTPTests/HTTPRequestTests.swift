@testable import RoomstreamHTTP
import Testing

struct HTTPRequestTests {
    @Test func fieldLookupIsCaseInsensitiveAndKeepsOrder() {
        let request = HTTPRequest(method: .post, target: "/", fields: [("Content-Type", "application/json"), ("X-Key", "a"), ("x-key", "b")])
        #expect(request.headers["content-type"] == "application/json")
        #expect(request.headers["CONTENT-TYPE"] == "application/json")
        #expect(request.headers.values("X-KEY") == ["a", "b"])
        #expect(request.headers["missing"] == nil)
        #expect(request.headers.valueBytes("x-key").map { Array($0) } == Array("a".utf8))
        #expect(request.headers.map(\.name) == ["Content-Type", "X-Key", "x-key"])
    }

    @Test(arguments: ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "CONNECT", "TRACE", "PURGE"])
    func methodRoundTrips(_ name: String) {
        #expect(HTTPMethod(name).rawValue == name)
        #expect(HTTPMethod(bytes: Array(name.utf8)) == HTTPMethod(name))
    }

    @Test func methodsAreCaseSensitive() {
        #expect(HTTPMethod("get") == .other("get"))
    }
}
