import RoomstreamHTTP
@testable import RoomstreamServer
import Testing

struct ErrorResponsesTests {
    @Test(arguments: [
        (HTTPParseError.requestLineTooLong(limit: 1), 414), (.headerSectionTooLarge(limit: 1), 431),
        (.tooManyHeaderFields(limit: 1), 431), (.bodyTooLarge(limit: 1), 413), (.unsupportedVersion(major: 2, minor: 0), 505),
        (.unsupportedTransferCoding, 501), (.unsupportedExpectation, 417), (.contentLengthWithTransferEncoding, 400),
        (.obsoleteLineFolding, 400), (.missingHost, 400), (.invalidChunkSize, 400), (.controlCharacter, 400),
    ])
    func statusOfEachParseError(_ error: HTTPParseError, _ status: Int) {
        #expect(ErrorResponses.status(for: error).code == status)
        let response = ErrorResponses.response(for: error)
        #expect(String(decoding: response.body, as: UTF8.self) == "{\"error\":{\"code\":\"\(error.code)\",\"message\":\"\(error.message)\"}}")
    }

    @Test func apiErrorsCarryTheirHeaders() {
        let error = APIError.serviceUnavailable("draining", "shutting down", retryAfterSeconds: 5)
        #expect(error.response.status.code == 503)
        #expect(error.response.header("Retry-After") == "5")
        #expect(APIError.methodNotAllowed(.put, allow: [.get, .head]).response.header("Allow") == "GET, HEAD")
    }
}
