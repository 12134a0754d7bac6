import RoomstreamBasics
import Dispatch
import RoomstreamHTTP

/// A serial Dispatch queue that owns a share of the connections: their sources fire on it,
/// their handlers run on it, and one sweep timer per loop checks their deadlines (cheaper
/// than a timer per connection, which would be re-armed on every request).
// SAFETY: every mutable property is read and written only on `queue`.
final class EventLoop: @unchecked Sendable {
    let queue: DispatchQueue
    let clock: any ServerClock
    private var connections: [Int32: Connection] = [:]
    private var sweepTimer: DispatchSourceTimer?
    private var cachedDateSecond = -1
    private var cachedDate = ""
    /// One read buffer for every connection of the loop: reads happen one at a time on `queue`.
    var readBuffer: [UInt8]

    init(index: Int, clock: any ServerClock, readChunkBytes: Int) {
        self.queue = DispatchQueue(label: "roomstream.loop.\(index)")
        self.clock = clock
        self.readBuffer = [UInt8](repeating: 0, count: readChunkBytes)
    }

    func startSweeping(every interval: Duration) {
        let timer = DispatchSource.makeTimerSource(queue: queue)
        let nanos = interval.nanoseconds
        timer.schedule(deadline: .now() + .nanoseconds(nanos), repeating: .nanoseconds(nanos), leeway: .nanoseconds(nanos / 10))
        timer.setEventHandler { [weak self] in self?.sweep() }
        timer.resume()
        sweepTimer = timer
    }

    func stopSweeping() {
        sweepTimer?.cancel()
        sweepTimer = nil
    }

    private func sweep() {
        let now = clock.now()
        for connection in connections.values { connection.checkDeadline(now: now) }
    }

    func register(_ connection: Connection) { connections[connection.fd] = connection }
    func remove(_ connection: Connection) { connections[connection.fd] = nil }

    /// Stops accepting new requests on every connection: idle ones close now.
    func drainAll() {
        for connection in connections.values { connection.drain() }
    }

    func closeAll() {
        for connection in connections.values { connection.forceClose() }
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
}
