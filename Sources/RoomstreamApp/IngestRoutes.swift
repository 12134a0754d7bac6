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
    var checkpointSoon: @Sendable () -> Void = {}
    var retryAfterSeconds = 10

    func requireStorage() throws(APIError) {
        if let failure = log?.failure ?? checkpoint?.lastFailure {
            throw .serviceUnavailable("storage_unavailable", "the live state cannot be saved (\(failure)); try again later", retryAfterSeconds: retryAfterSeconds)
        }
        if let log, log.uncheckpointedBytes > maxUncheckpointedLogBytes {
            checkpointSoon()
            throw .serviceUnavailable("storage_busy", "the write-ahead log holds more than durability.max_log_mib since the last checkpoint; try again shortly",
                                      retryAfterSeconds: 1)
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
    let limits = IngestLimits()

    func requireStorage() throws(APIError) { try durability.requireStorage() }

    func register(on router: inout Router) {
        router.add(.post, "/v1/rooms/{room_id}/peers/{peer_id}/samples") { request in try self.samples(request) }
        router.add(.post, "/v1/rooms/{room_id}/peers/{peer_id}/leave") { request in try self.leave(request) }
    }

    /// ingest-api.md: ids are 1–256 bytes, percent-decoded, UTF-8, without control characters.
    static func validID(_ value: String, field: String) throws(APIError) -> String {
        guard !value.isEmpty, value.utf8.count <= 256 else {
            throw .badRequest("invalid_\(field)", "\(field) must be 1-256 bytes")
        }
        guard !value.unicodeScalars.contains(where: { $0.properties.generalCategory == .control }) else {
            throw .badRequest("invalid_\(field)", "\(field) must not contain control characters")
        }
        return value
    }

    func samples(_ request: RoutedRequest) throws(APIError) -> HTTPResponse {
        try authorization.requireIngestKey(request)
        try requireStorage()
        let roomID = try Self.validID(request.parameter("room_id"), field: "room_id")
        let peerID = try Self.validID(request.parameter("peer_id"), field: "peer_id")
        // sendBeacon sends text/plain; both are parsed as JSON.
        let mediaType = request.http.headers["content-type"]?.split(separator: ";").first.map { String($0).trimmingSpaces().lowercased() }
        guard mediaType == "application/json" || mediaType == "text/plain" else { throw AppErrors.unsupportedMediaType }
        let batch: IngestBatch
        do {
            switch request.http.headers["content-encoding"]?.trimmingSpaces().lowercased() {
            case nil, "identity":
                batch = try request.http.body.withUnsafeBytes { bytes throws(IngestError) in try IngestDecoder.decode(bytes, limits: limits) }
            case "gzip":
                let inflated = try Gzip.decompress(request.http.body, maxOutputBytes: maxDecompressedBytes)
                batch = try IngestDecoder.decode(inflated, limits: limits)
            default:
                throw AppErrors.unsupportedEncoding
            }
        } catch let error as IngestError {
            throw AppErrors.apiError(error)
        } catch let error as APIError {
            throw error
        } catch {
            throw .badRequest("invalid_body", "\(error)")
        }
        let outcome: IngestOutcome
        do {
            outcome = try registry.ingest(
                roomID: roomID, peerID: peerID, batch: batch, arrival: clock.nowMilliseconds(),
                userAgent: request.http.headers["user-agent"])
        } catch {
            throw AppErrors.apiError(error)
        }
        return durability.afterLogged(outcome, Self.accepted(outcome))
    }

    func leave(_ request: RoutedRequest) throws(APIError) -> HTTPResponse {
        try authorization.requireIngestKey(request)
        try requireStorage()
        let roomID = try Self.validID(request.parameter("room_id"), field: "room_id")
        let peerID = try Self.validID(request.parameter("peer_id"), field: "peer_id")
        let outcome = registry.leave(roomID: roomID, peerID: peerID, arrival: clock.nowMilliseconds())
        return durability.afterLogged(outcome, Self.accepted(outcome))
    }

    static func accepted(_ outcome: IngestOutcome) -> HTTPResponse {
        .json(.accepted, "{\"accepted\":\(outcome.accepted),\"duplicates\":\(outcome.duplicates),\"late\":\(outcome.late)}")
    }
}
