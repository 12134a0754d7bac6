import Foundation
@testable import RoomstreamApp
import RoomstreamHTTP
import Testing

/// Which address is the client's: the socket peer unless it is a trusted proxy; then the
/// forwarding header read from the right, never believing what the client itself wrote.
struct ClientAddressTests {
    static let proxies = ["10.0.0.0/8", "2001:db8:ffff::/48"].compactMap(IPNetwork.init)

    static func request(peer: String, _ fields: [(String, String)]) -> HTTPRequest {
        var request = HTTPRequest(method: .post, target: "/", fields: fields)
        request.remoteAddress = IPAddress(peer)
        return request
    }

    @Test(arguments: [
        // (socket peer, X-Forwarded-For lines, expected client)
        ("203.0.113.5", [], "203.0.113.5"),
        ("203.0.113.5", ["198.51.100.1"], "203.0.113.5"),  // untrusted peer: its header is ignored
        ("10.0.0.2", [], "10.0.0.2"),  // trusted proxy without a header: the proxy
        ("10.0.0.2", ["198.51.100.1"], "198.51.100.1"),
        ("10.0.0.2", ["1.2.3.4, 198.51.100.1"], "198.51.100.1"),  // spoofed entry left of the real one
        ("10.0.0.2", ["1.2.3.4, 198.51.100.1, 10.0.0.9"], "198.51.100.1"),  // two proxy hops
        ("10.0.0.2", ["1.2.3.4", "198.51.100.1"], "198.51.100.1"),  // two field lines combine in order
        ("10.0.0.2", ["198.51.100.1:4711"], "198.51.100.1"),  // IPv4 with a port
        ("10.0.0.2", ["[2001:db8::7]:443"], "2001:db8::7"),
        ("10.0.0.2", ["2001:db8::7"], "2001:db8::7"),
        ("10.0.0.2", ["garbage, 198.51.100.1"], "198.51.100.1"),
        ("10.0.0.2", ["198.51.100.1, garbage"], "10.0.0.2"),  // unreadable hop: the nearest known address
        ("10.0.0.2", ["unknown"], "10.0.0.2"),
        ("10.0.0.2", ["10.0.0.3, 10.0.0.4"], "10.0.0.3"),  // only proxies: the farthest
        ("2001:db8:ffff::1", ["198.51.100.1"], "198.51.100.1"),
    ])
    func xForwardedFor(peer: String, lines: [String], expected: String) {
        let resolver = ClientAddressResolver(trustedProxies: Self.proxies, header: .xForwardedFor)
        let request = Self.request(peer: peer, lines.map { ("X-Forwarded-For", $0) })
        #expect(resolver.clientAddress(request) == IPAddress(expected))
    }

    @Test(arguments: [
        ("10.0.0.2", ["for=198.51.100.1"], "198.51.100.1"),
        ("10.0.0.2", ["For=\"[2001:db8::7]:4711\";proto=https"], "2001:db8::7"),
        ("10.0.0.2", ["for=1.2.3.4, for=198.51.100.1;by=10.0.0.2"], "198.51.100.1"),
        ("10.0.0.2", ["proto=https;for=198.51.100.1"], "198.51.100.1"),
        ("10.0.0.2", ["for=unknown"], "10.0.0.2"),
        ("10.0.0.2", ["for=_hidden"], "10.0.0.2"),
        ("203.0.113.5", ["for=198.51.100.1"], "203.0.113.5"),
    ])
    func forwarded(peer: String, lines: [String], expected: String) {
        let resolver = ClientAddressResolver(trustedProxies: Self.proxies, header: .forwarded)
        let request = Self.request(peer: peer, lines.map { ("Forwarded", $0) })
        #expect(resolver.clientAddress(request) == IPAddress(expected))
    }

    @Test func onlyTheConfiguredHeaderIsRead() {
        // A proxy that sets X-Forwarded-For passes the client's own Forwarded through.
        let resolver = ClientAddressResolver(trustedProxies: Self.proxies, header: .xForwardedFor)
        let request = Self.request(peer: "10.0.0.2", [("Forwarded", "for=1.2.3.4"), ("X-Forwarded-For", "198.51.100.1")])
        #expect(resolver.clientAddress(request) == IPAddress("198.51.100.1"))
    }

    @Test func noTrustedProxiesMeansThePeer() {
        let request = Self.request(peer: "10.0.0.2", [("X-Forwarded-For", "198.51.100.1")])
        #expect(ClientAddressResolver().clientAddress(request) == IPAddress("10.0.0.2"))
    }

    @Test func configurationNamesTheBadEntry() throws {
        #expect(throws: ConfigurationError(field: "server.trusted_proxies[1]", problem: "must be an IP address or a CIDR block with zero host bits (10.0.0.0/8, 2001:db8::/32), got \"10.0.0.1/8\"")) {
            try RoomstreamConfiguration.parse(Data(#"{"server": {"trusted_proxies": ["127.0.0.1", "10.0.0.1/8"]}}"#.utf8))
        }
        #expect(throws: ConfigurationError(field: "server.client_ip_header", problem: "must be \"x-forwarded-for\" or \"forwarded\", got \"X-Real-IP\"")) {
            try RoomstreamConfiguration.parse(Data(#"{"server": {"client_ip_header": "X-Real-IP"}}"#.utf8))
        }
        let config = try RoomstreamConfiguration.parse(Data(#"{"server": {"trusted_proxies": ["127.0.0.1", "fd00::/8"], "client_ip_header": "Forwarded"}}"#.utf8))
        #expect(config.clientAddress.trustedProxies.map(\.description) == ["127.0.0.1/32", "fd00::/8"])
        #expect(config.clientAddress.header == .forwarded)
    }
}
