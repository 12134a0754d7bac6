#if canImport(Glibc)
import Glibc
#endif
import CEpoll
import Foundation
import RoomstreamBasics
import RoomstreamHTTP

/// Told when an event loop starts and finishes a batch: the events one blocking `epoll_wait`
/// returned, those of the zero-timeout waits right after it that still find some (at most
/// 256 events in all), and the tasks queued meanwhile. On the loop's thread: work that is
/// cheaper per batch than per request (the write-ahead log's group commit) waits for the
/// batch's end. Both calls must be cheap and must not block.
public protocol EventBatchObserver: Sendable {
    func batchBegan()
    func batchEnded()
}

/// A thread that owns a share of the connections and runs its own edge-triggered `epoll`:
/// reading, parsing, routing, handling and writing a connection all happen on it, with no
/// thread hop per event (libdispatch on Linux hands every source event from its epoll thread
/// to a worker, measured at 2.7 context switches per request). Work from other threads (a new
/// connection, a deferred response, a drain) is queued with `execute` and wakes the loop
/// through an `eventfd`. One deadline sweep per loop, from `epoll_wait`'s timeout, checks the
/// connections' timeouts instead of a timer per connection.
// SAFETY: every mutable property but `tasks` (behind its lock) is read and written only on the
// loop's thread.
final class EventLoop: @unchecked Sendable {
    let clock: any ServerClock
    let index: Int
    private var epollFD: Int32 = -1
    private var wakeFD: Int32 = -1
    private var connections: [Int32: Connection] = [:]
    private var cachedDateSecond = -1
    private var cachedDate = ""
    /// One read buffer for every connection of the loop: reads happen one at a time on its thread.
    var readBuffer: [UInt8]
    private let tasks = Locked(Tasks())
    private var sweepInterval: Duration = .milliseconds(250)
    /// When the next sweep is due, on the real monotonic clock (the injected `clock`, which
    /// tests may hold still, only dates the deadlines the sweep checks).
    private var nextSweep: ServerInstant
    private let realClock = SystemClock()
    private var running = true
    /// Asked once per sweep: whether the server is under connection pressure.
    private var pressure: @Sendable () -> Bool = { false }
    /// The loop's open connections by activity, as of its last sweep.
    private let published = Locked<[ConnectionStateMachine.Activity: Int]>([:])
    var census: [ConnectionStateMachine.Activity: Int] { published.withLock { $0 } }

    private struct Tasks {
        var queued: [@Sendable () -> Void] = []
        /// A wake-up is written and not yet consumed: no second write needed.
        var woken = false
        var stopped = false
    }

    let batchObserver: (any EventBatchObserver)?

    init(index: Int, clock: any ServerClock, readChunkBytes: Int, batchObserver: (any EventBatchObserver)? = nil) {
        self.index = index
        self.batchObserver = batchObserver
        self.clock = clock
        self.readBuffer = [UInt8](repeating: 0, count: readChunkBytes)
        self.nextSweep = realClock.now()
    }

    /// Creates the epoll instance and its wake-up eventfd, then starts the loop's thread.
    func start(sweepEvery interval: Duration, pressure: @escaping @Sendable () -> Bool = { false }) throws(SocketError) {
        self.pressure = pressure
        epollFD = rs_epoll_create()
        guard epollFD >= 0 else { throw SocketError(operation: "epoll_create1", errno: errno) }
        wakeFD = rs_eventfd()
        guard wakeFD >= 0, rs_epoll_add(epollFD, wakeFD, 1) == 0 else {
            let code = errno
            if wakeFD >= 0 { closeDescriptor(wakeFD) }
            closeDescriptor(epollFD)
            // Forgotten and stopped: a later stop() must not write to (or anyone close) a
            // descriptor number the process may have reused since.
            wakeFD = -1
            epollFD = -1
            tasks.withLock { $0.stopped = true }
            throw SocketError(operation: "eventfd", errno: code)
        }
        sweepInterval = interval
        nextSweep = realClock.now() + interval
        let thread = Thread { [self] in run() }
        thread.name = "roomstream.loop.\(index)"
        thread.start()
    }

    /// Runs `task` on the loop's thread, soon. From any thread.
    func execute(_ task: @escaping @Sendable () -> Void) {
        let wake = tasks.withLock { tasks -> Bool in
            guard !tasks.stopped else { return false }
            tasks.queued.append(task)
            defer { tasks.woken = true }
            return !tasks.woken
        }
        if wake {
            var one: UInt64 = 1
            _ = write(wakeFD, &one, 8)  // best effort: EAGAIN means the counter is already non-zero
        }
    }

    /// Ends the thread after the tasks queued so far; it closes its descriptors.
    func stop() { execute { [self] in running = false } }

    // MARK: Registration (on the loop's thread)

    /// Watches `connection.fd` for input and output, edge-triggered: the connection reads until
    /// the socket is drained and writes until EAGAIN, and an event only says something changed.
    func register(_ connection: Connection) {
        connections[connection.fd] = connection
        if rs_epoll_add(epollFD, connection.fd, 0) != 0 { connection.forceClose() }
    }

    /// Stops watching and forgets the connection; the caller closes the descriptor after.
    func remove(_ connection: Connection) {
        rs_epoll_remove(epollFD, connection.fd)
        connections[connection.fd] = nil
    }

    /// Stops accepting new requests on every connection: idle ones close now.
    func drainAll() {
        for connection in Array(connections.values) { connection.drain() }
    }

    func closeAll() {
        for connection in Array(connections.values) { connection.forceClose() }
    }

    /// Closes up to `count` connections that hold no request in flight, idle keep-alive ones
    /// first, then those without a complete head after `grace`; oldest first within each.
    /// Returns the reasons of those closed. One scan per batch: the batch's extra free slots
    /// admit the next arrivals without another.
    func reclaim(upTo count: Int, now: ServerInstant, grace: Duration) -> [ConnectionStateMachine.ReclaimReason] {
        var idle: [Connection] = [], partial: [Connection] = []
        for connection in connections.values {
            switch connection.reclaimReason(now: now, grace: grace) {
            case .idle: idle.append(connection)
            case .partialHead: partial.append(connection)
            case nil: break
            }
        }
        var closed: [ConnectionStateMachine.ReclaimReason] = []
        for (reason, candidates) in [(ConnectionStateMachine.ReclaimReason.idle, idle), (.partialHead, partial)] {
            for connection in candidates.sorted(by: { $0.stateSince < $1.stateSince }) {
                guard closed.count < count else { return closed }
                if connection.reclaim(reason) { closed.append(reason) }
            }
        }
        return closed
    }

    /// The `Date` header value, formatted once per second.
    func dateHeader() -> String {
        let second = clock.epochSeconds()
        if second != cachedDateSecond {
            cachedDateSecond = second
            cachedDate = HTTPDate.imfFixdate(epochSeconds: second)
        }
        return cachedDate
    }

    // MARK: The loop

    /// At most this many events per batch (one `epoll_wait` returns at most 256 as well).
    static let maxBatchEvents = 256

    private func run() {
        var fds = [Int32](repeating: -1, count: 256)
        var events = [UInt32](repeating: 0, count: 256)
        // A batch (see `EventBatchObserver`) spans the events of one `epoll_wait` and of the
        // zero-timeout ones right after it, while they find events, up to `maxBatchEvents`:
        // under load, requests trickle in a few per wait, and ending the batch after each let
        // the write-ahead log start a group for the first one or two while the rest waited for
        // the next (decision #62 has the measurements: a third fewer syncs, a tenth less CPU
        // per request). The batch ends as soon as a poll finds nothing, so an idle moment
        // never holds a record back.
        var batchOpen = false
        var batchEvents = 0
        while running {
            let now = realClock.now()
            // An open batch only polls; otherwise sleep until the next sweep.
            let untilSweep = nextSweep > now ? Int32(clamping: (nextSweep.nanoseconds - now.nanoseconds + 999_999) / 1_000_000) : 0
            let timeout = batchOpen ? 0 : untilSweep
            // SAFETY: the shim writes at most 256 entries into each array, which both hold 256.
            let count = fds.withUnsafeMutableBufferPointer { fdBuffer in
                events.withUnsafeMutableBufferPointer { eventBuffer in
                    rs_epoll_wait(epollFD, fdBuffer.baseAddress, eventBuffer.baseAddress, 256, timeout)
                }
            }
            if count < 0 && errno != EINTR { break }
            // Without an observer (the log off) nobody waits for a batch's end: no extra polls.
            if count > 0 && !batchOpen, let batchObserver {
                batchObserver.batchBegan()
                batchOpen = true
                batchEvents = 0
            }
            batchEvents += max(0, Int(count))
            for index in 0..<max(0, Int(count)) {
                let fd = fds[index]
                if fd == wakeFD {
                    var value: UInt64 = 0
                    _ = read(wakeFD, &value, 8)  // resets the counter; the tasks below are what matter
                    continue
                }
                guard let connection = connections[fd] else { continue }
                let flags = events[index]
                if flags & (RS_EVENT_WRITABLE | RS_EVENT_CLOSED) != 0 { connection.writable() }
                if flags & (RS_EVENT_READABLE | RS_EVENT_CLOSED) != 0 { connection.readableEdge(hangUp: flags & RS_EVENT_CLOSED != 0) }
            }
            runTasks()
            if batchOpen && (count <= 0 || batchEvents >= Self.maxBatchEvents) {
                batchObserver?.batchEnded()
                batchOpen = false
            }
            if realClock.now() >= nextSweep {
                sweep()
                nextSweep = realClock.now() + sweepInterval
            }
        }
        if batchOpen { batchObserver?.batchEnded() }
        tasks.withLock { $0.stopped = true }
        runTasks()
        // Only a server that is going away stops a loop with connections left: close them
        // without telling it.
        for connection in Array(connections.values) { connection.abandon() }
        connections = [:]
        closeDescriptor(wakeFD)
        closeDescriptor(epollFD)
    }

    /// Checks every connection's deadline (shortened under pressure) and publishes the census.
    private func sweep() {
        let deadlineTime = clock.now()
        let underPressure = pressure()
        var census: [ConnectionStateMachine.Activity: Int] = [:]
        for connection in Array(connections.values) {
            connection.checkDeadline(now: deadlineTime, underPressure: underPressure)
            if let activity = connection.activity { census[activity, default: 0] += 1 }
        }
        published.withLock { $0 = census }
    }

    private func runTasks() {
        let queued = tasks.withLock { tasks -> [@Sendable () -> Void] in
            defer {
                tasks.queued = []
                tasks.woken = false
            }
            return tasks.queued
        }
        for task in queued { task() }
    }
}
