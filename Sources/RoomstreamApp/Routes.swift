import RoomstreamHTTP
import RoomstreamServer

/// Routes of the service. Later issues add ingest, rooms and streams here.
enum Routes {
    static func make(readiness: Readiness, onUnexpectedError: @escaping @Sendable (any Error, HTTPRequest) -> Void) -> Router {
        var router = Router(onUnexpectedError: onUnexpectedError)
        router.add(.get, "/healthz") { _ in
            .json(.ok, #"{"status":"ok"}"#, headers: [HTTPHeaderField("Cache-Control", "no-store")])
        }
        router.add(.get, "/readyz") { _ in
            switch readiness.state {
            case .ready:
                return .json(.ok, #"{"status":"ready"}"#, headers: [HTTPHeaderField("Cache-Control", "no-store")])
            case .starting:
                throw APIError.serviceUnavailable("starting", "the service is starting", retryAfterSeconds: 1)
            case .draining:
                throw APIError.serviceUnavailable("draining", "the service is shutting down", retryAfterSeconds: 5)
            }
        }
        return router
    }
}
