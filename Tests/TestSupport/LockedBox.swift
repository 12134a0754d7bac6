import Synchronization

/// A value shared between a test and callbacks on other threads.
public final class LockedBox<Value: Sendable>: Sendable {
    private let value: Mutex<Value>
    public init(_ value: Value) { self.value = Mutex(value) }
    public func get() -> Value { value.withLock { $0 } }
    public func set(_ newValue: Value) { value.withLock { $0 = newValue } }
}
