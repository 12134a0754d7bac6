import CMaxMind
import RoomstreamCore
import RoomstreamHTTP

/// One open MaxMind DB file (libmaxminddb, memory-mapped).
// SAFETY: the handle is only read after open (libmaxminddb look-ups are thread-safe: they
// read the read-only mapping) and closed once, in deinit, when no one can use it any more.
final class MaxMindDatabase: @unchecked Sendable {
    private let handle: OpaquePointer
    let path: String
    let databaseType: String

    /// Opens `path`; throws naming `field` when it cannot be opened or is not of `kind`
    /// (`City` or `ASN`, matched in the metadata's `database_type`: GeoLite2-City, GeoIP2-City,
    /// GeoLite2-ASN, …).
    init(path: String, kind: String, field: String) throws(ConfigurationError) {
        var error = [CChar](repeating: 0, count: 256)
        guard let handle = rs_geo_open(path, &error, error.count) else {
            throw ConfigurationError(field: field, problem: "cannot open MaxMind database '\(path)': \(Self.text(error))")
        }
        self.handle = handle
        self.path = path
        databaseType = String(cString: rs_geo_database_type(handle))
        // Every property is set: throwing now runs deinit, which closes the handle.
        guard databaseType.contains(kind) else {
            throw ConfigurationError(field: field, problem: "'\(path)' is a \(databaseType) database, not a \(kind) one")
        }
    }

    deinit { rs_geo_close(handle) }

    enum Result {
        case found([String?])
        case notFound
        case failed(String)
    }

    /// City and country names in English.
    func cityAndCountry(_ address: IPAddress) -> Result {
        var city = [CChar](repeating: 0, count: 256), country = [CChar](repeating: 0, count: 256)
        let status = address.networkBytes.withUnsafeBufferPointer { bytes in
            rs_geo_city_country(handle, bytes.baseAddress, &city, city.count, &country, country.count)
        }
        switch status {
        case 1: return .found([Self.nonEmpty(city), Self.nonEmpty(country)])
        case 0: return .notFound
        default: return .failed(Self.text(city))
        }
    }

    func organization(_ address: IPAddress) -> Result {
        var organization = [CChar](repeating: 0, count: 256)
        let status = address.networkBytes.withUnsafeBufferPointer { bytes in
            rs_geo_asn_organization(handle, bytes.baseAddress, &organization, organization.count)
        }
        switch status {
        case 1: return .found([Self.nonEmpty(organization)])
        case 0: return .notFound
        default: return .failed(Self.text(organization))
        }
    }

    private static func text(_ buffer: [CChar]) -> String {
        String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    private static func nonEmpty(_ buffer: [CChar]) -> String? {
        let value = text(buffer)
        return value.isEmpty ? nil : value
    }
}

/// Places client addresses with the configured MaxMind databases (`location.city_database`,
/// `location.asn_database`; GeoLite2-City and GeoLite2-ASN layouts). Without them, or for an
/// address they do not hold (private ranges, loopback), the location is nil and the record's
/// fields are `null`.
struct GeoLocator: Sendable {
    let city: MaxMindDatabase?
    let asn: MaxMindDatabase?
    /// Called when a database answers with an error (a corrupt file), for the log.
    var onError: @Sendable (String) -> Void = { _ in }

    init(configuration: LocationConfiguration) throws(ConfigurationError) {
        city = try configuration.cityDatabase.map { path throws(ConfigurationError) in try MaxMindDatabase(path: path, kind: "City", field: "location.city_database") }
        asn = try configuration.asnDatabase.map { path throws(ConfigurationError) in try MaxMindDatabase(path: path, kind: "ASN", field: "location.asn_database") }
    }

    init() {
        city = nil
        asn = nil
    }

    var isEnabled: Bool { city != nil || asn != nil }

    func locate(_ address: IPAddress?) -> PeerLocation? {
        guard let address, isEnabled else { return nil }
        var cityName: String?, country: String?, organization: String?
        if let city {
            switch city.cityAndCountry(address) {
            case .found(let values): (cityName, country) = (values[0], values[1])
            case .notFound: break
            case .failed(let error): onError("\(city.path): \(error)")
            }
        }
        if let asn {
            switch asn.organization(address) {
            case .found(let values): organization = values[0]
            case .notFound: break
            case .failed(let error): onError("\(asn.path): \(error)")
            }
        }
        return PeerLocation(city: cityName, country: country, organization: organization)
    }
}

/// `location`: paths of the MaxMind databases (absent: no look-ups).
struct LocationConfiguration: Sendable, Equatable {
    var cityDatabase: String?
    var asnDatabase: String?
}
