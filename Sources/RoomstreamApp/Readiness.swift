import Synchronization

/// Whether the service should receive traffic: `/readyz` answers 200 only when `.ready`.
public final class Readiness: Sendable {
    public enum State: Int, Sendable {
        case starting = 0
        case ready = 1
        case draining = 2
    }

    private let value = Atomic<Int>(State.starting.rawValue)

    public init() {}

    public var state: State { State(rawValue: value.load(ordering: .acquiring)) ?? .starting }

    public func set(_ state: State) { value.store(state.rawValue, ordering: .releasing) }
}
