/// Where a peer connected from, as the service's MaxMind databases place its client address
/// (room-record.md: `location`). Any field may be unknown (`null` in the record). A class, so
/// a peer holds one reference (8 bytes) and the many peers without a location hold nothing.
public final class PeerLocation: Sendable, Codable, Equatable, CustomStringConvertible {
    public let city: String?
    public let country: String?
    /// The network's owner (the ASN organization, e.g. an ISP).
    public let organization: String?

    /// nil when every field is unknown.
    public init?(city: String?, country: String?, organization: String?) {
        guard city != nil || country != nil || organization != nil else { return nil }
        self.city = city
        self.country = country
        self.organization = organization
    }

    public static func == (lhs: PeerLocation, rhs: PeerLocation) -> Bool {
        lhs.city == rhs.city && lhs.country == rhs.country && lhs.organization == rhs.organization
    }

    public var description: String { "\(city ?? "?"), \(country ?? "?") (\(organization ?? "?"))" }

    /// Heap bytes: the object and its strings (MemoryFootprint's rules).
    var heapBytes: Int {
        MemoryFootprint.allocation(16 + 3 * 16) + [city, country, organization].reduce(0) { $0 + MemoryFootprint.string($1) }
    }
}
