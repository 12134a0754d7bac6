/// The service clock (epoch milliseconds), injected so the domain never reads time itself.
public protocol WallClock: Sendable {
    func nowMilliseconds() -> Double
}
