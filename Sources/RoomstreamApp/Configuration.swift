import Foundation
import RoomstreamCore
import RoomstreamHTTP
import RoomstreamServer
import RoomstreamStreams

/// Everything `roomstream serve` can be told. Built-in defaults, overridden by the JSON
/// config file, overridden by command-line flags.
public struct RoomstreamConfiguration: Sendable, Equatable {
    public var server = ServerConfiguration()
    /// How long in-flight requests may take to finish after SIGTERM/SIGINT.
    public var drainTimeout: Duration = .seconds(20)
    /// Where roomstream keeps its state (spool, stream definitions).
    public var dataDirectory = "data"
    public var logLevel = "info"
    /// Keys SDK clients authenticate ingest requests with (`ingest.keys`).
    public var ingestKeys: [String] = []
    /// Rooms: peer timeout and bounds (`ingest.*`, `rooms.*`).
    public var rooms = RoomRegistryConfiguration()
    /// Bearer token for the room (and later stream) routes; `ROOMSTREAM_ADMIN_TOKEN` overrides it.
    public var adminToken: String?
    /// Base URL of this service as clients reach it, for `room_url` in records. Unless the
    /// file sets `public_url`, it follows the listen address (`http://localhost:<port>` for a
    /// wildcard host), flags included.
    public var publicURL = "http://localhost:8080"
    /// Whether `public_url` came from the file (then flags do not change it).
    var publicURLIsExplicit = false
    /// Largest decompressed body of a gzip ingest request.
    public var maxDecompressedBodyBytes = 8 * 1024 * 1024
    /// Origins whose pages may post to the ingest routes (`ingest.cors_origins`; `*`: any).
    public var corsOrigins = ["*"]
    /// Ingest rate limits per key and per client address (`ingest.rate_limits`; off by default).
    var rateLimits = IngestRateLimitConfiguration()
    /// Which socket peers may say who the client is, and in which header
    /// (`server.trusted_proxies`, `server.client_ip_header`).
    var clientAddress = ClientAddressResolver()
    /// This instance's name, for `{instance}` in key templates (`instance_id`; default: the
    /// host name, lowercased, other characters than a-z 0-9 - _ . as `-`).
    public var instanceID = RoomstreamConfiguration.defaultInstanceID()
    /// MaxMind databases for peer locations (`location.city_database`, `location.asn_database`).
    var location = LocationConfiguration()
    /// `GET /metrics` without the admin token (`metrics.open`; for a scraper on a private network).
    public var metricsOpen = false
    /// A second listener for probes and operators (`server.admin_listener`; off when nil).
    public var adminListener: AdminListenerConfiguration?
    /// Data streams (`streams`).
    public var streams: [StreamDefinition] = []
    /// Extra wait after window end + peer timeout before sealing (`delivery.grace_seconds`).
    public var graceSeconds: Double = 10
    /// How long delivered files stay in the spool (`delivery.retention_days`).
    public var retentionDays: Double = 7
    /// Files above this go to S3 as multipart uploads (`delivery.multipart_threshold_mib`).
    public var multipartThresholdMiB = 64
    /// Directory destinations made through the admin API must lie under this directory
    /// (`delivery.api_directory_root`; nil: `<data dir>/files`; relative: under the data dir).
    public var apiDirectoryRoot: String?
    /// How long a paused stream holds its windows unsealed (`delivery.max_paused_hours`).
    public var maxPausedHours: Double = 24
    /// How often the live state is checkpointed (`durability.checkpoint_interval_seconds`).
    public var checkpointIntervalSeconds: Double = 10
    /// The write-ahead log's sync policy (`durability.log_policy`: `fsync`, `interval` with
    /// `durability.log_interval_ms`, `none`; `off`: no log, nil here).
    public var logPolicy: WriteAheadLog.SyncPolicy? = .fsync
    /// Log bytes not yet covered by a checkpoint (`durability.max_log_mib`): beyond it ingest
    /// answers 503 `storage_busy` and a checkpoint is taken at once.
    public var maxUncheckpointedLogBytes = 256 << 20
    /// Past this many uncheckpointed log bytes a checkpoint starts at once while ingest goes on
    /// (nil: half of `maxUncheckpointedLogBytes`), so that sustained ingest does not reach the
    /// bound before the timer's checkpoint. Not in the file; tests set it past the bound.
    public var earlyCheckpointLogBytes: Int?

    public init() {}

    public static let logLevels = ["trace", "debug", "info", "notice", "warning", "error", "critical"]
}

/// A configuration problem, naming the field (`server.port`) and what is wrong with it.
public struct ConfigurationError: Error, CustomStringConvertible, Equatable, Sendable {
    public var field: String
    public var problem: String
    public init(field: String, problem: String) {
        self.field = field
        self.problem = problem
    }
    public var description: String { field.isEmpty ? problem : "\(field): \(problem)" }
}

extension RoomstreamConfiguration {
    /// Reads a config file. Unknown keys are errors: a misspelt key silently ignored is a
    /// production incident waiting to happen.
    public static func load(file path: String) throws(ConfigurationError) -> RoomstreamConfiguration {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError(field: "", problem: "cannot read config file '\(path)'")
        }
        return try parse(data, source: path)
    }

    /// Parses a config file's bytes; throws the first problem (`check-config` lists them all).
    public static func parse(_ data: Data, source: String = "config") throws(ConfigurationError) -> RoomstreamConfiguration {
        let (config, problems) = parseCollectingProblems(data, source: source)
        if let first = problems.first { throw first }
        return config
    }

    /// JSONSerialization says "… around character N." (a 0-based UTF-8 offset): given as line
    /// and column (1-based, columns in characters), which an editor can jump to.
    static func jsonErrorDescription(_ error: any Error, data: Data) -> String {
        let debug = ((error as NSError).userInfo[NSDebugDescriptionErrorKey] as? String) ?? error.localizedDescription
        func position(_ offset: Int) -> String {
            let before = data.prefix(offset)
            let line = before.reduce(1) { $1 == 0x0A ? $0 + 1 : $0 }
            let lineStart = before.lastIndex(of: 0x0A).map { $0 + 1 } ?? before.startIndex
            return "line \(line), column \(String(decoding: before[lineStart...], as: UTF8.self).count + 1)"
        }
        if debug.contains("end of file") { return "\(debug.hasSuffix(".") ? String(debug.dropLast()) : debug) at \(position(data.count))" }
        guard let range = debug.range(of: "around character "),
              let offset = Int(debug[range.upperBound...].prefix { $0.isNumber }), offset >= 0, offset <= data.count else { return debug }
        let what = debug[..<range.lowerBound].trimmingCharacters(in: .whitespaces)
        return "\(what) at \(position(offset))"
    }

    /// Parses a config file's bytes, going on past problems: every field that can be read is
    /// checked, and each problem is returned with its JSON path, in file order of sections.
    public static func parseCollectingProblems(_ data: Data, source: String = "config") -> (RoomstreamConfiguration, [ConfigurationError]) {
        var config = RoomstreamConfiguration()
        let root: Any
        do {
            root = try JSONSerialization.jsonObject(with: data, options: [])
        } catch {
            return (config, [ConfigurationError(field: "", problem: "\(source) is not valid JSON: \(jsonErrorDescription(error, data: data))")])
        }
        var problems: [ConfigurationError] = []
        func attempt(_ body: () throws(ConfigurationError) -> Void) {
            do { try body() } catch { problems.append(error) }
        }
        let reader: ConfigObject
        do { reader = try ConfigObject(root, path: "") } catch { return (config, [error]) }
        problems += reader.unknownKeyProblems(["server", "data_dir", "log", "ingest", "rooms", "admin", "public_url", "streams", "delivery", "durability", "metrics", "location", "instance_id"])
        attempt { () throws(ConfigurationError) in
            if let location = try reader.object("location") {
                problems += location.unknownKeyProblems(["city_database", "asn_database"])
                attempt { () throws(ConfigurationError) in
                    for (key, path) in [("city_database", \LocationConfiguration.cityDatabase), ("asn_database", \LocationConfiguration.asnDatabase)] {
                        guard let value = try location.string(key) else { continue }
                        guard !value.isEmpty else { throw ConfigurationError(field: "location.\(key)", problem: "must be a file path (omit the key for no look-ups)") }
                        config.location[keyPath: path] = value
                    }
                }
            }
        }
        attempt { () throws(ConfigurationError) in
            if let metrics = try reader.object("metrics") {
                problems += metrics.unknownKeyProblems(["open"])
                attempt { () throws(ConfigurationError) in
                    if let open = try metrics.bool("open") { config.metricsOpen = open }
                }
            }
        }
        attempt { () throws(ConfigurationError) in
            if let durability = try reader.object("durability") {
                problems += durability.unknownKeyProblems(["checkpoint_interval_seconds", "log_policy", "log_interval_ms", "max_log_mib"])
                attempt { () throws(ConfigurationError) in
                    let interval = try durability.integer("log_interval_ms", in: 1...60_000)
                    switch try durability.string("log_policy") {
                    case nil, "fsync":
                        guard interval == nil else { throw ConfigurationError(field: "durability.log_interval_ms", problem: "applies only to log_policy \"interval\"") }
                    case "interval": config.logPolicy = .interval(milliseconds: interval ?? 200)
                    case "none": config.logPolicy = WriteAheadLog.SyncPolicy.none
                    case "off": config.logPolicy = nil
                    case let other?:
                        throw ConfigurationError(field: "durability.log_policy", problem: "'\(other)' is not one of fsync, interval, none, off")
                    }
                }
                attempt { () throws(ConfigurationError) in
                    if let mib = try durability.integer("max_log_mib", in: 1...1_048_576) { config.maxUncheckpointedLogBytes = mib << 20 }
                }
                attempt { () throws(ConfigurationError) in
                    if let seconds = try durability.number("checkpoint_interval_seconds") {
                        guard seconds >= 0.1, seconds <= 3600 else {
                            throw ConfigurationError(field: "durability.checkpoint_interval_seconds", problem: "must be from 0.1 to 3600")
                        }
                        config.checkpointIntervalSeconds = seconds
                    }
                }
            }
        }
        attempt { () throws(ConfigurationError) in
            if let streams = reader.values["streams"] { try parseStreams(streams, into: &config, problems: &problems) }
        }
        attempt { () throws(ConfigurationError) in
            if let delivery = try reader.object("delivery") {
                problems += delivery.unknownKeyProblems(["grace_seconds", "retention_days", "multipart_threshold_mib", "api_directory_root", "max_paused_hours"])
                attempt { () throws(ConfigurationError) in
                    if let hours = try delivery.number("max_paused_hours") {
                        guard hours > 0, hours <= 8760 else { throw ConfigurationError(field: "delivery.max_paused_hours", problem: "must be above 0 and at most 8760") }
                        config.maxPausedHours = hours
                    }
                }
                attempt { () throws(ConfigurationError) in
                    if let root = try delivery.string("api_directory_root") {
                        guard !root.isEmpty else { throw ConfigurationError(field: "delivery.api_directory_root", problem: "must not be empty") }
                        config.apiDirectoryRoot = root
                    }
                }
                attempt { () throws(ConfigurationError) in
                    if let mib = try delivery.integer("multipart_threshold_mib", in: 5...5120) { config.multipartThresholdMiB = mib }
                }
                attempt { () throws(ConfigurationError) in
                    if let grace = try delivery.number("grace_seconds") {
                        guard (0...3600).contains(grace) else { throw ConfigurationError(field: "delivery.grace_seconds", problem: "must be from 0 to 3600") }
                        config.graceSeconds = grace
                    }
                }
                attempt { () throws(ConfigurationError) in
                    if let days = try delivery.number("retention_days") {
                        guard (0...3650).contains(days) else { throw ConfigurationError(field: "delivery.retention_days", problem: "must be from 0 to 3650") }
                        config.retentionDays = days
                    }
                }
            }
        }
        attempt { () throws(ConfigurationError) in
            if let server = try reader.object("server") { parseServer(server, into: &config, problems: &problems) }
        }
        attempt { () throws(ConfigurationError) in
            if let id = try reader.string("instance_id") {
                guard Self.isValidInstanceID(id) else {
                    throw ConfigurationError(field: "instance_id", problem: "must be 1-64 characters of a-z, 0-9, -, _ and ., got \"\(id)\"")
                }
                config.instanceID = id
            }
        }
        attempt { () throws(ConfigurationError) in
            if let dir = try reader.string("data_dir") {
                guard !dir.isEmpty else { throw ConfigurationError(field: "data_dir", problem: "must not be empty") }
                config.dataDirectory = dir
            }
        }
        attempt { () throws(ConfigurationError) in
            if let ingest = try reader.object("ingest") {
                problems += ingest.unknownKeyProblems(["keys", "peer_timeout_seconds", "max_live_rooms", "max_live_peers", "max_peers_per_room", "max_decompressed_bytes", "max_key_bytes_per_peer", "max_live_state_mib", "cors_origins", "rate_limits"])
                attempt { () throws(ConfigurationError) in
                    if let limits = try ingest.object("rate_limits") {
                        try limits.only(["key_per_second", "key_burst", "address_per_second", "address_burst", "max_tracked_addresses"])
                        config.rateLimits.perKey = try limits.rateLimit(perSecond: "key_per_second", burst: "key_burst")
                        config.rateLimits.perAddress = try limits.rateLimit(perSecond: "address_per_second", burst: "address_burst")
                        if let n = try limits.integer("max_tracked_addresses", in: 1024...100_000_000) { config.rateLimits.maxTrackedAddresses = n }
                    }
                }
                attempt { () throws(ConfigurationError) in
                    if let origins = try ingest.strings("cors_origins") {
                        if let (index, problem) = IngestCORS.validate(origins) { throw ConfigurationError(field: "ingest.cors_origins[\(index)]", problem: problem) }
                        config.corsOrigins = origins
                    }
                }
                attempt { () throws(ConfigurationError) in
                    if let mib = try ingest.integer("max_live_state_mib", in: 1...1_048_576) { config.rooms.maxLiveStateBytes = mib << 20 }
                }
                attempt { () throws(ConfigurationError) in
                    if let n = try ingest.integer("max_key_bytes_per_peer", in: 0...1_048_576) { config.rooms.maxKeyBytesPerPeer = n }
                }
                attempt { () throws(ConfigurationError) in
                    if let keys = try ingest.strings("keys") {
                        for (index, key) in keys.enumerated() where !Self.isValidIngestKey(key) {
                            throw ConfigurationError(field: "ingest.keys[\(index)]", problem: "must be at least 8 visible ASCII characters")
                        }
                        config.ingestKeys = keys
                    }
                }
                attempt { () throws(ConfigurationError) in
                    if let timeout = try ingest.seconds("peer_timeout_seconds") {
                        config.rooms.peerTimeoutSeconds = timeout.seconds
                    }
                }
                attempt { () throws(ConfigurationError) in
                    if let n = try ingest.integer("max_live_rooms", in: 1...10_000_000) { config.rooms.maxLiveRooms = n }
                }
                attempt { () throws(ConfigurationError) in
                    if let n = try ingest.integer("max_live_peers", in: 1...100_000_000) { config.rooms.maxLivePeers = n }
                }
                attempt { () throws(ConfigurationError) in
                    if let n = try ingest.integer("max_peers_per_room", in: 1...100_000) { config.rooms.maxPeersPerRoom = n }
                }
                attempt { () throws(ConfigurationError) in
                    if let n = try ingest.integer("max_decompressed_bytes", in: 1024...1_073_741_824) { config.maxDecompressedBodyBytes = n }
                }
            }
        }
        attempt { () throws(ConfigurationError) in
            if let rooms = try reader.object("rooms") {
                problems += rooms.unknownKeyProblems(["max_ended_rooms"])
                attempt { () throws(ConfigurationError) in
                    if let n = try rooms.integer("max_ended_rooms", in: 1...10_000_000) { config.rooms.maxEndedRooms = n }
                }
            }
        }
        attempt { () throws(ConfigurationError) in
            if let admin = try reader.object("admin") {
                problems += admin.unknownKeyProblems(["token"])
                attempt { () throws(ConfigurationError) in
                    if let token = try admin.string("token") {
                        guard token.isEmpty || token.count >= 16 else {
                            throw ConfigurationError(field: "admin.token", problem: "must be at least 16 characters (or empty to disable the admin routes)")
                        }
                        config.adminToken = token.isEmpty ? nil : token
                    }
                }
            }
        }
        attempt { () throws(ConfigurationError) in
            if let url = try reader.string("public_url") {
                guard url.hasPrefix("http://") || url.hasPrefix("https://") else {
                    throw ConfigurationError(field: "public_url", problem: "must start with http:// or https://, got \"\(url)\"")
                }
                config.publicURL = url.hasSuffix("/") ? String(url.dropLast()) : url
            config.publicURLIsExplicit = true
            }
        }
        attempt { () throws(ConfigurationError) in
            // A room that ended is sealed at the earliest peer timeout + grace after its end; a
            // checkpoint taken in between must already show it ended (see docs/durability.md).
            guard config.checkpointIntervalSeconds < config.rooms.peerTimeoutSeconds + config.graceSeconds else {
                throw ConfigurationError(field: "durability.checkpoint_interval_seconds", problem: "must be below ingest.peer_timeout_seconds + delivery.grace_seconds (\(config.rooms.peerTimeoutSeconds + config.graceSeconds))")
            }
        }
        attempt { () throws(ConfigurationError) in
            if let log = try reader.object("log") {
                problems += log.unknownKeyProblems(["level"])
                attempt { () throws(ConfigurationError) in
                    if let level = try log.string("level") {
                        guard logLevels.contains(level) else {
                            throw ConfigurationError(field: "log.level", problem: "must be one of \(logLevels.joined(separator: ", ")), got \"\(level)\"")
                        }
                        config.logLevel = level
                    }
                }
            }
        }
        config.followListenAddressIfNoPublicURL()
        return (config, problems)
    }

    static func validHost(_ host: String, field: String) throws(ConfigurationError) -> String {
        guard !host.isEmpty, host.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F && $0 != 0x2F }) else {
            throw ConfigurationError(field: field, problem: "must be an IP address or host name, got \"\(host)\"")
        }
        return host
    }
}

/// `server.admin_listener`: an address of its own for `/healthz`, `/readyz`, `/metrics`, the
/// operator page and the admin API (not ingest), with a small connection budget of its own, so
/// probes and operators get through while the main listener is saturated.
public struct AdminListenerConfiguration: Sendable, Equatable {
    /// Loopback by default: the admin API is for the host's probes and a private network.
    public var host = "127.0.0.1"
    public var port = 9091
    public var maxConnections = 64
}
