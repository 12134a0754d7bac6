#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Runs a program with posix_spawn, its stdout and stderr going to temporary files.
/// (Foundation's `Process.run` reads past a heap buffer under AddressSanitizer on this
/// toolchain, in `findMaximumOpenFromProcSelfFD`, so the sanitizer runs cannot use it.)
public final class ChildProcess {
    public let pid: pid_t
    private let stdoutPath: String
    private let stderrPath: String
    private var exitStatus: Int32?

    public init(_ executable: String, _ arguments: [String]) throws {
        let base = NSTemporaryDirectory() + "child-\(UUID().uuidString)"
        stdoutPath = base + ".out"
        stderrPath = base + ".err"
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, stdoutPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_addopen(&actions, 2, stderrPath, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        // SAFETY: the strdup'ed argument strings live until posix_spawn returns, then are freed.
        let argv: [UnsafeMutablePointer<CChar>?] = ([executable] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var pid = pid_t()
        let status = posix_spawn(&pid, executable, &actions, nil, argv, environ)
        guard status == 0 else { throw ClientError(operation: "posix_spawn \(executable)", errno: status) }
        self.pid = pid
    }

    public func signal(_ number: Int32) { kill(pid, number) }

    /// Whether the process has exited (without waiting); `wait()` then returns at once.
    public func hasExited() -> Bool {
        if exitStatus != nil { return true }
        var status: Int32 = 0
        guard waitpid(pid, &status, WNOHANG) == pid else { return false }
        exitStatus = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        return true
    }

    /// Waits for the exit without blocking a thread of the test pool (tests run on a pool of
    /// one thread per core; a blocked one delays every other test's timers).
    public func exited() async -> Int32 {
        while !hasExited() { try? await Task.sleep(for: .milliseconds(20)) }
        return wait()
    }

    /// Waits for the exit and returns the exit status (128 + signal when killed by a signal).
    @discardableResult
    public func wait() -> Int32 {
        if let exitStatus { return exitStatus }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let result = (status & 0x7F) == 0 ? (status >> 8) & 0xFF : 128 + (status & 0x7F)
        exitStatus = result
        return result
    }

    public var stdout: String { (try? String(contentsOfFile: stdoutPath, encoding: .utf8)) ?? "" }
    public var stderr: String { (try? String(contentsOfFile: stderrPath, encoding: .utf8)) ?? "" }

    deinit {
        if exitStatus == nil {
            kill(pid, SIGKILL)
            wait()
        }
        unlink(stdoutPath)
        unlink(stderrPath)
    }
}
