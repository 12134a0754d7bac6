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
        var lastLimitLog: ServerInstant?
    }
    private let listener = Locked(ListenerState())
    private let active = Atomic<Int>(0)
    private let accepted = Atomic<Int>(0)
    private let rejected = Atomic<Int>(0)
    private let requestCount = Atomic<Int>(0)
    private let buffered = Atomic<Int>(0)
    private let overloads = Atomic<Int>(0)
    /// Mirrors `ListenerState.draining` for the per-request check, without taking the lock.
    private let drainingFlag = Atomic<Bool>(false)

    public init(configuration: ServerConfiguration, clock: any ServerClock = SystemClock(), logger: Logger, handler: @escaping Handler) {
        self.configuration = configuration
        self.clock = clock
        self.logger = logger
        self.handler = handler
        self.loops = (0..<max(1, configuration.eventLoopCount)).map {
            EventLoop(index: $0, clock: clock, readChunkBytes: configuration.readChunkBytes)
        }
    }

    deinit {
        for loop in loops { loop.stop() }
    }

    /// Binds, listens and starts accepting. Throws `SocketError` when the address is unusable.
    public func start() throws {
        let fd = try Socket.listen(host: configuration.host, port: configuration.port, backlog: configuration.backlog)
        let port = Socket.localPort(fd)
        do {
            for loop in loops { try loop.start(sweepEvery: configuration.timeouts.sweepInterval) }
        } catch {
            close(fd)
            for loop in loops { loop.stop() }
            throw error
        }
        let source = DispatchSource.makeReadSource(fileDescriptor: fd, queue: acceptQueue)
        source.setEventHandler { [weak self] in self?.acceptPending(fd) }
        source.setCancelHandler { close(fd) }
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
        ServerCounters(
            activeConnections: active.load(ordering: .relaxed), acceptedConnections: accepted.load(ordering: .relaxed),
            rejectedConnections: rejected.load(ordering: .relaxed), requests: requestCount.load(ordering: .relaxed),
            bufferedRequestBytes: buffered.load(ordering: .relaxed), overloadRefusals: overloads.load(ordering: .relaxed))
    }

    func countRequest() { requestCount.add(1, ordering: .relaxed) }
    func countOverload() { overloads.add(1, ordering: .relaxed) }
    var bufferedRequestBytes: Int { buffered.load(ordering: .relaxed) }
    func adjustBufferedRequestBytes(by delta: Int) { buffered.add(delta, ordering: .relaxed) }

    func connectionClosed() { active.subtract(1, ordering: .relaxed) }

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
            guard active.load(ordering: .relaxed) < configuration.maxConnections else {
                rejected.add(1, ordering: .relaxed)  // before close, so whoever sees the close sees the count
                close(fd)
                logConnectionLimit()
                continue
            }
            active.add(1, ordering: .relaxed)
            accepted.add(1, ordering: .relaxed)
            Socket.setNoDelay(fd)
            let loop = listener.withLock { state -> EventLoop in
                state.nextLoop = (state.nextLoop + 1) % loops.count
                return loops[state.nextLoop]
            }
            loop.execute {
                let connection = Connection(fd: fd, peer: peer, loop: loop, server: self)
                connection.start()
            }
        }
    }

    private func logConnectionLimit() {
        let now = clock.now()
        let shouldLog = listener.withLock { state -> Bool in
            if let last = state.lastLimitLog, now < last + .seconds(10) { return false }
            state.lastLimitLog = now
            return true
        }
        if shouldLog {
            logger.warning("connection limit reached; closing new connections", metadata: [
                "max_connections": "\(configuration.maxConnections)", "rejected_total": "\(rejected.load(ordering: .relaxed))",
            ])
        }
    }

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
