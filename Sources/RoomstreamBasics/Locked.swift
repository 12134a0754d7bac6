#if canImport(Glibc)
import Glibc
#endif

/// A value behind a pthread mutex. Used instead of the standard library's `Mutex`, whose
/// futex-based Linux implementation ThreadSanitizer cannot see (measured: every guarded
/// access is reported as a race), so `make sanitize` stays meaningful. `Value` must not be
/// zero-size: ThreadSanitizer placed the accesses to a `Locked(())`'s value at the object's
/// header, which every caller reads before taking the lock, and reported races (measured). A
/// lock that only serializes counts something instead.
// SAFETY: `value` is read and written only while `mutex` is held.
public final class Locked<Value>: @unchecked Sendable {
    private var value: Value
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>

    public init(_ value: Value) {
        assert(MemoryLayout<Value>.size > 0, "Locked needs a value of non-zero size (see the type's comment)")
        self.value = value
        // SAFETY: allocated and initialized here, destroyed and freed in deinit; its address never changes.
        mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    public func withLock<Result, Failure: Error>(_ body: (inout Value) throws(Failure) -> Result) throws(Failure) -> Result {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return try body(&value)
    }
}
