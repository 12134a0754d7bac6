import Foundation
import RoomstreamServer

extension RoomstreamConfiguration {
    /// Applies environment overrides for secrets, so they need not sit in the file:
    /// `ROOMSTREAM_ADMIN_TOKEN` (empty disables the admin routes) and `ROOMSTREAM_INGEST_KEYS`
    /// (comma-separated; replaces `ingest.keys`). S3 streams read the standard AWS variables
    /// themselves (docs/data-streams.md).
    public mutating func applyEnvironment(_ environment: [String: String]) throws(ConfigurationError) {
        if let token = environment["ROOMSTREAM_ADMIN_TOKEN"] {
            guard token.isEmpty || token.count >= 16 else {
                throw ConfigurationError(field: "ROOMSTREAM_ADMIN_TOKEN", problem: "must be at least 16 characters")
            }
            adminToken = token.isEmpty ? nil : token
        }
        if let list = environment["ROOMSTREAM_INGEST_KEYS"] {
            let keys = list.split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
            for (index, key) in keys.enumerated() where !Self.isValidIngestKey(key) {
                throw ConfigurationError(field: "ROOMSTREAM_INGEST_KEYS[\(index)]", problem: "must be at least 8 visible ASCII characters")
            }
            ingestKeys = keys
        }
    }

    /// `public_url` from the listen address when the file does not set it.
    mutating func followListenAddressIfNoPublicURL() {
        guard !publicURLIsExplicit else { return }
        let host = server.host
        let name = host == "0.0.0.0" || host == "::" || host.isEmpty ? "localhost" : host.contains(":") ? "[\(host)]" : host
        publicURL = "http://\(name):\(server.port)"
    }

    static func isValidInstanceID(_ id: String) -> Bool {
        (1...64).contains(id.utf8.count) && id.utf8.allSatisfy { ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2D || $0 == 0x5F || $0 == 0x2E }
    }

    /// The host name made fit for a key (`instance_id`'s default).
    static func defaultInstanceID() -> String {
        let mapped = String(String(ProcessInfo.processInfo.hostName.lowercased().map { c -> Character in
            c.isASCII && (c.isLetter || c.isNumber || c == "-" || c == "_" || c == ".") ? c : "-"
        }).prefix(64))
        return mapped.isEmpty ? "roomstream" : mapped
    }

    static func isValidIngestKey(_ key: String) -> Bool {
        key.count >= 8 && !key.utf8.contains(where: { $0 <= 0x20 || $0 >= 0x7F })
    }

    /// Applies command-line flags on top of the file and defaults.
    public mutating func apply(host: String?, port: Int?, dataDirectory: String?, logLevel: String?) throws(ConfigurationError) {
        if let host { server.host = try Self.validHost(host, field: "--host") }
        if let port {
            guard (0...65535).contains(port) else { throw ConfigurationError(field: "--port", problem: "must be from 0 to 65535, got \(port)") }
            server.port = port
        }
        if let dataDirectory {
            guard !dataDirectory.isEmpty else { throw ConfigurationError(field: "--data-dir", problem: "must not be empty") }
            self.dataDirectory = dataDirectory
        }
        if let logLevel {
            guard Self.logLevels.contains(logLevel) else {
                throw ConfigurationError(field: "--log-level", problem: "must be one of \(Self.logLevels.joined(separator: ", ")), got \"\(logLevel)\"")
            }
            self.logLevel = logLevel
        }
        followListenAddressIfNoPublicURL()
    }
}
