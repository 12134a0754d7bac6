import RoomstreamHTTP
import Testing

struct HTTPParserLimitsTests {
    @Test func defaultsAreTheDocumentedOnes() {
        let limits = HTTPParserLimits()
        #expect(limits.maxRequestLineBytes == 8192)
        #expect(limits.maxHeaderBytes == 32768)
        #expect(limits.maxHeaderFields == 100)
        #expect(limits.maxBodyBytes == 1_048_576)
    }
}
