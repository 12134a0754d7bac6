import Logging
import RoomstreamHTTP
import RoomstreamServer
import Synchronization

/// What every request goes through around the router: its request id (accepted from
/// `X-Request-Id` or made here, echoed in the response, in every log line about it), its
/// metrics (route pattern, status, duration, deferred answers measured when they complete),
/// and a debug-level access log line.
struct RequestPipeline: Sendable {
    let router: Router
    let metrics: ServiceMetrics?
    let logger: Logger
    let ids = RequestIDs()

    func handle(_ request: HTTPRequest) -> HTTPResponse {
        var request = request
        let id = RequestIDs.accepted(request.headers.valueBytes("x-request-id")) ?? ids.next()
        request.requestID = id
        let started = ContinuousClock.now
        let (response, route) = router.handle(request)
        let header = [HTTPHeaderField("X-Request-Id", id)]
        let method = request.method, target = request.target, client = request.remoteAddress
        let finish: @Sendable (HTTPResponse) -> Void = { [metrics, logger] final in
            let duration = ContinuousClock.now - started
            metrics?.requestFinished(method: method, route: route, status: final.status.code, duration: duration)
            logger.debug("request", metadata: [
                "request_id": "\(id)", "method": "\(method)", "target": "\(target)", "status": "\(final.status.code)",
                "duration_ms": "\(Double(duration.nanoseconds) / 1e6)", "client": "\(client.map { "\($0)" } ?? "")",
            ])
        }
        if let wait = response.deferred {
            return .deferred { completion in
                wait { final in
                    finish(final)
                    completion(final.addingHeaders(header))
                }
            }
        }
        finish(response)
        return response.addingHeaders(header)
    }
}

/// Request ids: `<16 hex digits random per process>-<counter in hex>`, unique across
/// restarts without coordination and cheap to make (no randomness per request).
final class RequestIDs: Sendable {
    private let prefix: UInt64
    private let counter = Atomic<UInt64>(0)

    init() {
        prefix = UInt64.random(in: 0...UInt64.max) | 1 << 63
    }

    func next() -> String {
        Self.format(prefix: prefix, counter: counter.wrappingAdd(1, ordering: .relaxed).newValue)
    }

    /// `<prefix in 16 hex digits>-<counter in hex>`, lowercase, in one string. (`String(_:radix:)`
    /// is generic and was a visible share of every request's CPU.)
    static func format(prefix: UInt64, counter: UInt64) -> String {
        let counterDigits = counter == 0 ? 1 : (64 - counter.leadingZeroBitCount + 3) / 4
        let prefixDigits = prefix == 0 ? 1 : (64 - prefix.leadingZeroBitCount + 3) / 4
        return String(unsafeUninitializedCapacity: prefixDigits + 1 + counterDigits) { buffer in
            func put(_ value: UInt64, digits: Int, at start: Int) {
                var value = value
                for index in stride(from: start + digits - 1, through: start, by: -1) {
                    let digit = UInt8(truncatingIfNeeded: value & 0xF)
                    buffer[index] = digit < 10 ? UInt8(ascii: "0") + digit : UInt8(ascii: "a") - 10 + digit
                    value >>= 4
                }
            }
            put(prefix, digits: prefixDigits, at: 0)
            buffer[prefixDigits] = UInt8(ascii: "-")
            put(counter, digits: counterDigits, at: prefixDigits + 1)
            return prefixDigits + 1 + counterDigits
        }
    }

    /// A client's or proxy's `X-Request-Id` when it is 1–128 characters of letters, digits and
    /// `-_.:/+=@`: safe to echo in a header and to log. Anything else gets a fresh id rather
    /// than an error (the id is a courtesy; the request itself is fine).
    static func accepted(_ value: ArraySlice<UInt8>?) -> String? {
        guard let value, !value.isEmpty, value.count <= 128 else { return nil }
        for b in value {
            switch b {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"): continue
            case UInt8(ascii: "-"), UInt8(ascii: "_"), UInt8(ascii: "."), UInt8(ascii: ":"), UInt8(ascii: "/"), UInt8(ascii: "+"), UInt8(ascii: "="), UInt8(ascii: "@"): continue
            default: return nil
            }
        }
        return String(decoding: value, as: UTF8.self)
    }
}
