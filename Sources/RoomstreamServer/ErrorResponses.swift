import RoomstreamHTTP

/// The one place parser errors become HTTP statuses.
public enum ErrorResponses {
    public static func status(for error: HTTPParseError) -> HTTPStatus {
        switch error {
        case .requestLineTooLong: HTTPStatus(code: 414)
        case .headerSectionTooLarge, .tooManyHeaderFields: HTTPStatus(code: 431)
        case .bodyTooLarge: HTTPStatus(code: 413)
        case .unsupportedVersion: HTTPStatus(code: 505)
        case .unsupportedTransferCoding: HTTPStatus(code: 501)
        case .unsupportedExpectation: HTTPStatus(code: 417)
        case .invalidRequestLine, .invalidMethod, .invalidRequestTarget, .invalidVersion, .bareCarriageReturn,
             .bareLineFeed, .controlCharacter, .obsoleteLineFolding, .whitespaceBeforeColon, .missingColon,
             .invalidFieldName, .invalidFieldValue, .missingHost, .multipleHost, .invalidHost,
             .invalidContentLength, .multipleContentLength, .contentLengthWithTransferEncoding, .chunkedNotFinal,
             .invalidTransferEncoding, .transferEncodingInHTTP10, .invalidChunkSize, .invalidChunkExtension,
             .invalidChunkTerminator, .chunkLineTooLong, .chunkFramingTooLarge:
            .badRequest
        }
    }

    public static func response(for error: HTTPParseError) -> HTTPResponse {
        .error(status(for: error), code: error.code, message: error.message)
    }
}
