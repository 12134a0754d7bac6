@testable import RoomstreamHTTP
import Testing

struct HTTPResponseTests {
    @Test func errorShape() {
        let response = HTTPResponse.error(.notFound, code: "not_found", message: "no \"room\"")
        #expect(response.status.code == 404)
        #expect(response.header("content-type") == "application/json")
        #expect(String(decoding: response.body, as: UTF8.self) == #"{"error":{"code":"not_found","message":"no \"room\""}}"#)
    }

    @Test func reasonPhrases() {
        #expect(HTTPStatus(code: 431).reason == "Request Header Fields Too Large")
        #expect(HTTPStatus(code: 599).reason == "Unknown")
    }
}
