import RoomstreamCore
import Testing

struct UserAgentTests {
    struct Case: Sendable, CustomTestStringConvertible {
        var agent: String
        var expected: UserAgent
        var testDescription: String { "\(expected.browser ?? "?") \(expected.browserVersion ?? "?") on \(expected.os ?? "?")" }
    }

    static let cases: [Case] = [
        // Chrome
        Case(agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36", expected: UserAgent(os: "Windows", osVersion: "10", browser: "Chrome", browserVersion: "120.0.0.0")),
        Case(agent: "Mozilla/5.0 (Windows NT 6.1; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/109.0.0.0 Safari/537.36", expected: UserAgent(os: "Windows", osVersion: "7", browser: "Chrome", browserVersion: "109.0.0.0")),
        Case(agent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36", expected: UserAgent(os: "macOS", osVersion: "10.15.7", browser: "Chrome", browserVersion: "119.0.0.0")),
        Case(agent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/102.0.5005.61 Safari/537.36", expected: UserAgent(os: "Linux", osVersion: "64-bit", browser: "Chrome", browserVersion: "102.0.5005.61")),
        Case(agent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36", expected: UserAgent(os: "Linux", osVersion: "64-bit", browser: "Chrome", browserVersion: "156.0.0.0")),
        Case(agent: "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.6099.43 Mobile Safari/537.36", expected: UserAgent(os: "Android", osVersion: "10", browser: "Chrome", browserVersion: "120.0.6099.43")),
        Case(agent: "Mozilla/5.0 (Linux; Android 14; Pixel 8 Pro) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.6045.163 Mobile Safari/537.36", expected: UserAgent(os: "Android", osVersion: "14", browser: "Chrome", browserVersion: "119.0.6045.163")),
        Case(agent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/119.0.6045.169 Mobile/15E148 Safari/604.1", expected: UserAgent(os: "iOS", osVersion: "17.1", browser: "Chrome", browserVersion: "119.0.6045.169")),
        Case(agent: "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36", expected: UserAgent(os: "Chrome OS", osVersion: "14541.0.0", browser: "Chrome", browserVersion: "118.0.0.0")),
        Case(agent: "Mozilla/5.0 (X11; CrOS aarch64 15633.69.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.6045.212 Safari/537.36", expected: UserAgent(os: "Chrome OS", osVersion: "15633.69.0", browser: "Chrome", browserVersion: "119.0.6045.212")),
        // Edge
        Case(agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36 Edg/120.0.2210.61", expected: UserAgent(os: "Windows", osVersion: "10", browser: "Edge", browserVersion: "120.0.2210.61")),
        Case(agent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36 Edg/119.0.2151.97", expected: UserAgent(os: "macOS", osVersion: "10.15.7", browser: "Edge", browserVersion: "119.0.2151.97")),
        Case(agent: "Mozilla/5.0 (Linux; Android 10; HD1913) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.6045.163 Mobile Safari/537.36 EdgA/119.0.2151.78", expected: UserAgent(os: "Android", osVersion: "10", browser: "Edge", browserVersion: "119.0.2151.78")),
        Case(agent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 EdgiOS/119.2151.96 Mobile/15E148 Safari/605.1.15", expected: UserAgent(os: "iOS", osVersion: "17.1.2", browser: "Edge", browserVersion: "119.2151.96")),
        Case(agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/70.0.3538.102 Safari/537.36 Edge/18.19582", expected: UserAgent(os: "Windows", osVersion: "10", browser: "Edge", browserVersion: "18.19582")),
        // Firefox
        Case(agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:120.0) Gecko/20100101 Firefox/120.0", expected: UserAgent(os: "Windows", osVersion: "10", browser: "Firefox", browserVersion: "120.0")),
        Case(agent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:109.0) Gecko/20100101 Firefox/118.0", expected: UserAgent(os: "macOS", osVersion: "10.15", browser: "Firefox", browserVersion: "118.0")),
        Case(agent: "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0", expected: UserAgent(os: "Linux", osVersion: "64-bit", browser: "Firefox", browserVersion: "115.0")),
        Case(agent: "Mozilla/5.0 (Android 14; Mobile; rv:120.0) Gecko/120.0 Firefox/120.0", expected: UserAgent(os: "Android", osVersion: "14", browser: "Firefox", browserVersion: "120.0")),
        Case(agent: "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) FxiOS/120.0 Mobile/15E148 Safari/605.1.15", expected: UserAgent(os: "iOS", osVersion: "17.1", browser: "Firefox", browserVersion: "120.0")),
        Case(agent: "Mozilla/5.0 (X11; Linux i686; rv:109.0) Gecko/20100101 Firefox/115.0", expected: UserAgent(os: "Linux", osVersion: "32-bit", browser: "Firefox", browserVersion: "115.0")),
        // Safari
        Case(agent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 Safari/605.1.15", expected: UserAgent(os: "macOS", osVersion: "10.15.7", browser: "Safari", browserVersion: "17.0")),
        Case(agent: "Mozilla/5.0 (iPhone; CPU iPhone OS 16_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.1", expected: UserAgent(os: "iOS", osVersion: "16.6", browser: "Safari", browserVersion: "16.6")),
        Case(agent: "Mozilla/5.0 (iPad; CPU OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.1 Mobile/15E148 Safari/604.1", expected: UserAgent(os: "iOS", osVersion: "17.1", browser: "Safari", browserVersion: "17.1")),
        Case(agent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_6) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/14.1.2 Safari/605.1.15", expected: UserAgent(os: "macOS", osVersion: "10.15.6", browser: "Safari", browserVersion: "14.1.2")),
        // Opera
        Case(agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0.0.0 Safari/537.36 OPR/105.0.0.0", expected: UserAgent(os: "Windows", osVersion: "10", browser: "Opera", browserVersion: "105.0.0.0")),
        Case(agent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Safari/537.36 OPR/104.0.0.0", expected: UserAgent(os: "macOS", osVersion: "10.15.7", browser: "Opera", browserVersion: "104.0.0.0")),
        Case(agent: "Mozilla/5.0 (Linux; Android 10; VOG-L29) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/118.0.0.0 Mobile Safari/537.36 OPR/79.0.2254.70778", expected: UserAgent(os: "Android", osVersion: "10", browser: "Opera", browserVersion: "79.0.2254.70778")),
        // Samsung Internet
        Case(agent: "Mozilla/5.0 (Linux; Android 13; SAMSUNG SM-S918B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/23.0 Chrome/115.0.0.0 Mobile Safari/537.36", expected: UserAgent(os: "Android", osVersion: "13", browser: "Samsung Internet", browserVersion: "23.0")),
        Case(agent: "Mozilla/5.0 (Linux; Android 12; SM-T870) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/22.0 Chrome/111.0.5563.116 Safari/537.36", expected: UserAgent(os: "Android", osVersion: "12", browser: "Samsung Internet", browserVersion: "22.0")),
        // Electron
        Case(agent: "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Slack/4.35.131 Chrome/118.0.5993.159 Electron/27.0.3 Safari/537.36", expected: UserAgent(os: "Windows", osVersion: "10", browser: "Electron", browserVersion: "27.0.3")),
        Case(agent: "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) discord/0.0.287 Chrome/108.0.5359.215 Electron/22.3.26 Safari/537.36", expected: UserAgent(os: "macOS", osVersion: "10.15.7", browser: "Electron", browserVersion: "22.3.26")),
        Case(agent: "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Code/1.84.2 Chrome/114.0.5735.289 Electron/25.9.2 Safari/537.36", expected: UserAgent(os: "Linux", osVersion: "64-bit", browser: "Electron", browserVersion: "25.9.2")),
        // Windows versions, unknowns
        Case(agent: "Mozilla/5.0 (Windows NT 6.3; Win64; x64; rv:109.0) Gecko/20100101 Firefox/115.0", expected: UserAgent(os: "Windows", osVersion: "8.1", browser: "Firefox", browserVersion: "115.0")),
        Case(agent: "curl/8.4.0", expected: UserAgent()),
        Case(agent: "", expected: UserAgent()),
    ]

    @Test("user agents", arguments: cases)
    func parse(_ testCase: Case) {
        #expect(UserAgent(parsing: testCase.agent) == testCase.expected)
    }
}
