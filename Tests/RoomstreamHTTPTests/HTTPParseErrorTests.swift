@testable import RoomstreamHTTP
import Testing

struct HTTPParseErrorTests {
    static let all: [HTTPParseError] = [
        .requestLineTooLong(limit: 1), .invalidRequestLine, .invalidMethod, .invalidRequestTarget, .invalidVersion,
        .unsupportedVersion(major: 2, minor: 0), .bareCarriageReturn, .bareLineFeed, .controlCharacter,
        .headerSectionTooLarge(limit: 1), .tooManyHeaderFields(limit: 1), .obsoleteLineFolding, .whitespaceBeforeColon,
        .missingColon, .invalidFieldName, .invalidFieldValue, .missingHost, .multipleHost, .invalidHost,
        .invalidContentLength, .multipleContentLength, .contentLengthWithTransferEncoding, .chunkedNotFinal,
        .unsupportedTransferCoding, .invalidTransferEncoding, .transferEncodingInHTTP10, .bodyTooLarge(limit: 1),
        .invalidChunkSize, .invalidChunkExtension, .invalidChunkTerminator, .chunkLineTooLong(limit: 1),
        .chunkFramingTooLarge(limit: 1), .unsupportedExpectation,
    ]

    @Test func codesAreUniqueSnakeCase() {
        let codes = Self.all.map(\.code)
        #expect(Set(codes).count == codes.count)
        #expect(codes.allSatisfy { $0.allSatisfy { $0.isLowercase || $0 == "_" || $0.isNumber } })
    }

    @Test func messagesNameTheLimit() {
        #expect(HTTPParseError.bodyTooLarge(limit: 1_048_576).message == "body exceeds 1048576 bytes")
        #expect(Self.all.allSatisfy { !$0.message.isEmpty })
    }
}
