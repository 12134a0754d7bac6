import RoomstreamHTTP
import RoomstreamServer

/// The client's IP address: the socket peer, or, when the peer is a trusted proxy, the
/// nearest address in the forwarding header that is not itself a trusted proxy.
///
/// Only the configured header is read (`http.client_ip_header`): a proxy that sets
/// `X-Forwarded-For` passes a client's own `Forwarded` header through untouched, so reading
/// both would let any client choose its address. Each proxy appends the address it received
/// the request from, so the list is read from the right; entries to the left of the first
/// untrusted one were written by the client and are not believed (RFC 7239 §8.3 on spoofing).
struct ClientAddressResolver: Sendable, Equatable {
    enum Header: String, Sendable, Equatable, CaseIterable {
        /// `X-Forwarded-For: client, proxy1` (de facto; nginx, HAProxy, AWS ELB).
        case xForwardedFor = "x-forwarded-for"
        /// `Forwarded: for=client;proto=https, for=proxy1` (RFC 7239 §4, §5.2).
        case forwarded
    }

    var trustedProxies: [IPNetwork] = []
    var header: Header = .xForwardedFor

    func clientAddress(_ request: HTTPRequest) -> IPAddress? {
        guard let peer = request.remoteAddress else { return nil }
        guard isTrusted(peer) else { return peer }
        // Field lines of a list-valued header combine in order (RFC 9110 §5.3).
        var hops: [Substring] = []
        for line in request.headers.values(header.rawValue) {
            hops.append(contentsOf: line.split(separator: ",", omittingEmptySubsequences: false))
        }
        var nearest = peer
        for hop in hops.reversed() {
            let text = hop.trimmingCharacters(in: " \t")
            guard let address = header == .forwarded ? Self.forwardedFor(text) : Self.node(text) else {
                // `unknown`, an obfuscated name or garbage: nothing beyond it can be trusted, and
                // the nearest address known is the proxy's own.
                return nearest
            }
            nearest = address
            if !isTrusted(address) { return address }
        }
        return nearest
    }

    func isTrusted(_ address: IPAddress) -> Bool { trustedProxies.contains { $0.contains(address) } }

    /// An address with an optional port: `192.0.2.1`, `192.0.2.1:443`, `2001:db8::1`,
    /// `[2001:db8::1]`, `[2001:db8::1]:443` (the node forms of RFC 7239 §6, which some
    /// proxies also use in `X-Forwarded-For`).
    static func node(_ text: Substring) -> IPAddress? {
        if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
            let rest = text[text.index(after: close)...]
            guard rest.isEmpty || (rest.hasPrefix(":") && rest.dropFirst().allSatisfy(\.isASCIIDigit)) else { return nil }
            return IPAddress(text[text.index(after: text.startIndex)..<close])
        }
        if let address = IPAddress(text) { return address }
        // IPv4 with a port: exactly one colon.
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 2, !parts[1].isEmpty, parts[1].allSatisfy(\.isASCIIDigit) else { return nil }
        return IPAddress(parts[0]).flatMap { $0.ipv4 != nil ? $0 : nil }
    }

    /// The `for=` parameter of one `Forwarded` element (RFC 7239 §4: `;`-separated pairs,
    /// names case-insensitive, values tokens or quoted strings).
    static func forwardedFor(_ element: Substring) -> IPAddress? {
        for pair in element.split(separator: ";") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2, parts[0].trimmingCharacters(in: " \t").lowercased() == "for" else { continue }
            var value = parts[1].trimmingCharacters(in: " \t")
            if value.count >= 2, value.hasPrefix("\""), value.hasSuffix("\"") { value = value.dropFirst().dropLast() }
            return node(value)
        }
        return nil
    }

    /// Validates `http.trusted_proxies`.
    static func parseNetworks(_ texts: [String], field: String) throws(ConfigurationError) -> [IPNetwork] {
        var networks: [IPNetwork] = []
        for (index, text) in texts.enumerated() {
            guard let network = IPNetwork(text) else {
                throw ConfigurationError(field: "\(field)[\(index)]", problem: "must be an IP address or a CIDR block with zero host bits (10.0.0.0/8, 2001:db8::/32), got \"\(text)\"")
            }
            networks.append(network)
        }
        return networks
    }
}

extension Substring {
    fileprivate func trimmingCharacters(in set: String) -> Substring {
        var text = self
        while let first = text.first, set.contains(first) { text = text.dropFirst() }
        while let last = text.last, set.contains(last) { text = text.dropLast() }
        return text
    }
}

extension Character {
    fileprivate var isASCIIDigit: Bool { isASCII && isNumber }
}
