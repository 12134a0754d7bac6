import RoomstreamBasics
import Synchronization

/// A value shared between a test and callbacks on other threads.
public final class LockedBox<Value: Sendable>: Sendable {
    private let value: Locked<Value>
    public init(_ value: Value) { self.value = Locked(value) }
    public func get() -> Value { value.withLock { $0 } }
    public func set(_ newValue: Value) { value.withLock { $0 = newValue } }
}
