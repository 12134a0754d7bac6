#if canImport(Glibc)
import Glibc
#endif
import RoomstreamBasics

/// Writes a file so that after a crash it is either absent or complete: write `name.tmp`,
/// fsync it, rename it over `name`, fsync the directory.
public final class DurableFile {
    public let path: String
    private let temporaryPath: String
    private var fd: Int32
    public private(set) var bytesWritten = 0

    /// `mode` applies from creation (a secret-holding file is never readable by others, even briefly).
    public init(path: String, mode: mode_t = 0o644) throws(StreamError) {
        self.path = path
        self.temporaryPath = path + ".tmp"
        unlink(temporaryPath)  // a leftover from a crash may have other permissions
        fd = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode)
        guard fd >= 0 else { throw .io(operation: "open", path: temporaryPath, errno: errno) }
    }

    public func write(_ bytes: some Collection<UInt8>) throws(StreamError) {
        let array = Array(bytes)
        if let code = Self.writeAll(fd, array) { throw .io(operation: "write", path: temporaryPath, errno: code) }
        bytesWritten += array.count
    }

    /// Writes every byte to `fd` (retrying short writes and EINTR); the errno of a failure, or nil.
    /// Writes all of `bytes` at `offset` (pwrite: the file position is not used). Returns errno.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], at offset: Int) -> Int32? {
        var done = 0
        while done < bytes.count {
            // SAFETY: pwrite(2) reads the array only during the call.
            let written = bytes.withUnsafeBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return pwrite(fd, base + done, buffer.count - done, off_t(offset + done))
            }
            if written < 0 {
                if errno == EINTR { continue }
                return errno
            }
            done += written
        }
        return nil
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) -> Int32? {
        var offset = 0
        while offset < bytes.count {
            // SAFETY: write(2) reads the array only during the call.
            let written = bytes.withUnsafeBytes { buffer -> Int in
                guard let base = buffer.baseAddress else { return 0 }
                return Glibc.write(fd, base + offset, buffer.count - offset)
            }
            if written < 0 {
                if errno == EINTR { continue }
                return errno
            }
            offset += written
        }
        return nil
    }

    /// Makes the file durable under its final name.
    public func commit() throws(StreamError) {
        guard fd >= 0 else { return }
        guard fsync(fd) == 0 else { throw .io(operation: "fsync", path: temporaryPath, errno: errno) }
        // close(2) releases the descriptor even when it reports an error: forget it first, so
        // the deinit never closes the number again (by then another file's or socket's).
        let closeError = closeDescriptor(fd)
        fd = -1
        guard closeError == 0 else {
            unlink(temporaryPath)
            throw .io(operation: "close", path: temporaryPath, errno: closeError)
        }
        guard rename(temporaryPath, path) == 0 else { throw .io(operation: "rename", path: path, errno: errno) }
        try Self.syncDirectory(of: path)
    }

    /// fsync of the directory makes the rename itself durable.
    public static func syncDirectory(of path: String) throws(StreamError) {
        let directory = path.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        let dirfd = open(directory.isEmpty ? "." : directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        guard dirfd >= 0 else { throw .io(operation: "open directory", path: directory, errno: errno) }
        defer { closeDescriptor(dirfd) }
        guard fsync(dirfd) == 0 else { throw .io(operation: "fsync directory", path: directory, errno: errno) }
    }

    /// Creates `path` and its parents.
    public static func makeDirectories(_ path: String) throws(StreamError) {
        var current = path.hasPrefix("/") ? "" : "."
        for component in path.split(separator: "/") {
            current += "/" + component
            let (status, error) = callWithErrno(current) { mkdir($0, 0o755) }
            if status != 0 && error != EEXIST {
                throw .io(operation: "mkdir", path: current, errno: error)
            }
        }
    }

    deinit {
        if fd >= 0 {
            closeDescriptor(fd)
            unlink(temporaryPath)
        }
    }
}

/// Runs a system call on `path` and reads `errno` at once, inside the borrow of the path's C
/// string: no release of a temporary (and no sanitizer's interceptor of `free`) runs between
/// the call and the read, so a branch on ENOENT or EEXIST sees the call's own error. The
/// engine's tests failed now and then on a fresh data directory: a spurious error where
/// opendir said ENOENT left the first seal without its journal. `errno` means something only
/// when the call failed.
func callWithErrno<Result>(_ path: String, _ call: (UnsafePointer<CChar>) -> Result) -> (result: Result, errno: Int32) {
    path.withCString { pointer in
        let result = call(pointer)
        return (result, errno)
    }
}
