import RoomstreamHTTP
import Testing

/// IP text forms (RFC 4291 §2.2, RFC 5952 §4 for output) and CIDR blocks (RFC 4632 §3.1).
struct IPAddressTests {
    @Test(arguments: [
        ("192.0.2.1", "192.0.2.1"),
        ("0.0.0.0", "0.0.0.0"),
        ("255.255.255.255", "255.255.255.255"),
        ("2001:db8::1", "2001:db8::1"),
        ("2001:DB8:0:0:0:0:0:1", "2001:db8::1"),
        ("[2001:db8::1]", "2001:db8::1"),
        ("::1", "::1"),
        ("::", "::"),
        ("::ffff:192.0.2.1", "192.0.2.1"),  // IPv4-mapped prints as IPv4
        ("fe80::1:2", "fe80::1:2"),
    ])
    func parsesAndPrints(text: String, printed: String) throws {
        let address = try #require(IPAddress(text))
        #expect(address.description == printed)
        #expect(IPAddress(printed) == address)
    }

    @Test(arguments: ["", "1.2.3", "1.2.3.4.5", "256.1.1.1", "010.1.1.1", "1.2.3.4 ", " 1.2.3.4", "2001:db8::1::2", "2001:db8::g",
                      "fe80::1%eth0", "[::1", "example.com", "unknown", "_hidden", "1.2.3.4:80", String(repeating: "1", count: 100)])
    func refuses(text: String) {
        #expect(IPAddress(text) == nil)
    }

    @Test func ipv4IsMappedIntoIPv6() throws {
        let v4 = try #require(IPAddress("192.0.2.1"))
        #expect(v4.ipv4 == 0xC000_0201)
        #expect(v4 == IPAddress("::ffff:c000:201"))
        #expect(try #require(IPAddress("2001:db8::1")).ipv4 == nil)
        #expect(v4.networkBytes == [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 192, 0, 2, 1])
    }

    @Test(arguments: [
        ("10.0.0.0/8", "10.255.1.2", true),
        ("10.0.0.0/8", "11.0.0.1", false),
        ("192.168.1.7", "192.168.1.7", true),
        ("192.168.1.7", "192.168.1.8", false),
        ("0.0.0.0/0", "203.0.113.9", true),
        ("0.0.0.0/0", "2001:db8::1", false),  // an IPv4 block holds IPv4 only
        ("2001:db8::/32", "2001:db8:ffff::1", true),
        ("2001:db8::/32", "2001:db9::1", false),
        ("::/0", "2001:db8::1", true),
        ("172.16.0.0/12", "172.31.255.255", true),
        ("172.16.0.0/12", "172.32.0.0", false),
        ("::ffff:0:0/96", "192.0.2.1", true),
    ])
    func cidrContains(block: String, address: String, expected: Bool) throws {
        let network = try #require(IPNetwork(block))
        #expect(network.contains(try #require(IPAddress(address))) == expected)
    }

    @Test(arguments: ["10.0.0.1/8", "10.0.0.0/33", "10.0.0.0/", "10.0.0.0/-1", "10.0.0.0/+8", "2001:db8::/129", "2001:db8::1/32", "nope/8", "10.0.0.0/8/8"])
    func refusesBlocks(block: String) {
        #expect(IPNetwork(block) == nil)
    }

    @Test func printsBlocksInTheirOwnFamily() throws {
        #expect(try #require(IPNetwork("10.0.0.0/8")).description == "10.0.0.0/8")
        #expect(try #require(IPNetwork("2001:db8::/32")).description == "2001:db8::/32")
        #expect(try #require(IPNetwork("192.0.2.1")).description == "192.0.2.1/32")
    }
}
