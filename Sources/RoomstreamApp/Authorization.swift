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

    /// The credentials of `Authorization: Bearer <token>` (RFC 6750 §2.1; the scheme is
    /// case-insensitive, RFC 9110 §11.1), as the header's bytes: no string is made on ingest.
    static func bearerBytes(_ request: RoutedRequest) -> ArraySlice<UInt8>? {
        guard let header = request.http.headers.valueBytes("authorization"),
              let space = header.firstIndex(of: UInt8(ascii: " ")),
              ASCII.equalsIgnoringCase(header[..<space], "bearer".utf8)
        else { return nil }
        return ASCII.trimmingWhitespace(header[space...])
    }

    static func constantTimeEqual(_ a: [UInt8], _ b: ArraySlice<UInt8>) -> Bool {
        guard a.count == b.count else { return false }
        var difference: UInt8 = 0
        var index = b.startIndex
        for x in a {
            difference |= x ^ b[index]
            index += 1
        }
        return difference == 0
    }

    /// The index of the ingest key `candidate` is (every key is compared in full), or nil.
    func ingestKeyIndex(_ candidate: ArraySlice<UInt8>) -> Int? {
        var found: Int?
        for (index, key) in ingestKeys.enumerated() where Self.constantTimeEqual(key, candidate) { found = index }
        return found
    }

    func isIngestKey(_ candidate: ArraySlice<UInt8>) -> Bool { ingestKeyIndex(candidate) != nil }

    /// ingest-api.md: `Authorization: Bearer <key>`, or `?key=` for sendBeacon. Returns which
    /// key (its index in `ingest.keys`), for the per-key rate limit.
    @discardableResult
    func requireIngestKey(_ request: RoutedRequest) throws(APIError) -> Int {
        guard let key = Self.bearerBytes(request) ?? request.query["key"].map({ Array($0.utf8)[...] }) else { throw AppErrors.missingKey }
        guard let index = ingestKeyIndex(key) else { throw AppErrors.unknownKey }
        return index
    }

    func requireAdmin(_ request: RoutedRequest) throws(APIError) {
        guard let token = adminToken else { throw AppErrors.adminDisabled }
        guard let presented = Self.bearerBytes(request) else { throw AppErrors.missingToken }
        guard Self.constantTimeEqual(token, presented) else {
            throw isIngestKey(presented) ? AppErrors.ingestKeyForbidden : AppErrors.invalidToken
        }
    }
}
