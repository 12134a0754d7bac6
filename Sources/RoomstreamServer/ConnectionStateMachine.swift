/// The lifecycle of one client connection as a value: events in, actions out. It knows
/// nothing of sockets or Dispatch; `Connection` performs the actions. Time is passed in, so
/// every timeout can be tested without waiting.
///
/// ```
/// awaitingRequest ──bytes──▶ readingHead ──head done──▶ readingBody
///        ▲                        │                          │
///        │                        └──────request complete────┴──▶ processing ──▶ writing
///        └──────────────────── write done, keep-alive ────────────────────────────┘
///                                              write done, closing ──▶ lingering ──▶ closed
/// ```
public struct ConnectionStateMachine: Sendable {
    public enum State: Equatable, Sendable {
        /// Between requests (or before the first): the idle timeout applies, or the header
        /// timeout for a fresh connection.
        case awaitingRequest
        case readingHead
        case readingBody
        /// The handler is producing the response.
        case processing
        case writing
        /// Response sent and write side shut down; unread input is drained before closing.
        case lingering
        case closed
    }

    public enum Action: Equatable, Sendable {
        case none
        /// Parse what is buffered (a pipelined request may already be there) and keep reading.
        case parseBuffered
        /// Write the response; close afterwards when `close` is true.
        case sendResponse(close: Bool)
        /// A request was too slow to arrive: answer 408 and close.
        case sendTimeoutResponse
        /// Shut down the write side and drain input until EOF or the linger deadline.
        case lingeringClose
        case close
    }

    public private(set) var state: State = .awaitingRequest
    /// When the current phase times out; nil while the handler runs.
    public private(set) var deadline: ServerInstant?
    public let timeouts: ConnectionTimeouts
    private var draining = false
    private var closeAfterResponse = false
    private var closing = false

    /// A fresh connection must send its first request head within the header timeout.
    public init(timeouts: ConnectionTimeouts, now: ServerInstant) {
        self.timeouts = timeouts
        self.deadline = now + timeouts.headerTimeout
    }

    /// The parser wants more bytes. `partialRequest`: some bytes of a request are buffered;
    /// `readingBody`: its head is complete.
    public mutating func needMoreData(partialRequest: Bool, readingBody: Bool, now: ServerInstant) -> Action {
        switch state {
        case .awaitingRequest where readingBody, .readingHead where readingBody:
            state = .readingBody
            deadline = now + timeouts.bodyTimeout
        case .awaitingRequest where partialRequest:
            state = .readingHead
            // The header timeout runs from the request's first byte, or from accept for the
            // first request, whichever is earlier.
            let fromFirstByte = now + timeouts.headerTimeout
            deadline = deadline.map { min($0, fromFirstByte) } ?? fromFirstByte
        default:
            break
        }
        return .none
    }

    public mutating func requestReceived() -> Action {
        guard state != .closed, state != .lingering else { return .none }
        state = .processing
        deadline = nil
        return .none
    }

    /// The handler's response is ready. `keepAlive` is what the request allowed.
    public mutating func responseReady(keepAlive: Bool, now: ServerInstant) -> Action {
        guard state != .closed, state != .lingering else { return .none }
        closing = !keepAlive || draining || closeAfterResponse
        state = .writing
        deadline = now + timeouts.writeTimeout
        return .sendResponse(close: closing)
    }

    /// The parser failed: the connection is out of sync, so the error response closes it.
    public mutating func parseFailed(now: ServerInstant) -> Action {
        closeAfterResponse = true
        return responseReady(keepAlive: false, now: now)
    }

    /// Part of a response was written; the write timeout measures lack of progress.
    public mutating func writeProgressed(now: ServerInstant) {
        if state == .writing { deadline = now + timeouts.writeTimeout }
    }

    public mutating func writeCompleted(now: ServerInstant) -> Action {
        guard state == .writing else { return .none }
        if closing {
            state = .lingering
            deadline = now + timeouts.lingerTimeout
            return .lingeringClose
        }
        state = .awaitingRequest
        deadline = now + timeouts.idleTimeout
        return .parseBuffered
    }

    /// The peer closed its side (read returned 0).
    public mutating func peerClosed() -> Action {
        switch state {
        case .processing, .writing:
            // Answer what was asked, then close.
            closeAfterResponse = true
            closing = true
            return .none
        case .closed:
            return .none
        default:
            return markClosed()
        }
    }

    /// A read or write failed (reset, broken pipe): nothing more can be said.
    public mutating func connectionFailed() -> Action {
        state == .closed ? .none : markClosed()
    }

    /// The server is shutting down. Connections with no request in flight close now: idle
    /// keep-alive ones, and ones holding only part of a head (nothing of it was answered, so
    /// the client loses nothing it cannot resend; a peer that closed or reset mid-head, or just
    /// went silent, would otherwise hold the drain for the whole header timeout). A request
    /// whose head is complete (reading its body, processing, writing) finishes, then closes.
    public mutating func beginDrain() -> Action {
        draining = true
        switch state {
        case .awaitingRequest, .readingHead: return markClosed()
        case .writing:
            closing = true
            return .none
        default: return .none
        }
    }

    public mutating func deadlinePassed(now: ServerInstant) -> Action {
        guard let deadline, now >= deadline else { return .none }
        switch state {
        case .readingHead, .readingBody:
            // RFC 9110 §15.5.9: tell a slow client why, then close.
            closeAfterResponse = true
            closing = true
            state = .writing
            self.deadline = now + timeouts.writeTimeout
            return .sendTimeoutResponse
        case .awaitingRequest, .writing, .lingering:
            return markClosed()
        case .processing, .closed:
            return .none
        }
    }

    private mutating func markClosed() -> Action {
        state = .closed
        deadline = nil
        return .close
    }
}
