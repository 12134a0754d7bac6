import RoomstreamHTTP
import RoomstreamServer

/// Ingest keys and the admin token. Comparisons run over every byte so their time does not
/// tell how much of a guess was right.
struct Authorization: Sendable {
    let ingestKeys: [[UInt8]]
    let adminToken: [UInt8]?

    init(ingestKeys: [String], adminToken: String?) {
        self.ingestKeys = ingestKeys.map { Array($0.utf8) }
        self.adminToken = adminToken.map { Array($0.utf8) }
    }

    static func bearer(_ request: RoutedRequest) -> String? {
        guard let header = request.http.headers["authorization"] else { return nil }
        let parts = header.split(separator: " ", maxSplits: 1)
        guard parts.count == 2, parts[0].lowercased() == "bearer" else { return nil }
        return String(parts[1]).trimmingSpaces()
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: some Collection<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        for (x, y) in zip(a, b) { difference |= x ^ y }
        return difference == 0
    }

    func isIngestKey(_ candidate: String) -> Bool {
        let bytes = Array(candidate.utf8)
        var found = false
        for key in ingestKeys where Self.constantTimeEqual(key, bytes) { found = true }
        return found
    }

    /// ingest-api.md: `Authorization: Bearer <key>`, or `?key=` for sendBeacon.
    func requireIngestKey(_ request: RoutedRequest) throws(APIError) {
        guard let key = Self.bearer(request) ?? request.query["key"] else { throw AppErrors.missingKey }
        guard isIngestKey(key) else { throw AppErrors.unknownKey }
    }

    func requireAdmin(_ request: RoutedRequest) throws(APIError) {
        guard let token = adminToken else { throw AppErrors.adminDisabled }
        guard let presented = Self.bearer(request) else { throw AppErrors.missingToken }
        guard Self.constantTimeEqual(token, Array(presented.utf8)) else {
            throw isIngestKey(presented) ? AppErrors.ingestKeyForbidden : AppErrors.invalidToken
        }
    }
}

extension String {
    func trimmingSpaces() -> String {
        String(drop { $0 == " " }.reversed().drop { $0 == " " }.reversed())
    }
}
