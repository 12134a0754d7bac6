/// Bounds the parser enforces. Each limit has its own error (see `HTTPParseError`) so the
/// server can answer with the status the RFCs name for it.
public struct HTTPParserLimits: Sendable, Equatable {
    /// Longest request line, without its CRLF. Exceeding it: `.requestLineTooLong` (414).
    public var maxRequestLineBytes: Int
    /// Largest header section: every field line plus its CRLF. Exceeding it:
    /// `.headerSectionTooLarge` (431). Trailer sections are held to the same bound.
    public var maxHeaderBytes: Int
    /// Most field lines in one header (or trailer) section. Exceeding it: `.tooManyHeaderFields` (431).
    public var maxHeaderFields: Int
    /// Largest body, declared (`Content-Length`) or decoded (chunked). Exceeding it: `.bodyTooLarge` (413),
    /// reported as soon as the declared length is known, before any body byte is read.
    public var maxBodyBytes: Int
    /// Longest chunk-size line (size plus extensions). Exceeding it: `.chunkLineTooLong` (400).
    public var maxChunkLineBytes: Int
    /// Bytes of chunked framing (size lines and CRLFs, not data) per message. Stops a client
    /// from growing the receive buffer with many tiny chunks. Exceeding it: `.chunkFramingTooLarge` (400).
    public var maxChunkFramingBytes: Int

    public init(
        maxRequestLineBytes: Int = 8 * 1024,
        maxHeaderBytes: Int = 32 * 1024,
        maxHeaderFields: Int = 100,
        maxBodyBytes: Int = 1024 * 1024,
        maxChunkLineBytes: Int = 4 * 1024,
        maxChunkFramingBytes: Int = 64 * 1024
    ) {
        self.maxRequestLineBytes = maxRequestLineBytes
        self.maxHeaderBytes = maxHeaderBytes
        self.maxHeaderFields = maxHeaderFields
        self.maxBodyBytes = maxBodyBytes
        self.maxChunkLineBytes = maxChunkLineBytes
        self.maxChunkFramingBytes = maxChunkFramingBytes
    }
}
