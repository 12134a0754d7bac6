import RoomstreamCore
import RoomstreamHTTP
import RoomstreamIngest
import RoomstreamServer
import RoomstreamStreams

/// What a 2xx on ingest promises: the request survives a crash (docs/durability.md). It is in
/// the write-ahead log before the answer goes, and ingest refuses (503) while that cannot be
/// kept: the log or the checkpoint cannot be written (disk full, I/O error), or the log holds
/// more than its bound since the last checkpoint. It recovers by itself with the next
/// checkpoint that succeeds (the timer retries; a full log triggers one at once).
struct IngestDurability: Sendable {
    var checkpoint: RegistryCheckpoint?
    var log: WriteAheadLog?
    var maxUncheckpointedLogBytes = Int.max
    /// Past this a checkpoint starts at once and ingest goes on: without it, ingest at 28,000
    /// requests/s (30 MB/s of log, `make bench` on one node) reached the default 256 MiB in
    /// 8.5 s, before the 10 s timer, and hundreds of requests got 503 while the checkpoint the
    /// bound triggered was written.
    var earlyCheckpointLogBytes = Int.max
    var checkpointSoon: @Sendable () -> Void = {}
    var retryAfterSeconds = 10

    func requireStorage() throws(APIError) {
        if let failure = log?.failure ?? checkpoint?.lastFailure {
            throw .serviceUnavailable("storage_unavailable", "the live state cannot be saved (\(failure)); try again later", retryAfterSeconds: retryAfterSeconds)
        }
        if let log {
            let uncheckpointed = log.uncheckpointedBytes
            if uncheckpointed > min(earlyCheckpointLogBytes, maxUncheckpointedLogBytes) { checkpointSoon() }
            if uncheckpointed > maxUncheckpointedLogBytes {
                throw .serviceUnavailable("storage_busy", "the write-ahead log holds more than durability.max_log_mib since the last checkpoint; try again shortly",
                                          retryAfterSeconds: 1)
            }
        }
    }

    /// The response, sent once the log has the request's record (at once without a log).
    func afterLogged(_ outcome: IngestOutcome, _ response: HTTPResponse) -> HTTPResponse {
        guard let log, let position = outcome.logPosition else { return response }
        let retryAfter = retryAfterSeconds
        return .deferred { complete in
            log.whenWritten(position) { written in
                // The change is applied in memory and the next checkpoint keeps it; the client
                // is told to retry (samples are de-duplicated by seq).
                complete(written ? response : APIError.serviceUnavailable(
                    "storage_unavailable", "the request could not be written to the write-ahead log; try again later", retryAfterSeconds: retryAfter).response)
            }
        }
    }
}

/// `POST /v1/rooms/{room_id}/peers/{peer_id}/samples` and `…/leave` (ingest-api.md).
struct IngestRoutes: Sendable {
    let registry: RoomRegistry
    let authorization: Authorization
    let clock: any WallClock
    let maxDecompressedBytes: Int
    var durability = IngestDurability()
    var cors = IngestCORS(origins: ["*"])
    var rateLimits = IngestRateLimits(configuration: IngestRateLimitConfiguration())
    var clientAddress = ClientAddressResolver()
    var metrics: ServiceMetrics?
    var locator = GeoLocator()
    let limits = IngestLimits()

    /// Rate limits first (per client address before the key is even checked, so a flood of
    /// wrong keys is limited too), then the key, then its own limit.
    /// Returns the client's address.
    @discardableResult
    func admit(_ request: RoutedRequest) throws(APIError) -> IPAddress? {
        let now = clock.nowMilliseconds() / 1000
        let address = clientAddress.clientAddress(request.http)
        try rateLimits.checkAddress(address, now: now)
        let key = try authorization.requireIngestKey(request)
        try rateLimits.checkKey(key, now: now)
        return address
    }

    func requireStorage() throws(APIError) { try durability.requireStorage() }

    /// The handler with its refusals counted by error code (metrics).
    func counted(_ handler: @escaping @Sendable (RoutedRequest) throws(APIError) -> HTTPResponse) -> @Sendable (RoutedRequest) throws(APIError) -> HTTPResponse {
        guard let metrics else { return handler }
        return { request throws(APIError) in
            do throws(APIError) {
                return try handler(request)
            } catch {
                metrics.ingestRejected(code: error.code)
                throw error
            }
        }
    }

    func register(on router: inout Router) {
        let handlers: [(String, @Sendable (RoutedRequest) throws(APIError) -> HTTPResponse)] = [
            ("/v1/rooms/{room_id}/peers/{peer_id}/samples", { [self] request throws(APIError) in try samples(request) }),
            ("/v1/rooms/{room_id}/peers/{peer_id}/leave", { [self] request throws(APIError) in try leave(request) }),
        ]
        for (path, handler) in handlers {
            // Wrapped once here, not per request: each wrap allocates a closure holding a copy of
            // these routes (the profile showed it at 1 % of ingest CPU).
            let counted = self.counted(handler)
            let cors = self.cors
            router.add(.post, path) { request in try cors.handle(request, counted) }
            router.add(.options, path) { request in try cors.preflight(request) }
        }
    }

    /// ingest-api.md: ids are 1–256 bytes, percent-decoded, UTF-8, without control characters.
    static func validID(_ value: String, field: String) throws(APIError) -> String {
        guard !value.isEmpty, value.utf8.count <= 256 else {
            throw .badRequest("invalid_\(field)", "\(field) must be 1-256 bytes")
        }
        guard !containsControl(value) else {
            throw .badRequest("invalid_\(field)", "\(field) must not contain control characters")
        }
        return value
    }

    /// Whether the string holds a control character (general category Cc: U+0000–U+001F,
    /// U+007F–U+009F). On UTF-8 bytes: C0 and DEL are single bytes, C1 is 0xC2 0x80–0x9F.
    static func containsControl(_ value: String) -> Bool {
        var afterC2 = false
        for b in value.utf8 {
            if b < 0x20 || b == 0x7F || (afterC2 && b <= 0x9F) { return true }
            afterC2 = b == 0xC2
        }
        return false
    }

    /// The media type of `Content-Type` (RFC 9110 §8.3.1: before any `;` parameters, OWS
    /// trimmed, case-insensitive), compared on bytes.
    static func mediaTypeIs(_ headers: HTTPFields, _ expected: String) -> Bool {
        guard let value = headers.valueBytes("content-type") else { return false }
        let type = value[..<(value.firstIndex(of: UInt8(ascii: ";")) ?? value.endIndex)]
        return ASCII.equalsIgnoringCase(ASCII.trimmingWhitespace(type), expected.utf8)
    }

    /// `Content-Encoding` (RFC 9110 §8.4): absent or `identity`, or `gzip`; anything else is 415.
    static func isGzip(_ headers: HTTPFields) throws(APIError) -> Bool {
        guard let value = headers.valueBytes("content-encoding").map(ASCII.trimmingWhitespace) else { return false }
        if ASCII.equalsIgnoringCase(value, "gzip".utf8) { return true }
        if ASCII.equalsIgnoringCase(value, "identity".utf8) { return false }
        throw AppErrors.unsupportedEncoding
    }

    func samples(_ request: RoutedRequest) throws(APIError) -> HTTPResponse {
        let address = try admit(request)
        try requireStorage()
        let roomID = try Self.validID(request.parameter("room_id"), field: "room_id")
        let peerID = try Self.validID(request.parameter("peer_id"), field: "peer_id")
        // sendBeacon sends text/plain; both are parsed as JSON.
        let headers = request.http.headers
        guard Self.mediaTypeIs(headers, "application/json") || Self.mediaTypeIs(headers, "text/plain") else { throw AppErrors.unsupportedMediaType }
        var batch: IngestBatch
        do {
            if try Self.isGzip(headers) {
                let inflated = try Gzip.decompress(request.http.body, maxOutputBytes: maxDecompressedBytes)
                batch = try IngestDecoder.decode(inflated, limits: limits)
            } else {
                // In place: the receive buffer keeps simdjson's padding past the body.
                let slack = request.http.bodyReadableSlackBytes
                batch = try request.http.body.withUnsafeBytes { bytes throws(IngestError) in
                    try IngestDecoder.decode(bytes, readableSlackBytes: slack, limits: limits)
                }
            }
        } catch let error as IngestError {
            throw AppErrors.apiError(error)
        } catch let error as APIError {
            throw error
        } catch {
            throw .badRequest("invalid_body", "\(error)")
        }
        batch.location = locator.locate(address)
        let outcome: IngestOutcome
        do {
            outcome = try registry.ingest(
                roomID: roomID, peerID: peerID, batch: batch, arrival: clock.nowMilliseconds(),
                userAgent: request.http.headers["user-agent"])
        } catch {
            throw AppErrors.apiError(error)
        }
        metrics?.ingested(outcome)
        return durability.afterLogged(outcome, Self.accepted(outcome))
    }

    func leave(_ request: RoutedRequest) throws(APIError) -> HTTPResponse {
        try admit(request)
        try requireStorage()
        let roomID = try Self.validID(request.parameter("room_id"), field: "room_id")
        let peerID = try Self.validID(request.parameter("peer_id"), field: "peer_id")
        let outcome = registry.leave(roomID: roomID, peerID: peerID, arrival: clock.nowMilliseconds())
        return durability.afterLogged(outcome, Self.accepted(outcome))
    }

    /// `{"accepted":N,"duplicates":N,"late":N}`, written as bytes (every ingest answer is one).
    static func accepted(_ outcome: IngestOutcome) -> HTTPResponse {
        var body: [UInt8] = []
        body.reserveCapacity(64)
        body.append(contentsOf: #"{"accepted":"#.utf8)
        ASCII.appendDecimal(outcome.accepted, to: &body)
        body.append(contentsOf: #","duplicates":"#.utf8)
        ASCII.appendDecimal(outcome.duplicates, to: &body)
        body.append(contentsOf: #","late":"#.utf8)
        ASCII.appendDecimal(outcome.late, to: &body)
        body.append(UInt8(ascii: "}"))
        return HTTPResponse(status: .accepted, headers: [HTTPHeaderField("Content-Type", "application/json")], body: body)
    }
}
