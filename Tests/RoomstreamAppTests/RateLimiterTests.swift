import Foundation
@testable import RoomstreamApp
import RoomstreamHTTP
import Testing

/// Token buckets with an injected clock (seconds), the table's bound, and 429 over sockets.
struct RateLimiterTests {
    @Test func aBucketAllowsItsBurstThenRefillsAtItsRate() {
        let limiter = RateLimiter<String>(limit: RateLimit(perSecond: 2, burst: 3), maxTrackedKeys: 1024)
        for _ in 0..<3 { #expect(limiter.take("a", now: 100) == .allowed) }
        #expect(limiter.take("a", now: 100) == .limited(retryAfterSeconds: 1))
        // Another key has its own bucket.
        #expect(limiter.take("b", now: 100) == .allowed)
        // Half a second refills one token.
        #expect(limiter.take("a", now: 100.5) == .allowed)
        #expect(limiter.take("a", now: 100.5) == .limited(retryAfterSeconds: 1))
        // A long pause refills up to the burst only.
        for _ in 0..<3 { #expect(limiter.take("a", now: 1000) == .allowed) }
        #expect(limiter.take("a", now: 1000) != .allowed)
    }

    @Test(arguments: [
        // (per second, tokens short, expected Retry-After)
        (0.1, 1.0, 10), (0.5, 1.0, 2), (10.0, 1.0, 1), (0.001, 1.0, 1000), (0.0001, 1.0, 3600),
    ])
    func retryAfterIsTheWaitForOneToken(perSecond: Double, short: Double, expected: Int) {
        let limiter = RateLimiter<Int>(limit: RateLimit(perSecond: perSecond, burst: 1), maxTrackedKeys: 1024)
        #expect(limiter.take(1, now: 0) == .allowed)
        #expect(limiter.take(1, now: 0) == .limited(retryAfterSeconds: expected))
    }

    @Test func aClockStepBackNeitherRefillsNorDrains() {
        let limiter = RateLimiter<Int>(limit: RateLimit(perSecond: 1, burst: 1), maxTrackedKeys: 1024)
        #expect(limiter.take(1, now: 50) == .allowed)
        #expect(limiter.take(1, now: 10) != .allowed)
        #expect(limiter.take(1, now: 51) == .allowed)
    }

    @Test func theTableStaysBoundedAndForgetsFullBucketsFirst() {
        let limiter = RateLimiter<Int>(limit: RateLimit(perSecond: 1, burst: 5), maxTrackedKeys: 1024)
        // Client 0 is drained; then a flood of new clients, one request each.
        for _ in 0..<5 { _ = limiter.take(0, now: 0) }
        #expect(limiter.take(0, now: 0) != .allowed)
        for key in 1...5_000 { _ = limiter.take(key, now: 0.5) }
        #expect(limiter.trackedKeys <= 1024)
        // A bucket full again is the same as a forgotten one; a flood never lets anyone be
        // refused wrongly: a new key always passes.
        #expect(limiter.take(200_000, now: 0.5) == .allowed)
    }

    @Test func ipv6ClientsShareTheirSlash64() throws {
        let a = try #require(IPAddress("2001:db8:1:2::1")), b = try #require(IPAddress("2001:db8:1:2:ffff::9"))
        #expect(a.clientPrefix == b.clientPrefix)
        #expect(a.clientPrefix != (try #require(IPAddress("2001:db8:1:3::1"))).clientPrefix)
        let v4 = try #require(IPAddress("192.0.2.1"))
        #expect(v4.clientPrefix == v4)
    }

    @Test func configuration() throws {
        let config = try RoomstreamConfiguration.parse(Data(#"{"ingest": {"rate_limits": {"key_per_second": 1000, "address_per_second": 5, "address_burst": 20}}}"#.utf8))
        #expect(config.rateLimits.perKey == RateLimit(perSecond: 1000, burst: 2000))
        #expect(config.rateLimits.perAddress == RateLimit(perSecond: 5, burst: 20))
        #expect(try RoomstreamConfiguration.parse(Data("{}".utf8)).rateLimits == IngestRateLimitConfiguration())
        #expect(throws: ConfigurationError(field: "ingest.rate_limits.address_burst", problem: "must be from 1 to 10000000, got 0.5")) {
            try RoomstreamConfiguration.parse(Data(#"{"ingest": {"rate_limits": {"address_per_second": 5, "address_burst": 0.5}}}"#.utf8))
        }
        #expect(throws: ConfigurationError(field: "ingest.rate_limits.key_burst", problem: "needs ingest.rate_limits.key_per_second above 0")) {
            try RoomstreamConfiguration.parse(Data(#"{"ingest": {"rate_limits": {"key_burst": 10}}}"#.utf8))
        }
    }

    // MARK: Over sockets

    @Test func aClientOverItsLimitGets429WithRetryAfterAndCORS() async throws {
        let clock = ManualWallClock(1_700_000_000_000)
        let service = try AppTestService(wallClock: clock) { $0.rateLimits.perAddress = RateLimit(perSecond: 1, burst: 2) }
        let body = IngestRoutesTests.sample
        #expect(try service.ingest(room: "r", peer: "p", json: body)?.status == 202)
        #expect(try service.ingest(room: "r", peer: "p", json: body)?.status == 202)
        let limited = try #require(try service.request("POST", "/v1/rooms/r/peers/p/samples", headers: [
            "Authorization": "Bearer \(AppTestService.ingestKey)", "Content-Type": "application/json", "Origin": "https://app.example"], body: Array(body.utf8)))
        #expect(limited.status == 429)
        #expect(limited.headers["retry-after"] == "1")
        #expect(limited.headers["access-control-allow-origin"] == "*")
        #expect(limited.bodyText.contains("\"code\":\"rate_limited\""))
        #expect(limited.bodyText.contains("client address"))
        // Wrong keys are limited too (the address is checked first).
        #expect(try service.ingest(room: "r", peer: "p", json: body, key: "wrong-key-000")?.status == 429)
        clock.advance(to: 1_700_000_001_000)
        #expect(try service.ingest(room: "r", peer: "p", json: body)?.status == 202)
        await service.stop()
    }

    @Test func theKeyLimitCoversEveryAddress() async throws {
        let clock = ManualWallClock(1_700_000_000_000)
        let service = try AppTestService(wallClock: clock) { $0.rateLimits.perKey = RateLimit(perSecond: 1, burst: 1) }
        #expect(try service.ingest(room: "r", peer: "p", json: IngestRoutesTests.sample)?.status == 202)
        let limited = try #require(try service.ingest(room: "r", peer: "q", json: IngestRoutesTests.sample))
        #expect(limited.status == 429)
        #expect(limited.bodyText.contains("ingest key"))
        // The admin routes are not ingest: never limited.
        #expect(try service.admin("/v1/rooms")?.status == 200)
        await service.stop()
    }

    @Test func behindATrustedProxyEachClientHasItsOwnBucket() async throws {
        let clock = ManualWallClock(1_700_000_000_000)
        let service = try AppTestService(wallClock: clock) {
            $0.rateLimits.perAddress = RateLimit(perSecond: 1, burst: 1)
            $0.clientAddress.trustedProxies = ["127.0.0.0/8"].compactMap(IPNetwork.init)
        }
        func post(_ forwardedFor: String) throws -> Int? {
            try service.request("POST", "/v1/rooms/r/peers/p/samples", headers: [
                "Authorization": "Bearer \(AppTestService.ingestKey)", "Content-Type": "application/json", "X-Forwarded-For": forwardedFor,
            ], body: Array(IngestRoutesTests.sample.utf8))?.status
        }
        #expect(try post("198.51.100.1") == 202)
        #expect(try post("198.51.100.2") == 202)
        #expect(try post("198.51.100.1") == 429)
        // A client that prepends a fake address is still itself.
        #expect(try post("203.0.113.77, 198.51.100.2") == 429)
        await service.stop()
    }
}
