import RoomstreamServer

extension RoomstreamConfiguration {
    /// `server`: the listener, its limits and timeouts, the client address behind proxies, the
    /// connection-flood defences and the admin listener. Each field is read in its own
    /// `attempt`, so `check-config` lists every problem.
    static func parseServer(_ server: ConfigObject, into config: inout RoomstreamConfiguration, problems: inout [ConfigurationError]) {
        func attempt(_ body: () throws(ConfigurationError) -> Void) {
            do { try body() } catch { problems.append(error) }
        }
        problems += server.unknownKeyProblems([ "host", "port", "backlog", "max_connections", "event_loops", "header_timeout_seconds", "body_timeout_seconds", "idle_timeout_seconds", "write_timeout_seconds", "drain_timeout_seconds", "max_request_line_bytes", "max_header_bytes", "max_header_fields", "max_body_bytes", "max_buffered_request_mib", "trusted_proxies", "client_ip_header",
                                             "max_connections_per_client", "pressure_high_water_percent", "pressure_header_timeout_seconds",
                                             "pressure_idle_timeout_seconds", "reclaim_grace_seconds", "admin_listener", ])
        attempt { () throws(ConfigurationError) in
            if let n = try server.integer("max_connections_per_client", in: 0...1_000_000) { config.server.maxConnectionsPerClient = n }
        }
        attempt { () throws(ConfigurationError) in
            if let n = try server.integer("pressure_high_water_percent", in: 1...100) { config.server.pressureHighWaterPercent = n }
        }
        attempt { () throws(ConfigurationError) in
            if let t = try server.seconds("pressure_header_timeout_seconds") { config.server.timeouts.pressureHeaderTimeout = t }
        }
        attempt { () throws(ConfigurationError) in
            if let t = try server.seconds("pressure_idle_timeout_seconds") { config.server.timeouts.pressureIdleTimeout = t }
        }
        attempt { () throws(ConfigurationError) in
            if let t = try server.seconds("reclaim_grace_seconds") { config.server.reclaimGrace = t }
        }
        attempt { () throws(ConfigurationError) in
            guard let admin = try server.object("admin_listener") else { return }
            problems += admin.unknownKeyProblems(["host", "port", "max_connections"])
            var listener = AdminListenerConfiguration()
            if let host = try admin.string("host") { listener.host = try validHost(host, field: "server.admin_listener.host") }
            guard let port = try admin.integer("port", in: 0...65535) else {
                throw ConfigurationError(field: "server.admin_listener.port", problem: "is required (the admin listener is on when the object is present)")
            }
            listener.port = port
            if let max = try admin.integer("max_connections", in: 1...10_000) { listener.maxConnections = max }
            config.adminListener = listener
        }
        attempt { () throws(ConfigurationError) in
            if let proxies = try server.strings("trusted_proxies") {
                config.clientAddress.trustedProxies = try ClientAddressResolver.parseNetworks(proxies, field: "server.trusted_proxies")
            }
        }
        attempt { () throws(ConfigurationError) in
            if let name = try server.string("client_ip_header") {
                guard let header = ClientAddressResolver.Header(rawValue: name.lowercased()) else {
                    throw ConfigurationError(field: "server.client_ip_header", problem: "must be \"x-forwarded-for\" or \"forwarded\", got \"\(name)\"")
                }
                config.clientAddress.header = header
            }
        }
        attempt { () throws(ConfigurationError) in
            if let mib = try server.integer("max_buffered_request_mib", in: 1...1_048_576) { config.server.maxBufferedRequestBytes = mib << 20 }
        }
        attempt { () throws(ConfigurationError) in
            if let host = try server.string("host") { config.server.host = try validHost(host, field: "server.host") }
        }
        attempt { () throws(ConfigurationError) in
            if let port = try server.integer("port", in: 0...65535) { config.server.port = port }
        }
        attempt { () throws(ConfigurationError) in
            if let backlog = try server.integer("backlog", in: 1...65535) { config.server.backlog = backlog }
        }
        attempt { () throws(ConfigurationError) in
            if let max = try server.integer("max_connections", in: 1...1_000_000) { config.server.maxConnections = max }
        }
        attempt { () throws(ConfigurationError) in
            if let loops = try server.integer("event_loops", in: 0...256) { config.server.eventLoopCount = loops == 0 ? System.coreCount : loops }
        }
        attempt { () throws(ConfigurationError) in
            if let t = try server.seconds("header_timeout_seconds") { config.server.timeouts.headerTimeout = t }
        }
        attempt { () throws(ConfigurationError) in
            if let t = try server.seconds("body_timeout_seconds") { config.server.timeouts.bodyTimeout = t }
        }
        attempt { () throws(ConfigurationError) in
            if let t = try server.seconds("idle_timeout_seconds") { config.server.timeouts.idleTimeout = t }
        }
        attempt { () throws(ConfigurationError) in
            if let t = try server.seconds("write_timeout_seconds") { config.server.timeouts.writeTimeout = t }
        }
        attempt { () throws(ConfigurationError) in
            if let t = try server.seconds("drain_timeout_seconds") { config.drainTimeout = t }
        }
        attempt { () throws(ConfigurationError) in
            if let n = try server.integer("max_request_line_bytes", in: 64...1_048_576) { config.server.limits.maxRequestLineBytes = n }
        }
        attempt { () throws(ConfigurationError) in
            if let n = try server.integer("max_header_bytes", in: 256...16_777_216) { config.server.limits.maxHeaderBytes = n }
        }
        attempt { () throws(ConfigurationError) in
            if let n = try server.integer("max_header_fields", in: 1...10_000) { config.server.limits.maxHeaderFields = n }
        }
        attempt { () throws(ConfigurationError) in
            if let n = try server.integer("max_body_bytes", in: 0...1_073_741_824) { config.server.limits.maxBodyBytes = n }
        }
    }
}
