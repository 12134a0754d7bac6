#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import Logging
import RoomstreamHTTP
import RoomstreamBasics
import Synchronization

/// Counters an operator (and the tests) can read at any time.
public struct ServerCounters: Sendable, Equatable {
    public var activeConnections: Int
    public var acceptedConnections: Int
    /// Connections closed at accept because `maxConnections` were open.
    public var rejectedConnections: Int
    public var requests: Int
    /// Request bytes buffered across connections now (bounded by `maxBufferedRequestBytes`).
    public var bufferedRequestBytes: Int = 0
    /// Partial requests answered 503 because that bound was reached.
    public var overloadRefusals: Int = 0
    /// Connections closed at accept because their client had `maxConnectionsPerClient` open.
    public var refusedPerClient: Int = 0
    /// Connections closed to admit new ones at the limit, by reason.
    public var reclaimed: [ConnectionStateMachine.ReclaimReason: Int] = [:]
    /// Open connections by what they are doing, as of each loop's last sweep (≤ 250 ms old).
    public var connectionsByActivity: [ConnectionStateMachine.Activity: Int] = [:]
    /// Open connections are above the high-water mark: the pressure timeouts apply.
    public var underPressure = false
}

/// The HTTP/1.1 server: a non-blocking listener whose accept source hands connections
/// round-robin to a few event loops, each a thread with its own epoll. No thread per connection.
public final class HTTPServer: Sendable {
    public typealias Handler = @Sendable (HTTPRequest) -> HTTPResponse

    public let configuration: ServerConfiguration
    let handler: Handler
    let logger: Logger
    let clock: any ServerClock
    private let loops: [EventLoop]
    private let acceptQueue = DispatchQueue(label: "roomstream.accept")

    /// Dispatch sources may be resumed, suspended and cancelled from any thread.
    // SAFETY: only those thread-safe calls are made on the wrapped source.
    private struct SharedSource: @unchecked Sendable {
        let source: DispatchSourceRead
    }

    private struct ListenerState {
        var fd: Int32 = -1
        var port = 0
        var source: SharedSource?
        var acceptSuspended = false
        var nextLoop = 0
        var draining = false
    }
    private let listener = Locked(ListenerState())
    private let active = Atomic<Int>(0)
    private let accepted = Atomic<Int>(0)
    private let rejected = Atomic<Int>(0)
    private let requestCount = Atomic<Int>(0)
    private let buffered = Atomic<Int>(0)
    private let overloads = Atomic<Int>(0)
    private let refusedPerClientCount = Atomic<Int>(0)
    private let reclaimedIdle = Atomic<Int>(0)
    private let reclaimedPartialHead = Atomic<Int>(0)
    /// Connections accepted over the limit, waiting on a loop to reclaim a slot for them.
    private let pendingAdmissions = Atomic<Int>(0)
    /// Open connections per client (`IPAddress.clientPrefix`), for `maxConnectionsPerClient`.
    /// At most one entry per open connection, so bounded by `maxConnections`.
    private let perClient = Locked<[IPAddress: Int]>([:])
    private let logLimiter = Locked<[String: ServerInstant]>([:])
    /// Mirrors `ListenerState.draining` for the per-request check, without taking the lock.
    private let drainingFlag = Atomic<Bool>(false)

    /// `batchObserver` is told on each loop when it starts and ends a batch of events (the
    /// write-ahead log's group commit, `EventBatchObserver`).
    public init(configuration: ServerConfiguration, clock: any ServerClock = SystemClock(), logger: Logger,
                batchObserver: (any EventBatchObserver)? = nil, handler: @escaping Handler) {
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        self.handler = handler
        self.loops = (0..<max(1, configuration.eventLoopCount)).map {
            EventLoop(index: $0, clock: clock, readChunkBytes: configuration.readChunkBytes, batchObserver: batchObserver)
        }
        self.pressureMark = configuration.pressureHighWaterConnections
    }

    deinit {
        for loop in loops { loop.stop() }
    }

    /// Binds, listens and starts accepting. Throws `SocketError` when the address is unusable.
    public func start() throws {
        let fd = try Socket.listen(host: configuration.host, port: configuration.port, backlog: configuration.backlog)
        let port = Socket.localPort(fd)
        do {
            for loop in loops {
                try loop.start(sweepEvery: configuration.timeouts.sweepInterval) { [weak self] in
                    guard let self else { return false }
                    let pressure = self.isUnderPressure
                    self.notePressure(pressure)
                    return pressure
                }
            }
        } catch {
            closeDescriptor(fd)
            for loop in loops { loop.stop() }
            throw error
        }
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: acceptQueue)
        source.setEventHandler { [weak self] in self?.acceptPending(fd) }
        source.setCancelHandler { closeDescriptor(fd) }
        listener.withLock {
            $0.fd = fd
            $0.port = port
            $0.source = SharedSource(source: source)
        }
        source.resume()
        logger.info("listening", metadata: ["host": "\(configuration.host)", "port": "\(port)"])
    }

    /// The bound port (useful when the configuration asked for port 0).
    public var localPort: Int { listener.withLock { $0.port } }

    public var isDraining: Bool { drainingFlag.load(ordering: .relaxed) }

    public var counters: ServerCounters {
        var byActivity: [ConnectionStateMachine.Activity: Int] = [:]
        for loop in loops {
            for (activity, count) in loop.census { byActivity[activity, default: 0] += count }
        }
        return ServerCounters(
            activeConnections: active.load(ordering: .relaxed), acceptedConnections: accepted.load(ordering: .relaxed),
            rejectedConnections: rejected.load(ordering: .relaxed), requests: requestCount.load(ordering: .relaxed),
            bufferedRequestBytes: buffered.load(ordering: .relaxed), overloadRefusals: overloads.load(ordering: .relaxed),
            refusedPerClient: refusedPerClientCount.load(ordering: .relaxed),
            reclaimed: [.idle: reclaimedIdle.load(ordering: .relaxed), .partialHead: reclaimedPartialHead.load(ordering: .relaxed)],
            connectionsByActivity: byActivity, underPressure: isUnderPressure)
    }

    /// Open connections at or above `pressureHighWaterConnections`: the sweeps apply the
    /// shortened header and idle timeouts.
    private let pressureMark: Int
    var isUnderPressure: Bool { active.load(ordering: .relaxed) >= pressureMark }

    func countRequest() { requestCount.add(1, ordering: .relaxed) }
    func countOverload() { overloads.add(1, ordering: .relaxed) }
    var bufferedRequestBytes: Int { buffered.load(ordering: .relaxed) }
    func adjustBufferedRequestBytes(by delta: Int) { buffered.add(delta, ordering: .relaxed) }

    func connectionClosed(client: IPAddress?) {
        active.subtract(1, ordering: .relaxed)
        if let client { releaseClientSlot(client) }
    }

    func countReclaimed(_ reason: ConnectionStateMachine.ReclaimReason) {
        switch reason {
        case .idle: reclaimedIdle.add(1, ordering: .relaxed)
        case .partialHead: reclaimedPartialHead.add(1, ordering: .relaxed)
        }
    }

    /// The key a new connection from `peer` is counted under, and whether the client has a slot
    /// left. nil key: not counted (no cap, unknown peer, or a trusted proxy carrying many clients).
    private func reserveClientSlot(_ peer: IPAddress?) -> (key: IPAddress?, admitted: Bool) {
        let cap = configuration.maxConnectionsPerClient
        guard cap > 0, let peer, !configuration.perClientExemptNetworks.contains(where: { $0.contains(peer) }) else { return (nil, true) }
        let key = peer.clientPrefix
        let admitted = perClient.withLock { counts -> Bool in
            let open = counts[key, default: 0]
            guard open < cap else { return false }
            counts[key] = open + 1
            return true
        }
        return (key, admitted)
    }

    private func releaseClientSlot(_ key: IPAddress) {
        perClient.withLock { counts in
            let left = counts[key, default: 1] - 1
            counts[key] = left > 0 ? left : nil
        }
    }

    /// Accepts what is pending, at most 128 per event so one burst cannot starve the queue.
    private func acceptPending(_ listenerFD: Int32) {
        for _ in 0..<128 {
            let fd: Int32, peer: IPAddress?
            do {
                guard let next = try Socket.accept(listenerFD) else { return }
                (fd, peer) = next
            } catch let error as SocketError {
                if error.errno == EMFILE || error.errno == ENFILE || error.errno == ENOBUFS || error.errno == ENOMEM {
                    // Out of descriptors: the listener stays readable, so pause accepting
                    // briefly instead of spinning.
                    logger.error("accept paused", metadata: ["error": "\(error)"])
                    pauseAccepting(for: .milliseconds(100))
                } else {
                    logger.warning("accept failed", metadata: ["error": "\(error)"])
                }
                return
            } catch {
                return
            }
            let (client, admitted) = reserveClientSlot(peer)
            guard admitted else {
                refusedPerClientCount.add(1, ordering: .relaxed)  // before close, so whoever sees the close sees the count
                closeDescriptor(fd)
                logAtMostEvery10s("per_client", "client connection cap reached; closing its new connections", [
                    "client": "\(peer.map { "\($0)" } ?? "")", "max_connections_per_client": "\(configuration.maxConnectionsPerClient)",
                    "refused_total": "\(refusedPerClientCount.load(ordering: .relaxed))",
                ])
                continue
            }
            Socket.setNoDelay(fd)
            let loop = listener.withLock { state -> EventLoop in
                state.nextLoop = (state.nextLoop + 1) % loops.count
                return loops[state.nextLoop]
            }
            if takeSlot() {
                accepted.add(1, ordering: .relaxed)
                loop.execute { self.open(fd: fd, peer: peer, client: client, on: loop) }
            } else if pendingAdmissions.load(ordering: .relaxed) < Self.maxPendingAdmissions {
                // At the limit: a loop closes connections that hold no request in flight to
                // make room (`admitByReclaiming`), as nginx reuses its idle connections.
                pendingAdmissions.add(1, ordering: .relaxed)
                loop.execute { self.admitByReclaiming(fd: fd, peer: peer, client: client, loopIndex: loop.index, tried: 0) }
            } else {
                refuseAtLimit(fd: fd, client: client)
            }
        }
    }

    /// Over-limit connections waiting for a loop to reclaim a slot; beyond, refused at once.
    static let maxPendingAdmissions = 256

    /// On `loop`'s thread, with a slot taken. A connection whose hand-over was queued behind the
    /// drain (an admission passed between loops) would miss it: it is closed instead.
    private func open(fd: Int32, peer: IPAddress?, client: IPAddress?, on loop: EventLoop) {
        guard !isDraining else {
            closeDescriptor(fd)
            connectionClosed(client: client)
            return
        }
        Connection(fd: fd, peer: peer, client: client, loop: loop, server: self).start()
    }

    /// On `loops[loopIndex]`'s thread: closes up to `reclaimBatch` of its connections that hold
    /// no request in flight (idle keep-alive ones first, then heads unfinished after the grace;
    /// oldest first) and admits the new connection into a freed slot. A loop with nothing to
    /// reclaim passes it to the next; when no loop has anything, it is refused.
    private func admitByReclaiming(fd: Int32, peer: IPAddress?, client: IPAddress?, loopIndex: Int, tried: Int) {
        let loop = loops[loopIndex]
        if active.load(ordering: .relaxed) >= configuration.maxConnections {
            let reasons = loop.reclaim(upTo: configuration.reclaimBatch, now: clock.now(), grace: configuration.reclaimGrace)
            if !reasons.isEmpty {
                logAtMostEvery10s("reclaim", "connection limit reached; closing connections without a request in flight to admit new ones", [
                    "max_connections": "\(configuration.maxConnections)",
                    "reclaimed_idle_total": "\(reclaimedIdle.load(ordering: .relaxed))",
                    "reclaimed_partial_head_total": "\(reclaimedPartialHead.load(ordering: .relaxed))",
                ])
            }
        }
        // Another admission may have taken the slots freed: the check and the take are one step.
        if takeSlot() {
            pendingAdmissions.subtract(1, ordering: .relaxed)
            accepted.add(1, ordering: .relaxed)
            open(fd: fd, peer: peer, client: client, on: loop)
        } else if tried + 1 < loops.count {
            let next = (loopIndex + 1) % loops.count
            loops[next].execute { self.admitByReclaiming(fd: fd, peer: peer, client: client, loopIndex: next, tried: tried + 1) }
        } else {
            pendingAdmissions.subtract(1, ordering: .relaxed)
            refuseAtLimit(fd: fd, client: client)
        }
    }

    /// One open-connection slot, if one is free.
    private func takeSlot() -> Bool {
        var current = active.load(ordering: .relaxed)
        while current < configuration.maxConnections {
            let (exchanged, original) = active.compareExchange(expected: current, desired: current + 1, ordering: .relaxed)
            if exchanged { return true }
            current = original
        }
        return false
    }

    private func refuseAtLimit(fd: Int32, client: IPAddress?) {
        rejected.add(1, ordering: .relaxed)  // before close, so whoever sees the close sees the count
        closeDescriptor(fd)
        if let client { releaseClientSlot(client) }
        logAtMostEvery10s("limit", "connection limit reached and no connection can be reclaimed; closing new connections", [
            "max_connections": "\(configuration.maxConnections)", "rejected_total": "\(rejected.load(ordering: .relaxed))",
        ])
    }

    /// Logs `message` at most once per 10 s per `topic`, so a flood cannot flood the log.
    /// The metadata is built only when the line is written: a flood refuses thousands a second.
    private func logAtMostEvery10s(_ topic: String, _ message: Logger.Message, _ metadata: @autoclosure () -> Logger.Metadata) {
        let now = clock.now()
        let shouldLog = logLimiter.withLock { last -> Bool in
            if let previous = last[topic], now < previous + .seconds(10) { return false }
            last[topic] = now
            return true
        }
        if shouldLog { logger.warning(message, metadata: metadata()) }
    }

    /// Called by each loop's sweep: logs entering and leaving pressure (at most every 10 s).
    func notePressure(_ pressure: Bool) {
        let changed = pressureLogged.withLock { logged -> Bool in
            defer { logged = pressure }
            return logged != pressure
        }
        guard changed else { return }
        if pressure {
            logAtMostEvery10s("pressure", "open connections above the high-water mark; header and idle timeouts shortened", [
                "open": "\(active.load(ordering: .relaxed))", "high_water": "\(pressureMark)",
                "header_timeout": "\(configuration.timeouts.pressureHeaderTimeout)", "idle_timeout": "\(configuration.timeouts.pressureIdleTimeout)",
            ])
        } else {
            logger.info("open connections back below the high-water mark; normal timeouts", metadata: ["open": "\(active.load(ordering: .relaxed))"])
        }
    }
    private let pressureLogged = Locked(false)

    private func pauseAccepting(for duration: Duration) {
        let source = listener.withLock { state -> SharedSource? in
            guard !state.acceptSuspended, !state.draining, let source = state.source else { return nil }
            state.acceptSuspended = true
            return source
        }
        guard let source else { return }
        source.source.suspend()
        acceptQueue.asyncAfter(deadline: .now() + .nanoseconds(duration.nanoseconds)) {
            let source = self.listener.withLock { state -> SharedSource? in
                guard state.acceptSuspended else { return nil }
                state.acceptSuspended = false
                return state.source
            }
            source?.source.resume()
        }
    }

    /// Stops accepting, lets in-flight requests finish and closes idle connections; after
    /// `drainTimeout` closes whatever is left. `completion(true)` when every connection
    /// finished on its own.
    public func shutdown(drainTimeout: Duration, completion: @escaping @Sendable (Bool) -> Void) {
        let source = listener.withLock { state -> SharedSource? in
            guard !state.draining else { return nil }
            state.draining = true
            drainingFlag.store(true, ordering: .relaxed)
            let source = state.source
            state.source = nil
            if state.acceptSuspended {
                state.acceptSuspended = false
                source?.source.resume()
            }
            return source
        }
        source?.source.cancel()
        for loop in loops { loop.execute { loop.drainAll() } }
        let deadline = clock.now() + drainTimeout
        waitForConnections(deadline: deadline, forced: false, completion: completion)
    }

    private func waitForConnections(deadline: ServerInstant, forced: Bool, completion: @escaping @Sendable (Bool) -> Void) {
        if active.load(ordering: .relaxed) == 0 {
            for loop in loops { loop.stop() }
            completion(!forced)
            return
        }
        if !forced && clock.now() >= deadline {
            logger.warning("drain timeout; closing remaining connections", metadata: ["open": "\(active.load(ordering: .relaxed))"])
            for loop in loops { loop.execute { loop.closeAll() } }
            waitForConnections(deadline: deadline, forced: true, completion: completion)
            return
        }
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(10)) {
            self.waitForConnections(deadline: deadline, forced: forced, completion: completion)
        }
    }
}
