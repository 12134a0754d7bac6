import RoomstreamBasics
import RoomstreamHTTP
import RoomstreamServer

/// A token bucket's settings: `perSecond` tokens refill each second up to `burst`; a
/// request takes one.
struct RateLimit: Sendable, Equatable {
    var perSecond: Double
    var burst: Double
}

/// Token buckets by key (an ingest key, a client address), in a bounded table.
///
/// Time is a parameter (seconds on a monotonic clock), so tests drive it. The table holds at
/// most `maxTrackedKeys` buckets across 16 shards, each behind its own lock (event loops
/// limit different clients without queueing on one lock). At a shard's bound, buckets that
/// have refilled completely are dropped first: a full bucket and a missing one behave the
/// same, so nothing is lost. If that frees too little, the least recently used eighth goes:
/// those clients start again with a full burst, so a flood of new addresses can only make the
/// limiter more lenient toward a few old ones, never refuse anyone wrongly, and memory stays
/// bounded.
final class RateLimiter<Key: Hashable & Sendable>: Sendable {
    enum Decision: Equatable {
        case allowed
        /// Whole seconds until a token is back (at least 1), for `Retry-After` (RFC 9110 §10.2.3).
        case limited(retryAfterSeconds: Int)
    }

    struct Bucket {
        var tokens: Double
        var updated: Double
    }

    let limit: RateLimit
    let maxTrackedKeys: Int
    private let shards: [Locked<[Key: Bucket]>]
    private let perShard: Int

    init(limit: RateLimit, maxTrackedKeys: Int) {
        self.limit = limit
        self.maxTrackedKeys = maxTrackedKeys
        let count = maxTrackedKeys >= 1024 ? 16 : 1
        perShard = max(1, maxTrackedKeys / count)
        shards = (0..<count).map { _ in Locked([:]) }
    }

    var trackedKeys: Int { shards.reduce(0) { $0 + $1.withLock { $0.count } } }

    func take(_ key: Key, now: Double) -> Decision {
        let shard = shards.count == 1 ? 0 : Int(UInt(bitPattern: key.hashValue) % UInt(shards.count))
        return shards[shard].withLock { table in
            if let bucket = table[key] {
                var refilled = refill(bucket, now: now)
                guard refilled.tokens >= 1 else {
                    table[key] = refilled
                    return .limited(retryAfterSeconds: retryAfter(refilled.tokens))
                }
                refilled.tokens -= 1
                table[key] = refilled
                return .allowed
            }
            guard limit.burst >= 1 else { return .limited(retryAfterSeconds: retryAfter(limit.burst)) }
            if table.count >= perShard { evict(&table, now: now) }
            table[key] = Bucket(tokens: limit.burst - 1, updated: now)
            return .allowed
        }
    }

    private func refill(_ bucket: Bucket, now: Double) -> Bucket {
        // A clock that steps back refills nothing (and never drains).
        let elapsed = max(0, now - bucket.updated)
        return Bucket(tokens: min(limit.burst, bucket.tokens + elapsed * limit.perSecond), updated: max(now, bucket.updated))
    }

    private func retryAfter(_ tokens: Double) -> Int {
        guard limit.perSecond > 0 else { return 3600 }
        let seconds = (1 - tokens) / limit.perSecond
        return max(1, min(3600, Int(seconds.rounded(.up))))
    }

    private func evict(_ table: inout [Key: Bucket], now: Double) {
        table = table.filter { refill($0.value, now: now).tokens < limit.burst }
        let target = perShard - max(1, perShard / 8)
        guard table.count > target else { return }
        // O(n log n) once per perShard/8 new keys: amortized O(log n) per key.
        let oldest = table.sorted { $0.value.updated < $1.value.updated }.prefix(table.count - target)
        for (key, _) in oldest { table.removeValue(forKey: key) }
    }
}

/// The ingest rate limits (`ingest.rate_limits`): per ingest key and per client address.
struct IngestRateLimits: Sendable {
    /// nil: that limit is off.
    let perKey: RateLimiter<Int>?
    let perAddress: RateLimiter<IPAddress>?

    init(configuration: IngestRateLimitConfiguration) {
        perKey = configuration.perKey.map { RateLimiter(limit: $0, maxTrackedKeys: 1024) }
        perAddress = configuration.perAddress.map { RateLimiter(limit: $0, maxTrackedKeys: configuration.maxTrackedAddresses) }
    }

    func checkAddress(_ address: IPAddress?, now: Double) throws(APIError) {
        guard let perAddress, let address else { return }
        // IPv6 clients are limited per /64 (`IPAddress.clientPrefix`).
        if case .limited(let seconds) = perAddress.take(address.clientPrefix, now: now) {
            throw AppErrors.rateLimited("client address", retryAfterSeconds: seconds)
        }
    }

    func checkKey(_ keyIndex: Int, now: Double) throws(APIError) {
        guard let perKey else { return }
        if case .limited(let seconds) = perKey.take(keyIndex, now: now) {
            throw AppErrors.rateLimited("ingest key", retryAfterSeconds: seconds)
        }
    }
}

/// `ingest.rate_limits`; a limit is off when its `per_second` is absent or 0.
struct IngestRateLimitConfiguration: Sendable, Equatable {
    var perKey: RateLimit?
    var perAddress: RateLimit?
    var maxTrackedAddresses = 100_000
}
