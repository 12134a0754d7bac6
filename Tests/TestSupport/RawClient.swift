#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RoomstreamBasics

/// A socket call in a test client failed.
public struct ClientError: Error, CustomStringConvertible {
    public var operation: String
    public var errno: Int32
    public var description: String { "\(operation) failed (errno \(errno))" }
}

public struct ClientResponse {
    public var status: Int
    public var headers: [String: String]
    public var body: [UInt8]
    public var bodyText: String { String(decoding: body, as: UTF8.self) }
}


/// A blocking test client over a raw socket, so tests control every byte and can see closes.
public final class RawClient {
    public private(set) var fd: Int32
    private var buffer: [UInt8] = []

    /// `from`: an IPv4 source address to bind first (any of 127.0.0.0/8 works on loopback), so
    /// one test can be several clients.
    public init(port: Int, host: String = "127.0.0.1", from source: String? = nil, receiveTimeout: Duration = .seconds(5)) throws {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else { throw ClientError(operation: "getaddrinfo", errno: 0) }
        defer { freeaddrinfo(result) }
        // Close-on-exec: a child a test spawns meanwhile must not hold this connection open.
        fd = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw ClientError(operation: "socket", errno: errno) }
        if let source {
            var local = sockaddr_in()
            local.sin_family = sa_family_t(AF_INET)
            guard inet_pton(AF_INET, source, &local.sin_addr) == 1 else {
                closeAndForget()
                throw ClientError(operation: "inet_pton", errno: 0)
            }
            // SAFETY: sockaddr_in is a valid sockaddr of the size passed.
            let bound = withUnsafePointer(to: &local) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
            guard bound == 0 else {
                let error = errno
                closeAndForget()
                throw ClientError(operation: "bind", errno: error)
            }
        }
        guard connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let error = errno
            closeAndForget()
            throw ClientError(operation: "connect", errno: error)
        }
        let (seconds, attoseconds) = receiveTimeout.components
        var timeout = timeval(tv_sec: Int(seconds), tv_usec: Int(attoseconds / 1_000_000_000_000))
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    deinit { closeAndForget() }

    /// Closes the socket once: a throwing init still runs the deinit (every stored property is
    /// set), and a second close(2) of the number closes whatever the process opened under it
    /// since. That was the test suite's "no answer", refused connects and a hung libcurl read
    /// (its resolver's socketpair closed under it): strace showed close(n) = EBADF from here.
    private func closeAndForget() {
        guard fd >= 0 else { return }
        closeDescriptor(fd)
        fd = -1
    }

    /// Closes with an RST (SO_LINGER 0), as a crashed or killed peer's kernel would.
    public func reset() {
        var option = linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &option, socklen_t(MemoryLayout<linger>.size))
        closeAndForget()
    }

    public func send(_ text: String) { send(Array(text.utf8)) }

    public func send(_ bytes: [UInt8]) {
        var offset = 0
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written <= 0 { return }
            offset += written
        }
    }

    /// Reads more bytes; false on EOF, error or timeout.
    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { return false }
        buffer.append(contentsOf: chunk[0..<count])
        return true
    }

    /// Reads one response (Content-Length framed, or no body for 1xx/204/HEAD).
    public func readResponse(headRequest: Bool = false) -> ClientResponse? {
        var headEnd: Int?
        while headEnd == nil {
            if let range = findCRLFCRLF() { headEnd = range } else if !fill() { return nil }
        }
        guard let headEnd else { return nil }
        let head = String(decoding: buffer[0..<headEnd], as: UTF8.self)
        var lines = head.components(separatedBy: "\r\n")
        let statusLine = lines.removeFirst().split(separator: " ")
        guard statusLine.count >= 2, let status = Int(statusLine[1]) else { return nil }
        var headers: [String: String] = [:]
        for line in lines where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        buffer.removeFirst(headEnd + 4)
        let length = (status < 200 || status == 204 || status == 304 || headRequest) ? 0 : Int(headers["content-length"] ?? "0") ?? 0
        while buffer.count < length { if !fill() { return nil } }
        let body = Array(buffer[0..<length])
        buffer.removeFirst(length)
        return ClientResponse(status: status, headers: headers, body: body)
    }

    /// True when the server has closed the connection (EOF) within the receive timeout.
    public func isClosedByServer() -> Bool {
        while true {
            var byte: UInt8 = 0
            let count = recv(fd, &byte, 1, 0)
            if count == 0 { return true }
            if count < 0 { return errno == ECONNRESET }
            buffer.append(byte)
        }
    }

    private func findCRLFCRLF() -> Int? {
        guard buffer.count >= 4 else { return nil }
        for index in 0...(buffer.count - 4) where buffer[index] == 13 && buffer[index + 1] == 10 && buffer[index + 2] == 13 && buffer[index + 3] == 10 {
            return index
        }
        return nil
    }
}

/// Waits (polling) until `condition` holds or `timeout` passes.
public func eventually(timeout: Duration = .seconds(5), _ condition: () -> Bool) async -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline {
        if condition() { return true }
        try? await Task.sleep(for: .milliseconds(10))
    }
    return condition()
}

/// Raises the open-file limit so a test can hold thousands of sockets (both ends are in this process).
public func raiseFileLimit(to wanted: UInt) {
    var limit = rlimit()
    getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    if limit.rlim_cur < wanted {
        limit.rlim_cur = min(wanted, limit.rlim_max)
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit)
    }
}
