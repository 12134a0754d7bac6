import Foundation
@testable import RoomstreamApp
import RoomstreamCore
import RoomstreamHTTP
import Testing
import TestSupport

/// Locations from real MaxMind databases (`make test` provides them through
/// scripts/geoip-test-databases.py: PyPI maxminddb-geolite2's GeoLite2-City and an ASN
/// database in the GeoLite2-ASN layout), checked against MaxMind's Python reader.
struct LocationTests {
    static var cityPath: String? { TestEnvironment.value("ROOMSTREAM_TEST_GEOIP_CITY") }
    static var asnPath: String? { TestEnvironment.value("ROOMSTREAM_TEST_GEOIP_ASN") }
    static let runnable = TestEnvironment.runnable(requiring: "ROOMSTREAM_TEST_GEOIP_CITY", "ROOMSTREAM_TEST_GEOIP_ASN")

    static func locator() throws -> GeoLocator {
        guard let city = cityPath, let asn = asnPath else { throw MissingTestRequirement("ROOMSTREAM_TEST_GEOIP_CITY/_ASN are not set (run through make test)") }
        return try GeoLocator(configuration: LocationConfiguration(cityDatabase: city, asnDatabase: asn))
    }

    /// What MaxMind's own Python reader finds for the addresses.
    static func expected(_ addresses: [String]) async throws -> [String: [String: String?]] {
        guard let city = cityPath, let asn = asnPath else { throw MissingTestRequirement("no databases") }
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("../../scripts/geoip-test-databases.py").standardized.path
        let child = try ChildProcess("/usr/bin/env", ["python3", script, "--expect", city, asn] + addresses)
        #expect(await child.exited() == 0, "\(child.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(child.stdout.utf8)) as? [String: [String: Any]])
        return object.mapValues { fields in fields.mapValues { $0 as? String } }
    }

    static let addresses = [
        "81.2.69.160", "89.160.20.112", "2.125.160.216", "128.101.101.101", "8.8.8.8", "1.1.1.1",
        "2001:4860:4860::8888", "2606:4700:4700::1111", "10.0.0.1", "127.0.0.1", "::1", "192.0.2.1",
    ]

    @Test(.enabled(if: runnable)) func lookupsMatchMaxMindsReader() async throws {
        let locator = try Self.locator()
        let expected = try await Self.expected(Self.addresses)
        for text in Self.addresses {
            let address = try #require(IPAddress(text))
            let location = locator.locate(address)
            let want = try #require(expected[text])
            #expect(location?.city == want["city"] ?? nil, "\(text)")
            #expect(location?.country == want["country"] ?? nil, "\(text)")
            #expect(location?.organization == want["organization"] ?? nil, "\(text)")
        }
        // Known answers, so a reader that agrees with ours by accident cannot pass.
        #expect(locator.locate(IPAddress("89.160.20.112")) == PeerLocation(city: "Stockholm", country: "Sweden", organization: "Bredband2 AB"))
        #expect(locator.locate(IPAddress("10.0.0.1")) == nil)  // private: not in the databases
    }

    @Test(.enabled(if: runnable)) func theRoomRecordCarriesTheLocationOfTheForwardedClient() async throws {
        guard let city = Self.cityPath, let asn = Self.asnPath else { throw MissingTestRequirement("no databases") }
        let service = try AppTestService {
            $0.location = LocationConfiguration(cityDatabase: city, asnDatabase: asn)
            $0.clientAddress.trustedProxies = ["127.0.0.1/32"].compactMap(IPNetwork.init)
        }
        func post(peer: String, forwardedFor: String?) throws -> Int? {
            var headers = ["Authorization": "Bearer \(AppTestService.ingestKey)", "Content-Type": "application/json"]
            headers["X-Forwarded-For"] = forwardedFor
            return try service.request("POST", "/v1/rooms/r/peers/\(peer)/samples", headers: headers, body: Array(IngestRoutesTests.sample.utf8))?.status
        }
        #expect(try post(peer: "se", forwardedFor: "203.0.113.9, 89.160.20.112") == 202)  // the spoofed entry is ignored
        #expect(try post(peer: "v6", forwardedFor: "2001:4860:4860::8888") == 202)
        #expect(try post(peer: "direct", forwardedFor: nil) == 202)  // loopback: nowhere
        let room = try #require(jsonObject(try service.admin("/v1/rooms/r")))
        let peers = try #require(room["peers"] as? [[String: Any]])
        func location(_ id: String) -> [String: Any]? { peers.first { $0["peer_id"] as? String == id }?["location"] as? [String: Any] }
        #expect(location("se")?["city"] as? String == "Stockholm")
        #expect(location("se")?["country"] as? String == "Sweden")
        #expect(location("se")?["organization"] as? String == "Bredband2 AB")
        #expect(location("v6")?["organization"] as? String == "Google LLC")
        #expect(location("v6")?["country"] as? String == "United States")
        #expect(location("direct")?["city"] is NSNull)
        #expect(location("direct")?["organization"] is NSNull)
        await service.stop()
    }

    @Test(.enabled(if: runnable)) func aDatabaseOfTheWrongKindOrMissingIsAConfigurationError() throws {
        guard let city = Self.cityPath, let asn = Self.asnPath else { throw MissingTestRequirement("no databases") }
        #expect(throws: ConfigurationError.self) { try GeoLocator(configuration: LocationConfiguration(cityDatabase: asn)) }
        #expect(throws: ConfigurationError.self) { try GeoLocator(configuration: LocationConfiguration(asnDatabase: city)) }
        do {
            _ = try GeoLocator(configuration: LocationConfiguration(cityDatabase: "/nonexistent/GeoLite2-City.mmdb"))
            Issue.record("opened a missing file")
        } catch {
            #expect(error.field == "location.city_database")
            #expect(error.problem.contains("/nonexistent/GeoLite2-City.mmdb"))
        }
    }

    @Test func withoutDatabasesThereIsNoLocation() throws {
        #expect(GeoLocator().locate(IPAddress("89.160.20.112")) == nil)
        let config = try RoomstreamConfiguration.parse(Data(#"{"location": {"city_database": "/x/City.mmdb"}}"#.utf8))
        #expect(config.location == LocationConfiguration(cityDatabase: "/x/City.mmdb"))
        #expect(throws: ConfigurationError(field: "location.asn_database", problem: "must be a file path (omit the key for no look-ups)")) {
            try RoomstreamConfiguration.parse(Data(#"{"location": {"asn_database": ""}}"#.utf8))
        }
    }
}
