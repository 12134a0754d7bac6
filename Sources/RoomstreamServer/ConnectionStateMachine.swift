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

    /// Which timeout set `deadline`: under connection pressure the header and idle ones are
    /// shortened, measured from the same start.
    public enum DeadlineKind: Equatable, Sendable { case header, body, idle, write, linger }

    /// Why a connection may be closed to admit a new one at the connection limit: it holds no
    /// request in flight.
    public enum ReclaimReason: String, Equatable, Sendable, CaseIterable {
        /// Keep-alive between requests: a client loses nothing (RFC 9112 §9.3 lets either side
        /// close an idle persistent connection; clients retry on a new one).
        case idle
        /// Nothing or only part of a request head has arrived, for at least the reclaim grace.
        case partialHead = "partial_head"
    }

    /// What a connection is doing, as the metrics count open connections.
    public enum Activity: String, Equatable, Sendable, CaseIterable {
        /// Connected, no request yet (nothing, or part of a head).
        case waitingForHead = "waiting_for_head"
        /// Keep-alive between requests.
        case idle
        /// Reading a body, or the handler is answering.
        case active
        /// Writing a response, or lingering after a closing one.
        case writing
    }

    public private(set) var state: State = .awaitingRequest
    /// When the current phase times out; nil while the handler runs.
    public private(set) var deadline: ServerInstant?
    public private(set) var deadlineKind: DeadlineKind = .header
    /// When the connection entered its current state (for reclaiming the oldest first).
    public private(set) var stateSince: ServerInstant
    /// Responses completed on this connection: an `awaitingRequest` connection that has some is
    /// an idle keep-alive one, else a fresh one.
    public private(set) var completedResponses = 0
    public let timeouts: ConnectionTimeouts
    private var draining = false
    private var closeAfterResponse = false
    private var closing = false

    /// A fresh connection must send its first request head within the header timeout.
    public init(timeouts: ConnectionTimeouts, now: ServerInstant) {
        self.timeouts = timeouts
        self.deadline = now + timeouts.headerTimeout
        self.stateSince = now
    }

    private mutating func enter(_ next: State, now: ServerInstant) {
        state = next
        stateSince = now
    }

    private mutating func setDeadline(_ kind: DeadlineKind, _ at: ServerInstant) {
        deadline = at
        deadlineKind = kind
    }

    public var activity: Activity {
        switch state {
        case .awaitingRequest: completedResponses > 0 ? .idle : .waitingForHead
        case .readingHead: .waitingForHead
        case .readingBody, .processing: .active
        case .writing, .lingering, .closed: .writing
        }
    }

    /// Whether the connection may be closed to admit another at the connection limit, and why:
    /// idle keep-alive ones always; ones that have sent no complete head once they are `grace`
    /// old (a real client sends its head right after connecting). A request whose head is
    /// complete is never reclaimed.
    public func reclaimReason(now: ServerInstant, grace: Duration) -> ReclaimReason? {
        switch state {
        case .awaitingRequest where completedResponses > 0: return .idle
        case .awaitingRequest, .readingHead: return now - stateSince >= grace ? .partialHead : nil
        default: return nil
        }
    }

    /// The deadline in force: under connection pressure the header and idle timeouts shrink to
    /// `timeouts.pressureHeaderTimeout` and `pressureIdleTimeout`, counted from when the normal
    /// ones started.
    public func effectiveDeadline(underPressure: Bool) -> ServerInstant? {
        guard let deadline, underPressure else { return deadline }
        switch deadlineKind {
        case .header: return deadline - max(.zero, timeouts.headerTimeout - timeouts.pressureHeaderTimeout)
        case .idle: return deadline - max(.zero, timeouts.idleTimeout - timeouts.pressureIdleTimeout)
        case .body, .write, .linger: return deadline
        }
    }

    /// The parser wants more bytes. `partialRequest`: some bytes of a request are buffered;
    /// `readingBody`: its head is complete.
    public mutating func needMoreData(partialRequest: Bool, readingBody: Bool, now: ServerInstant) -> Action {
        switch state {
        case .awaitingRequest where readingBody, .readingHead where readingBody:
            enter(.readingBody, now: now)
            setDeadline(.body, now + timeouts.bodyTimeout)
        case .awaitingRequest where partialRequest:
            // A fresh connection's head was already being waited for since accept.
            if completedResponses > 0 { stateSince = now }
            state = .readingHead
            // The header timeout runs from the request's first byte, or from accept for the
            // first request, whichever is earlier.
            let fromFirstByte = now + timeouts.headerTimeout
            setDeadline(.header, deadline.map { min($0, fromFirstByte) } ?? fromFirstByte)
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
        enter(.writing, now: now)
        setDeadline(.write, now + timeouts.writeTimeout)
        return .sendResponse(close: closing)
    }

    /// The parser failed: the connection is out of sync, so the error response closes it.
    public mutating func parseFailed(now: ServerInstant) -> Action {
        closeAfterResponse = true
        return responseReady(keepAlive: false, now: now)
    }

    /// Part of a response was written; the write timeout measures lack of progress.
    public mutating func writeProgressed(now: ServerInstant) {
        if state == .writing { setDeadline(.write, now + timeouts.writeTimeout) }
    }

    public mutating func writeCompleted(now: ServerInstant) -> Action {
        guard state == .writing else { return .none }
        completedResponses += 1
        if closing {
            enter(.lingering, now: now)
            setDeadline(.linger, now + timeouts.lingerTimeout)
            return .lingeringClose
        }
        enter(.awaitingRequest, now: now)
        setDeadline(.idle, now + timeouts.idleTimeout)
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

    /// The sweep's check. `underPressure`: open connections are above the high-water mark, so
    /// the shortened header and idle timeouts apply (see `effectiveDeadline`).
    public mutating func deadlinePassed(now: ServerInstant, underPressure: Bool = false) -> Action {
        guard let deadline = effectiveDeadline(underPressure: underPressure), now >= deadline else { return .none }
        switch state {
        case .readingHead, .readingBody:
            // RFC 9110 §15.5.9: tell a slow client why, then close.
            closeAfterResponse = true
            closing = true
            enter(.writing, now: now)
            setDeadline(.write, now + timeouts.writeTimeout)
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
