/// OS and browser facts from a `User-Agent` string. Token rules, in the order browsers claim
/// each other's tokens (Edge and Opera say "Chrome", Chrome says "Safari", …).
public struct UserAgent: Sendable, Equatable, Codable {
    public var os: String?
    public var osVersion: String?
    public var browser: String?
    public var browserVersion: String?

    public init(os: String? = nil, osVersion: String? = nil, browser: String? = nil, browserVersion: String? = nil) {
        self.os = os
        self.osVersion = osVersion
        self.browser = browser
        self.browserVersion = browserVersion
    }

    public init(parsing agent: String) {
        (os, osVersion) = Self.operatingSystem(agent)
        (browser, browserVersion) = Self.browser(agent)
    }

    /// The version after `token/`, up to the next space, semicolon or parenthesis.
    static func version(after token: String, in agent: String) -> String? {
        guard let range = agent.range(of: token) else { return nil }
        let rest = agent[range.upperBound...]
        let version = rest.prefix { !" ;)(".contains($0) }
        return version.isEmpty ? nil : String(version)
    }

    static func browser(_ agent: String) -> (String?, String?) {
        let rules: [(token: String, name: String)] = [
            ("Electron/", "Electron"), ("EdgA/", "Edge"), ("EdgiOS/", "Edge"), ("Edg/", "Edge"), ("Edge/", "Edge"),
            ("OPR/", "Opera"), ("OPiOS/", "Opera"), ("OPT/", "Opera"), ("SamsungBrowser/", "Samsung Internet"),
            ("YaBrowser/", "Yandex"), ("FxiOS/", "Firefox"), ("Firefox/", "Firefox"), ("CriOS/", "Chrome"),
            ("HeadlessChrome/", "Chrome"), ("Chromium/", "Chromium"), ("Chrome/", "Chrome"),
        ]
        for rule in rules {
            if let version = version(after: rule.token, in: agent) { return (rule.name, version) }
        }
        if agent.contains("Safari/") || agent.contains("AppleWebKit/") {
            if let version = version(after: "Version/", in: agent) { return ("Safari", version) }
            if agent.contains("iPhone") || agent.contains("iPad") { return ("Safari", nil) }  // in-app web view
        }
        return (nil, nil)
    }

    static func operatingSystem(_ agent: String) -> (String?, String?) {
        if let nt = version(after: "Windows NT ", in: agent) {
            let names = ["10.0": "10", "6.3": "8.1", "6.2": "8", "6.1": "7", "6.0": "Vista", "5.1": "XP"]
            return ("Windows", names[nt] ?? nt)
        }
        if agent.contains("Windows") { return ("Windows", nil) }
        if agent.contains("iPhone") || agent.contains("iPad") || agent.contains("iPod") {
            let version = Self.version(after: "iPhone OS ", in: agent) ?? Self.version(after: "CPU OS ", in: agent)
            return ("iOS", version.map { $0.replacingOccurrences(of: "_", with: ".") })
        }
        if let android = version(after: "Android ", in: agent) { return ("Android", android) }
        if agent.contains("Android") { return ("Android", nil) }
        if let cros = agent.range(of: "CrOS ") {
            // "CrOS x86_64 14541.0.0": the platform, then the version.
            let parts = agent[cros.upperBound...].prefix { $0 != ")" && $0 != ";" }.split(separator: " ")
            return ("Chrome OS", parts.count > 1 ? String(parts[1]) : nil)
        }
        if let mac = version(after: "Mac OS X ", in: agent) {
            return ("macOS", mac.replacingOccurrences(of: "_", with: "."))
        }
        if agent.contains("Macintosh") { return ("macOS", nil) }
        if agent.contains("Linux") || agent.contains("X11") {
            if agent.contains("x86_64") || agent.contains("aarch64") || agent.contains("amd64") { return ("Linux", "64-bit") }
            if agent.contains("i686") || agent.contains("i386") || agent.contains("armv7") { return ("Linux", "32-bit") }
            return ("Linux", nil)
        }
        return (nil, nil)
    }
}
