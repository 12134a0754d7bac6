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
    /// The header timeout while open connections are above the high-water mark
    /// (`ServerConfiguration.pressureHighWaterConnections`): slow or silent clients cannot hold
    /// slots for the full normal timeout when slots run short.
    public var pressureHeaderTimeout: Duration
    /// The idle (keep-alive) timeout above the high-water mark.
    public var pressureIdleTimeout: Duration

    public init(
        headerTimeout: Duration = .seconds(10), bodyTimeout: Duration = .seconds(30),
        idleTimeout: Duration = .seconds(60), writeTimeout: Duration = .seconds(30),
        lingerTimeout: Duration = .seconds(2),
        pressureHeaderTimeout: Duration = .seconds(3), pressureIdleTimeout: Duration = .seconds(5)
    ) {
        self.headerTimeout = headerTimeout
        self.bodyTimeout = bodyTimeout
        self.idleTimeout = idleTimeout
        self.writeTimeout = writeTimeout
        self.lingerTimeout = lingerTimeout
        self.pressureHeaderTimeout = pressureHeaderTimeout
        self.pressureIdleTimeout = pressureIdleTimeout
    }

    /// The period of the per-loop sweep that checks deadlines: a quarter of the shortest
    /// timeout, between 10 ms and 250 ms.
    var sweepInterval: Duration {
        let shortest = [headerTimeout, bodyTimeout, idleTimeout, writeTimeout, lingerTimeout, pressureHeaderTimeout, pressureIdleTimeout].min() ?? .seconds(1)
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
    /// Connections open at once. At the limit a new connection is admitted by closing ones that
    /// hold no request in flight (`reclaimGrace`); when there are none it is closed at once and
    /// counted in `HTTPServer.counters.rejectedConnections`.
    public var maxConnections: Int
    /// Open connections per client (`server.max_connections_per_client`; 0: no cap): beyond it
    /// the client's new connection is closed at once and counted. The client is the socket peer,
    /// IPv6 per /64; peers in `perClientExemptNetworks` (the trusted proxies, which carry many
    /// clients) are not capped. Browsers open at most 6 connections per origin (HTTP/1.1).
    public var maxConnectionsPerClient = 256
    public var perClientExemptNetworks: [IPNetwork] = []
    /// Above this share of `maxConnections` open, the pressure timeouts apply
    /// (`server.pressure_high_water_percent`).
    public var pressureHighWaterPercent = 75
    /// A connection that has sent no complete head is reclaimable once this old.
    public var reclaimGrace: Duration = .seconds(1)
    /// Connections a loop closes at once when a new one needs a slot (nginx closes up to 32
    /// reusable ones); the extra free slots admit the next arrivals without another scan.
    public var reclaimBatch = 16
    /// Headers added to the answers the server itself gives before any route runs (parse
    /// errors such as 413 and 431, 408, 503 `server_busy`). The service puts its CORS headers
    /// here, so a browser SDK can read those statuses (and `Retry-After`) instead of seeing a
    /// network error it would retry forever.
    public var serverErrorHeaders = ServerErrorHeaders()
    /// Open connections above which the server is under pressure.
    public var pressureHighWaterConnections: Int { max(1, maxConnections * pressureHighWaterPercent / 100) }
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

/// The headers of the server's own error answers (before any route runs): some always, some
/// only when the request read so far carries a given `Origin` (a CORS answer to a listed
/// origin must name it, Fetch standard "CORS protocol"). A head cut short before its `Origin`
/// line gets only the first kind.
public struct ServerErrorHeaders: Sendable, Equatable {
    public var always: [HTTPHeaderField]
    /// By the request's `Origin` value, compared byte for byte (an origin is serialized ASCII,
    /// RFC 6454 §6.1). Bounded by the configuration that lists the origins.
    public var byOrigin: [String: [HTTPHeaderField]]

    public init(always: [HTTPHeaderField] = [], byOrigin: [String: [HTTPHeaderField]] = [:]) {
        self.always = always
        self.byOrigin = byOrigin
    }

    /// The headers for an answer to a request whose fields read so far are `fields`.
    public func headers(for fields: HTTPFields) -> [HTTPHeaderField] {
        guard !byOrigin.isEmpty, let origin = fields.valueBytes("origin"),
              let matched = byOrigin[String(decoding: origin, as: UTF8.self)] else { return always }
        return always + matched
    }
}
