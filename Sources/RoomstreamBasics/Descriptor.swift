#if canImport(Glibc)
import Glibc
#endif

/// `close(2)` of a descriptor this process owns, checking that it was still open. EBADF means
/// it was closed already, and a second close of a number that the process may have reused
/// meanwhile closes someone else's socket or file: a test client's deinit once closed the
/// number its failed init had closed, which flaked unrelated tests for sessions (a refused
/// connect, a `DurableFile` closed under a seal, a hung libcurl read). Debug builds, which the
/// tests and sanitizer runs use, stop there; a release build goes on, as the close did nothing.
/// Linux closes the descriptor even when close reports EINTR, so it is never retried.
/// Returns close's errno, or 0.
@discardableResult
public func closeDescriptor(_ fd: Int32) -> Int32 {
    guard close(fd) != 0 else { return 0 }
    let code = errno
    assert(code != EBADF, "close(\(fd)): EBADF, the descriptor was closed already (a double close)")
    return code
}
