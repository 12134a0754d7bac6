#if canImport(Glibc)
import Glibc
#endif
import CEpoll
import RoomstreamHTTP
import RoomstreamBasics

/// A failed socket call, with the errno it left.
public struct SocketError: Error, CustomStringConvertible, Sendable {
    public var operation: String
    public var errno: Int32

    public var description: String { "\(operation) failed: \(String(cString: strerror(errno))) (errno \(errno))" }
}

/// Thin wrappers over the POSIX calls the server makes. Each throws `SocketError`.
enum Socket {
    /// Creates a non-blocking listening socket bound to `host:port`. "::" listens on IPv6 and
    /// IPv4 (dual stack); "0.0.0.0" on IPv4 only.
    static func listen(host: String, port: Int, backlog: Int) throws -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV
        var result: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &result)
        guard status == 0, let first = result else {
            throw SocketError(operation: "getaddrinfo(\(host)): \(String(cString: gai_strerror(status)))", errno: status == EAI_SYSTEM ? Glibc.errno : 0)
        }
        defer { freeaddrinfo(result) }

        var lastError = SocketError(operation: "bind \(host):\(port)", errno: EADDRNOTAVAIL)
        var candidate: UnsafeMutablePointer<addrinfo>? = first
        while let info = candidate {
            candidate = info.pointee.ai_next
            let fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard fd >= 0 else {
                lastError = SocketError(operation: "socket", errno: errno)
                continue
            }
            var one: Int32 = 1
            // Restarts must not wait for TIME_WAIT sockets of the previous process to expire.
            setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
            if info.pointee.ai_family == AF_INET6 {
                var off: Int32 = 0
                setsockopt(fd, Int32(IPPROTO_IPV6), IPV6_V6ONLY, &off, socklen_t(MemoryLayout<Int32>.size))
            }
            guard bind(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
                lastError = SocketError(operation: "bind \(host):\(port)", errno: errno)
                closeDescriptor(fd)
                continue
            }
            guard Glibc.listen(fd, Int32(backlog)) == 0 else {
                lastError = SocketError(operation: "listen", errno: errno)
                closeDescriptor(fd)
                continue
            }
            return fd
        }
        throw lastError
    }

    /// The port a bound socket listens on.
    static func localPort(_ fd: Int32) -> Int {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        let ok = withUnsafeMutablePointer(to: &storage) { pointer in
            // SAFETY: sockaddr_storage is large enough for any address getsockname writes.
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 }
        }
        guard ok else { return 0 }
        switch Int32(storage.ss_family) {
        case AF_INET:
            // SAFETY: ss_family says the storage holds a sockaddr_in.
            return withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) } }
        case AF_INET6:
            // SAFETY: ss_family says the storage holds a sockaddr_in6.
            return withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) } }
        default:
            return 0
        }
    }

    /// Accepts one connection, non-blocking and close-on-exec, with its peer's address. Returns
    /// nil when none is pending.
    static func accept(_ listener: Int32) throws -> (fd: Int32, peer: IPAddress?)? {
        var storage = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        // accept4(2) (through the CEpoll shim: the Glibc module does not export it), so the
        // descriptor is non-blocking and close-on-exec from the start.
        let fd = withUnsafeMutablePointer(to: &storage) { pointer in
            // SAFETY: sockaddr_storage is large enough for any address accept writes; length says so.
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { rs_accept(listener, $0, &length) }
        }
        if fd >= 0 { return (fd, peerAddress(storage)) }
        switch errno {
        case EAGAIN, EWOULDBLOCK, EINTR, ECONNABORTED: return nil
        default: throw SocketError(operation: "accept", errno: errno)
        }
    }

    static func peerAddress(_ storage: sockaddr_storage) -> IPAddress? {
        var storage = storage
        switch Int32(storage.ss_family) {
        case AF_INET:
            // SAFETY: ss_family says the storage holds a sockaddr_in.
            return withUnsafePointer(to: &storage) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { IPAddress(ipv4: UInt32(bigEndian: $0.pointee.sin_addr.s_addr)) }
            }
        case AF_INET6:
            // SAFETY: ss_family says the storage holds a sockaddr_in6.
            let raw = withUnsafePointer(to: &storage) { $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { $0.pointee.sin6_addr } }
            return withUnsafeBytes(of: raw) { bytes in
                var high: UInt64 = 0, low: UInt64 = 0
                for i in 0..<8 { high = high << 8 | UInt64(bytes[i]) }
                for i in 8..<16 { low = low << 8 | UInt64(bytes[i]) }
                return IPAddress(high: high, low: low)
            }
        default:
            return nil
        }
    }

    /// Disables Nagle: a response's single writev must leave at once, not wait for the
    /// client's delayed ACK (a 40 ms stall per response otherwise).
    static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }
}

/// The process's open-descriptor limit (RLIMIT_NOFILE). Many systems start services with a
/// soft limit of 1024, far below `max_connections`; the hard limit is usually much higher.
public enum DescriptorLimit {
    /// Raises the soft limit towards `wanted` (never above the hard limit, never lowers it) and
    /// returns the soft limit now in force.
    @discardableResult
    public static func raise(to wanted: Int) -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 0 }
        let target = rlim_t(max(0, wanted))
        if limit.rlim_cur < target {
            var raised = limit
            raised.rlim_cur = min(target, limit.rlim_max)
            if setrlimit(Int32(RLIMIT_NOFILE.rawValue), &raised) == 0 { limit = raised }
        }
        return limit.rlim_cur > rlim_t(Int.max) ? Int.max : Int(limit.rlim_cur)
    }
}
