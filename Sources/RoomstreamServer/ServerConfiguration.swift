import RoomstreamHTTP

/// How long each phase of a connection may take (see `ConnectionStateMachine`).
public struct ConnectionTimeouts: Sendable, Equatable {
    /// From the first byte of a request (or from accept, for the first one) until its head is
    /// complete. A client dripping one byte a second is closed by this.
    public var headerTimeout: Duration
    /// From the end of the head until the whole body has arrived.
    public var bodyTimeout: Duration
    /// How long a keep-alive connection may sit between requests.
    public var idleTimeout: Duration
    /// How long a response write may make no progress (the client does not read).
    public var writeTimeout: Duration
    /// After a closing response, how long unread input is drained so the client sees the
    /// response instead of a reset (a "lingering close").
    public var lingerTimeout: Duration

    public init(
        headerTimeout: Duration = .seconds(10), bodyTimeout: Duration = .seconds(30),
        idleTimeout: Duration = .seconds(60), writeTimeout: Duration = .seconds(30),
        lingerTimeout: Duration = .seconds(2)
    ) {
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
        self.writeTimeout = writeTimeout
        self.lingerTimeout = lingerTimeout
    }

    /// The period of the per-loop sweep that checks deadlines: a quarter of the shortest
    /// timeout, between 10 ms and 250 ms.
    var sweepInterval: Duration {
        let shortest = [headerTimeout, bodyTimeout, idleTimeout, writeTimeout, lingerTimeout].min() ?? .seconds(1)
        return min(max(shortest / 4, .milliseconds(10)), .milliseconds(250))
    }
}

public struct ServerConfiguration: Sendable, Equatable {
    /// Address to listen on: an IPv4 or IPv6 literal or a name; "::" listens on both families.
    public var host: String
    /// 0 picks an ephemeral port (tests); `HTTPServer.localPort` tells which.
    public var port: Int
    /// listen(2) backlog.
    public var backlog: Int
    /// Connections open at once. Beyond it a new connection is closed at once and counted in
    /// `HTTPServer.counters.rejectedConnections`.
    public var maxConnections: Int
    public var limits: HTTPParserLimits
    public var timeouts: ConnectionTimeouts
    /// Serial Dispatch queues connections are spread over; defaults to the core count.
    public var eventLoopCount: Int
    /// Size of one read(2).
    public var readChunkBytes: Int
    /// Most bytes discarded during a lingering close before the socket is closed anyway.
    public var maxLingerBytes: Int
    /// Request bytes buffered across all connections (`server.max_buffered_request_mib`):
    /// beyond it a connection holding part of a request is answered 503 and closed, so many
    /// slow large uploads at once cannot exhaust memory (each is already bounded by the
    /// body limit; this bounds their sum).
    public var maxBufferedRequestBytes = 256 << 20

    public init(
        host: String = "0.0.0.0", port: Int = 8080, backlog: Int = 1024, maxConnections: Int = 10_000,
        limits: HTTPParserLimits = HTTPParserLimits(), timeouts: ConnectionTimeouts = ConnectionTimeouts(),
        eventLoopCount: Int = System.coreCount, readChunkBytes: Int = 64 * 1024, maxLingerBytes: Int = 4 * 1024 * 1024
    ) {
        self.host = host
        self.port = port
        self.backlog = backlog
        self.maxConnections = maxConnections
        self.limits = limits
        self.timeouts = timeouts
        self.eventLoopCount = eventLoopCount
        self.readChunkBytes = readChunkBytes
        self.maxLingerBytes = maxLingerBytes
    }
}
