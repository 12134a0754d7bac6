#if canImport(Glibc)
import Glibc
#endif
import RoomstreamHTTP
import RoomstreamBasics

/// Performs what `ConnectionStateMachine` decides for one socket: reads into the parser,
/// calls the handler, writes responses with one `writev`, and closes, all on its loop's
/// thread. The loop's epoll is edge-triggered: each event reads (or writes) until the socket
/// is drained: EAGAIN, or a read that filled less than it asked for (the receive queue was
/// empty then, and whatever arrives after raises a new edge). Reading is suspended while a
/// response waits for the client to read it (or for the write-ahead log), so a client that
/// pipelines without reading cannot grow our buffers; resuming reads at once what arrived
/// meanwhile, since no new edge will say so, unless the socket was drained and no edge came.
// SAFETY: every mutable property is read and written only on the loop's thread.
final class Connection: @unchecked Sendable {
    let fd: Int32
    private let loop: EventLoop
    private unowned let server: HTTPServer
    private var parser: HTTPRequestParser
    private var machine: ConnectionStateMachine
    private var readSuspended = false
    /// `readable()` is on the stack: a resume inside it needs no new read pass.
    private var reading = false
    /// The last read found the receive queue empty (EAGAIN, or it filled less than it asked
    /// for) and no readable edge came since: another read would only return EAGAIN (one per
    /// request on a keep-alive connection, mostly on resuming after a response; decision #63).
    private var drained = false
    /// The peer's FIN (or an error) was reported (EPOLLRDHUP, EPOLLHUP, EPOLLERR): read on to
    /// EOF, since a short read no longer means a later edge will come for what is left.
    private var hangUpSeen = false
    private var outbound: [ArraySlice<UInt8>] = []
    private var closed = false
    private var lingeredBytes = 0
    /// This connection's share of `HTTPServer.bufferedRequestBytes`.
    private var accountedBytes = 0

    private let peer: IPAddress?
    /// The key this connection is counted under for `maxConnectionsPerClient` (nil: not counted).
    private let client: IPAddress?

    init(fd: Int32, peer: IPAddress?, client: IPAddress? = nil, loop: EventLoop, server: HTTPServer) {
        self.fd = fd
        self.peer = peer
        self.client = client
        self.loop = loop
        self.server = server
        self.parser = HTTPRequestParser(limits: server.configuration.limits)
        self.machine = ConnectionStateMachine(timeouts: server.configuration.timeouts, now: loop.clock.now())
    }

    /// Called on the loop's thread; the loop holds the connection until it closes.
    func start() {
        loop.register(self)
    }

    // MARK: Events (the loop calls these for each epoll event)

    /// Below this much free room in the parser's buffer a read goes to the loop's 64 KiB buffer
    /// (and is appended): a small read into a nearly full buffer would only cost a syscall more.
    static let minimumDirectReadBytes = 4096

    /// An epoll edge: bytes (or the peer's FIN, `hangUp`) arrived since the last read.
    func readableEdge(hangUp: Bool) {
        drained = false
        if hangUp { hangUpSeen = true }
        readable()
    }

    /// Reads until the socket is drained, EOF, or reading is suspended.
    private func readable() {
        guard !closed, !readSuspended, !reading else { return }
        reading = true
        defer { reading = false }
        let chunk = loop.readBuffer.count
        while !closed && !readSuspended && !drained {
            // Straight into the parser's buffer when it has room for a good read (the usual case
            // once a connection's first request has sized it); otherwise into the loop's buffer,
            // appended after. Lingering bytes are discarded, so they always go to the loop's.
            var requested = chunk
            let direct = machine.state == .lingering ? nil : parser.receive(minimum: Self.minimumDirectReadBytes, maximum: chunk) { room in
                requested = room.count
                // SAFETY: read(2) writes at most room.count bytes into the parser's free room.
                return read(fd, room.baseAddress, room.count)
            }
            let count = direct ?? loop.readBuffer.withUnsafeMutableBytes { buffer -> Int in
                // SAFETY: read(2) writes at most `chunk` bytes into the loop's buffer, which only this thread uses.
                let count = read(fd, buffer.baseAddress, chunk)
                if count > 0, machine.state != .lingering {
                    parser.append(UnsafeRawBufferPointer(rebasing: buffer[0..<count]))
                }
                return count
            }
            if count > 0 {
                // TCP's read returns what the receive queue holds, up to what was asked: a short
                // read emptied it, and data arriving later raises a new edge (epoll(7), Q&A 9:
                // for a stream socket a short read shows the read space is exhausted). A FIN
                // already reported raises no later edge: read on to EOF.
                if count < requested && !hangUpSeen { drained = true }
                if machine.state == .lingering {
                    lingeredBytes += count
                    if lingeredBytes > server.configuration.maxLingerBytes { perform(machine.connectionFailed()) }
                    continue
                }
                accountBufferedBytes()
                processBuffered()
                accountBufferedBytes()
            } else if count == 0 {
                suspendReading()  // nothing more will come; a later resume must not read EOF twice
                perform(machine.peerClosed())
            } else if errno == EINTR {
                continue
            } else {
                if errno != EAGAIN && errno != EWOULDBLOCK { perform(machine.connectionFailed()) }
                drained = true
                return
            }
        }
    }

    /// The socket can take more: writes what is queued (an edge with nothing queued is ignored).
    func writable() {
        guard !closed, !outbound.isEmpty else { return }
        switch flush() {
        case .pending: return
        case .failed: perform(machine.connectionFailed())
        case .done:
            if machine.state == .writing {
                afterWrite(machine.writeCompleted(now: loop.clock.now()))
            } else {
                resumeReading()  // an interim response (100 Continue) is out: the body may come
            }
        }
    }

    func checkDeadline(now: ServerInstant, underPressure: Bool) {
        guard !closed else { return }
        perform(machine.deadlinePassed(now: now, underPressure: underPressure))
    }

    var activity: ConnectionStateMachine.Activity? { closed ? nil : machine.activity }
    var stateSince: ServerInstant { machine.stateSince }

    func reclaimReason(now: ServerInstant, grace: Duration) -> ConnectionStateMachine.ReclaimReason? {
        closed ? nil : machine.reclaimReason(now: now, grace: grace)
    }

    /// Closes the connection to free its slot, unless a request has just arrived on an idle one
    /// (bytes waiting in the socket): that one is kept and read as usual.
    func reclaim(_ reason: ConnectionStateMachine.ReclaimReason) -> Bool {
        guard !closed else { return false }
        if reason == .idle {
            var byte: UInt8 = 0
            if recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT)) > 0 { return false }
        }
        server.countReclaimed(reason)
        closeNow()
        return true
    }

    func drain() {
        guard !closed else { return }
        // A peer that reset (or closed) may not have been reported by the read source (measured:
        // an RST after part of a request raised no read event); ask the socket directly, so a
        // dead peer never holds the drain for its timeout.
        var byte: UInt8 = 0
        let peeked = recv(fd, &byte, 1, Int32(MSG_PEEK | MSG_DONTWAIT))
        if peeked == 0 {
            perform(machine.peerClosed())
        } else if peeked < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR {
            perform(machine.connectionFailed())
        }
        guard !closed else { return }
        perform(machine.beginDrain())
    }

    func forceClose() { closeNow() }

    /// Closes the socket without a word to the server, which is being deinitialized.
    func abandon() {
        guard !closed else { return }
        closed = true
        closeDescriptor(fd)
    }

    // MARK: Requests

    /// Parses and answers buffered requests in order until the parser needs more bytes or a
    /// response has to wait for the socket.
    private func processBuffered() {
        while !closed {
            switch machine.state {
            case .processing, .writing, .lingering, .closed: return
            default: break
            }
            switch parser.next() {
            case .needMoreData:
                _ = machine.needMoreData(partialRequest: parser.hasPartialRequest, readingBody: parser.isReadingBody, now: loop.clock.now())
                accountBufferedBytes()
                if parser.hasPartialRequest && server.bufferedRequestBytes > server.configuration.maxBufferedRequestBytes {
                    // Over the global bound: this partial request is refused rather than read on.
                    server.countOverload()
                    let response = HTTPResponse.error(.serviceUnavailable, code: "server_busy", message: "too many request bytes are in flight; try again shortly",
                                                      headers: [HTTPHeaderField("Retry-After", "1")])
                    _ = send(response.addingHeaders(serverErrorHeaders), to: .http1_1, omitBody: false, action: machine.parseFailed(now: loop.clock.now()))
                    return
                }
                resumeReading()
                return
            case .continueExpected:
                outbound.append(HTTPResponseEncoder.continueHead[...])
                if case .failed = flush() { return perform(machine.connectionFailed()) }
                if !outbound.isEmpty { waitForWritable() }
            case .request(var request):
                request.remoteAddress = peer
                _ = machine.requestReceived()
                server.countRequest()
                let response = server.handler(request)
                if let deferred = response.deferred {
                    // The answer waits (the write-ahead log): stop reading until it is sent, so
                    // a pipelining client cannot grow the buffer meanwhile.
                    suspendReading()
                    let version = request.version, keepAlive = request.keepAlive, omitBody = request.method == .head
                    deferred { final in
                        self.loop.execute { self.deferredResponseReady(final, version: version, keepAlive: keepAlive, omitBody: omitBody) }
                    }
                    return
                }
                // A drain that began while the handler ran must still mark this response as closing.
                if server.isDraining { _ = machine.beginDrain() }
                let action = machine.responseReady(keepAlive: request.keepAlive, now: loop.clock.now())
                guard send(response, to: request.version, omitBody: request.method == .head, action: action) else { return }
            case .error(let error):
                server.logger.debug("rejected request", metadata: ["code": "\(error.code)"])
                let action = machine.parseFailed(now: loop.clock.now())
                guard send(ErrorResponses.response(for: error).addingHeaders(serverErrorHeaders), to: .http1_1, omitBody: false, action: action) else { return }
            }
        }
    }

    private func deferredResponseReady(_ response: HTTPResponse, version: HTTPVersion, keepAlive: Bool, omitBody: Bool) {
        guard !closed, machine.state == .processing else { return }
        if server.isDraining { _ = machine.beginDrain() }
        let action = machine.responseReady(keepAlive: keepAlive, now: loop.clock.now())
        if send(response, to: version, omitBody: omitBody, action: action) { processBuffered() }
    }

    /// Queues and writes a response. Returns true when it was written entirely and the
    /// connection is ready for the next request.
    private func send(_ response: HTTPResponse, to version: HTTPVersion, omitBody: Bool, action: ConnectionStateMachine.Action) -> Bool {
        guard case .sendResponse(let close) = action else {
            perform(action)
            return false
        }
        var head: [UInt8] = []
        head.reserveCapacity(160 + response.headers.count * 48)
        HTTPResponseEncoder.encodeHead(response, date: loop.dateHeader(), close: close, requestVersion: version, into: &head)
        outbound.append(head[...])
        // RFC 9110 §9.3.2: a response to HEAD carries the GET headers but no content.
        if !omitBody && !response.body.isEmpty { outbound.append(response.body[...]) }
        switch flush() {
        case .failed:
            perform(machine.connectionFailed())
            return false
        case .pending:
            waitForWritable()
            return false
        case .done:
            let next = machine.writeCompleted(now: loop.clock.now())
            if next == .parseBuffered { return true }
            perform(next)
            return false
        }
    }

    /// The headers of the server's own error answers, for the request read so far (a listed
    /// CORS `Origin` it carries).
    private var serverErrorHeaders: [HTTPHeaderField] {
        server.configuration.serverErrorHeaders.headers(for: parser.partialFields)
    }

    private func accountBufferedBytes() {
        let now = parser.bufferedByteCount
        if now != accountedBytes {
            server.adjustBufferedRequestBytes(by: now - accountedBytes)
            accountedBytes = now
        }
    }

    private func afterWrite(_ action: ConnectionStateMachine.Action) {
        if action == .parseBuffered {
            processBuffered()
        } else {
            perform(action)
        }
    }

    private func perform(_ action: ConnectionStateMachine.Action) {
        switch action {
        case .none, .sendResponse:
            break
        case .parseBuffered:
            processBuffered()
        case .sendTimeoutResponse:
            let response = HTTPResponse.error(.requestTimeout, code: "request_timeout", message: "the request did not arrive in time")
                .addingHeaders(serverErrorHeaders)
            _ = send(response, to: .http1_1, omitBody: false, action: .sendResponse(close: true))
        case .lingeringClose:
            // Half-close so the client reads our response and EOF, then drain what it still
            // sends; closing with unread input would reset the connection and could destroy
            // the response in flight (RFC 9112 §9.6).
            shutdown(fd, Int32(SHUT_WR))
            resumeReading()
        case .close:
            closeNow()
        }
    }

    // MARK: Socket I/O

    private enum FlushResult { case done, pending, failed }

    /// Writes queued bytes with writev until done or the socket is full.
    private func flush() -> FlushResult {
        while !outbound.isEmpty {
            let written = writeQueued()
            if written > 0 {
                consume(written)
                machine.writeProgressed(now: loop.clock.now())
            } else if written < 0 {
                switch errno {
                case EINTR: continue
                case EAGAIN, EWOULDBLOCK: return .pending
                default: return .failed
                }
            }
        }
        return .done
    }

    private func writeQueued() -> Int {
        var vectors: [iovec] = []
        vectors.reserveCapacity(4)
        return Self.withVectors(outbound.prefix(4), &vectors) { writev(fd, $0, Int32($0.count)) }
    }

    /// Nests `withUnsafeBytes` over the slices so every pointer handed to writev is valid for the call.
    private static func withVectors<Result>(
        _ slices: ArraySlice<ArraySlice<UInt8>>, _ vectors: inout [iovec], _ body: ([iovec]) -> Result
    ) -> Result {
        guard let first = slices.first else { return body(vectors) }
        // SAFETY: writev only reads the bytes, and only while this closure runs.
        return first.withUnsafeBytes { bytes in
            vectors.append(iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress), iov_len: bytes.count))
            return withVectors(slices.dropFirst(), &vectors, body)
        }
    }

    private func consume(_ written: Int) {
        var remaining = written
        while remaining > 0, let first = outbound.first {
            if first.count <= remaining {
                remaining -= first.count
                outbound.removeFirst()
            } else {
                outbound[0] = first.dropFirst(remaining)
                remaining = 0
            }
        }
    }

    /// The rest goes when the socket's next EPOLLOUT edge says it can take more; reading waits.
    private func waitForWritable() {
        suspendReading()
    }

    private func suspendReading() {
        readSuspended = true
    }

    /// Reading again: what arrived while suspended raised its edge already, so read it now
    /// (unless a read pass is on the stack, which goes on by itself).
    private func resumeReading() {
        guard readSuspended, !closed else { return }
        readSuspended = false
        if !reading && !drained { readable() }
    }

    /// The descriptor leaves the loop's epoll before it is closed, so an event for a reused
    /// descriptor number never reaches this connection.
    private func closeNow() {
        guard !closed else { return }
        closed = true
        loop.remove(self)
        closeDescriptor(fd)
        server.adjustBufferedRequestBytes(by: -accountedBytes)
        accountedBytes = 0
        server.connectionClosed(client: client)
    }
}
