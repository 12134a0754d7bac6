import RoomstreamCore
import RoomstreamHTTP
import RoomstreamIngest
import RoomstreamServer

/// The one place the app's domain errors become HTTP statuses and JSON error bodies.
enum AppErrors {
    static func apiError(_ error: IngestError) -> APIError {
        switch error {
        case .decompressedTooLarge: APIError(status: HTTPStatus(code: 413), code: error.code, message: error.message)
        case .malformedJSON, .invalidField, .tooMany, .invalidGzip: .badRequest(error.code, error.message)
        }
    }

    static func apiError(_ error: RoomError) -> APIError {
        switch error {
        case .roomFull(let limit):
            APIError(status: HTTPStatus(code: 409), code: "room_full", message: "the room already has \(limit) peers")
        case .tooManyRooms(let limit):
            .serviceUnavailable("too_many_rooms", "\(limit) rooms are live; try again later", retryAfterSeconds: 30)
        case .keysOverBudget(let keys, let bytes, let maxKeys, let maxBytes):
            .badRequest("keys_over_budget", "keys: this peer's custom keys would be \(keys) keys of \(bytes) bytes; a peer may hold at most \(maxKeys) keys of \(maxBytes) bytes (ingest.max_key_bytes_per_peer)")
        case .tooManyPeers(let limit):
            .serviceUnavailable("too_many_peers", "\(limit) peers are in live rooms; try again later", retryAfterSeconds: 30)
        case .liveStateFull(let limitBytes):
            .serviceUnavailable("live_state_full", "the live rooms hold \(limitBytes >> 20) MiB (ingest.max_live_state_mib); new peers are refused until rooms end; try again later", retryAfterSeconds: 30)
        }
    }

    static let missingKey = APIError(status: HTTPStatus(code: 401), code: "missing_key", message: "send 'Authorization: Bearer <ingest key>' or ?key=<ingest key>", headers: [HTTPHeaderField("WWW-Authenticate", "Bearer")])
    static let unknownKey = APIError(status: HTTPStatus(code: 401), code: "unknown_key", message: "the ingest key is not valid", headers: [HTTPHeaderField("WWW-Authenticate", "Bearer")])
    static let missingToken = APIError(status: HTTPStatus(code: 401), code: "missing_token", message: "send 'Authorization: Bearer <admin token>'", headers: [HTTPHeaderField("WWW-Authenticate", "Bearer")])
    static let invalidToken = APIError(status: HTTPStatus(code: 401), code: "invalid_token", message: "the admin token is not valid", headers: [HTTPHeaderField("WWW-Authenticate", "Bearer")])
    static let ingestKeyForbidden = APIError(status: HTTPStatus(code: 403), code: "forbidden", message: "an ingest key cannot read rooms; use the admin token")
    static let adminDisabled = APIError(status: HTTPStatus(code: 403), code: "admin_disabled", message: "no admin token is configured (admin.token or ROOMSTREAM_ADMIN_TOKEN)")
    static let unsupportedMediaType = APIError(status: HTTPStatus(code: 415), code: "unsupported_media_type", message: "Content-Type must be application/json or text/plain")
    /// RFC 6585 §4: 429 with how long to wait; `which` names the limit (`ingest key`, `client address`).
    static func rateLimited(_ which: String, retryAfterSeconds: Int) -> APIError {
        APIError(status: HTTPStatus(code: 429), code: "rate_limited", message: "too many requests for this \(which) (ingest.rate_limits); retry after \(retryAfterSeconds) s",
                 headers: [HTTPHeaderField("Retry-After", String(retryAfterSeconds))])
    }

    static let unsupportedEncoding = APIError(status: HTTPStatus(code: 415), code: "unsupported_content_encoding", message: "Content-Encoding must be gzip or absent")
}
