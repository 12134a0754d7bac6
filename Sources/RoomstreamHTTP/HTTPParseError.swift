/// Why a request could not be parsed. After any of these the connection cannot be trusted to
/// be in sync with the client, so the server answers once and closes (RFC 9112 §6.3, §9.6).
/// The HTTP status of each case is chosen in one place, in the server layer.
public enum HTTPParseError: Error, Equatable, Sendable {
    // Request line (RFC 9112 §3)
    case requestLineTooLong(limit: Int)
    case invalidRequestLine
    case invalidMethod
    case invalidRequestTarget
    case invalidVersion
    case unsupportedVersion(major: Int, minor: Int)
    // Framing of lines (RFC 9112 §2.2)
    case bareCarriageReturn
    case bareLineFeed
    case controlCharacter
    // Field lines (RFC 9112 §5)
    case headerSectionTooLarge(limit: Int)
    case tooManyHeaderFields(limit: Int)
    case obsoleteLineFolding
    case whitespaceBeforeColon
    case missingColon
    case invalidFieldName
    case invalidFieldValue
    case missingHost
    case multipleHost
    case invalidHost
    // Body framing (RFC 9112 §6)
    case invalidContentLength
    case multipleContentLength
    case contentLengthWithTransferEncoding
    case chunkedNotFinal
    case unsupportedTransferCoding
    case invalidTransferEncoding
    case transferEncodingInHTTP10
    case bodyTooLarge(limit: Int)
    // Chunked coding (RFC 9112 §7.1)
    case invalidChunkSize
    case invalidChunkExtension
    case invalidChunkTerminator
    case chunkLineTooLong(limit: Int)
    case chunkFramingTooLarge(limit: Int)
    // Expectations (RFC 9110 §10.1.1)
    case unsupportedExpectation

    /// Stable, machine-readable code for the JSON error body.
    public var code: String {
        switch self {
        case .requestLineTooLong: "request_line_too_long"
        case .invalidRequestLine: "invalid_request_line"
        case .invalidMethod: "invalid_method"
        case .invalidRequestTarget: "invalid_request_target"
        case .invalidVersion: "invalid_http_version"
        case .unsupportedVersion: "http_version_not_supported"
        case .bareCarriageReturn: "bare_carriage_return"
        case .bareLineFeed: "bare_line_feed"
        case .controlCharacter: "control_character"
        case .headerSectionTooLarge: "header_section_too_large"
        case .tooManyHeaderFields: "too_many_header_fields"
        case .obsoleteLineFolding: "obsolete_line_folding"
        case .whitespaceBeforeColon: "whitespace_before_colon"
        case .missingColon: "missing_colon"
        case .invalidFieldName: "invalid_field_name"
        case .invalidFieldValue: "invalid_field_value"
        case .missingHost: "missing_host"
        case .multipleHost: "multiple_host"
        case .invalidHost: "invalid_host"
        case .invalidContentLength: "invalid_content_length"
        case .multipleContentLength: "multiple_content_length"
        case .contentLengthWithTransferEncoding: "content_length_with_transfer_encoding"
        case .chunkedNotFinal: "chunked_not_final"
        case .unsupportedTransferCoding: "unsupported_transfer_coding"
        case .invalidTransferEncoding: "invalid_transfer_encoding"
        case .transferEncodingInHTTP10: "transfer_encoding_in_http10"
        case .bodyTooLarge: "body_too_large"
        case .invalidChunkSize: "invalid_chunk_size"
        case .invalidChunkExtension: "invalid_chunk_extension"
        case .invalidChunkTerminator: "invalid_chunk_terminator"
        case .chunkLineTooLong: "chunk_line_too_long"
        case .chunkFramingTooLarge: "chunk_framing_too_large"
        case .unsupportedExpectation: "unsupported_expectation"
        }
    }

    /// Human-readable explanation for the JSON error body.
    public var message: String {
        switch self {
        case .requestLineTooLong(let limit): "request line exceeds \(limit) bytes"
        case .invalidRequestLine: "request line must be 'METHOD SP target SP HTTP/x.y'"
        case .invalidMethod: "method must be a token"
        case .invalidRequestTarget: "request target contains characters not allowed in a URI"
        case .invalidVersion: "HTTP version must be 'HTTP/' DIGIT '.' DIGIT"
        case .unsupportedVersion(let major, let minor): "HTTP/\(major).\(minor) is not supported; use HTTP/1.1"
        case .bareCarriageReturn: "CR not followed by LF"
        case .bareLineFeed: "lines must end with CRLF, not a bare LF"
        case .controlCharacter: "control character or NUL in the request line or a field"
        case .headerSectionTooLarge(let limit): "header section exceeds \(limit) bytes"
        case .tooManyHeaderFields(let limit): "more than \(limit) header fields"
        case .obsoleteLineFolding: "obsolete line folding (a field line starting with whitespace) is not allowed"
        case .whitespaceBeforeColon: "whitespace between a field name and its colon is not allowed"
        case .missingColon: "field line has no colon"
        case .invalidFieldName: "field name must be a token"
        case .invalidFieldValue: "field value contains a character that is not allowed"
        case .missingHost: "HTTP/1.1 requests need a Host header"
        case .multipleHost: "more than one Host header"
        case .invalidHost: "Host header is not a valid host[:port]"
        case .invalidContentLength: "Content-Length must be a non-negative decimal number"
        case .multipleContentLength: "more than one Content-Length"
        case .contentLengthWithTransferEncoding: "Content-Length and Transfer-Encoding must not both be sent"
        case .chunkedNotFinal: "Transfer-Encoding must end with chunked"
        case .unsupportedTransferCoding: "only the chunked transfer coding is supported"
        case .invalidTransferEncoding: "Transfer-Encoding must be a list of tokens with chunked at most once"
        case .transferEncodingInHTTP10: "Transfer-Encoding is not allowed in HTTP/1.0"
        case .bodyTooLarge(let limit): "body exceeds \(limit) bytes"
        case .invalidChunkSize: "chunk size must be hexadecimal digits that fit in 63 bits"
        case .invalidChunkExtension: "malformed chunk extension"
        case .invalidChunkTerminator: "chunk data must be followed by CRLF"
        case .chunkLineTooLong(let limit): "chunk size line exceeds \(limit) bytes"
        case .chunkFramingTooLarge(let limit): "chunked framing exceeds \(limit) bytes"
        case .unsupportedExpectation: "only 'Expect: 100-continue' is supported"
        }
    }
}
