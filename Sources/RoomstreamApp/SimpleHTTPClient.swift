#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RoomstreamBasics

/// A minimal blocking HTTP/1.1 client over one keep-alive connection, for the simulator.
/// Plain http only; responses are framed by Content-Length (what roomstream sends).
final class SimpleHTTPClient {
    struct Response {
        var status: Int
        var body: [UInt8]
    }

    enum ClientError: Error, CustomStringConvertible {
        case badURL(String)
        case connect(String)
        case io(String)
        var description: String {
            switch self {
            case .badURL(let detail): "bad url: \(detail)"
            case .connect(let detail): "cannot connect: \(detail)"
            case .io(let detail): "connection failed: \(detail)"
            }
        }
    }

    let host: String
    let port: Int
    private var fd: Int32 = -1
    private var buffer: [UInt8] = []

    init(url: String) throws {
        guard let components = URLComponents(string: url), components.scheme == "http", let host = components.host else {
            throw ClientError.badURL("\(url) (the simulator speaks plain http://host:port)")
        }
        self.host = host
        self.port = components.port ?? 80
    }

    deinit { if fd >= 0 { closeDescriptor(fd) } }

    private func connectIfNeeded() throws {
        guard fd < 0 else { return }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var result: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &result) == 0, let info = result else { throw ClientError.connect("\(host):\(port) does not resolve") }
        defer { freeaddrinfo(result) }
        let socketFD = socket(info.pointee.ai_family, Int32(SOCK_STREAM.rawValue), 0)
        guard socketFD >= 0, Glibc.connect(socketFD, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else {
            let message = String(cString: strerror(errno))
            if socketFD >= 0 { closeDescriptor(socketFD) }
            throw ClientError.connect("\(host):\(port): \(message)")
        }
        var one: Int32 = 1
        setsockopt(socketFD, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(socketFD, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        fd = socketFD
        buffer.removeAll()
    }

    private func reset() {
        if fd >= 0 { closeDescriptor(fd) }
        fd = -1
    }

    /// Sends a request and reads the response; reconnects once if the kept-alive connection was closed.
    func send(method: String, path: String, headers: [(String, String)], body: [UInt8]) throws -> Response {
        do {
            return try attempt(method: method, path: path, headers: headers, body: body)
        } catch {
            reset()
            return try attempt(method: method, path: path, headers: headers, body: body)
        }
    }

    private func attempt(method: String, path: String, headers: [(String, String)], body: [UInt8]) throws -> Response {
        try connectIfNeeded()
        var head = "\(method) \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nContent-Length: \(body.count)\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        let request = Array((head + "\r\n").utf8) + body
        var offset = 0
        while offset < request.count {
            let written = request[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard written > 0 else { throw ClientError.io("send: \(String(cString: strerror(errno)))") }
            offset += written
        }
        return try readResponse()
    }

    private func fill() throws {
        var chunk = [UInt8](repeating: 0, count: 16 * 1024)
        let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
        guard count > 0 else { throw ClientError.io(count == 0 ? "closed by the server" : String(cString: strerror(errno))) }
        buffer.append(contentsOf: chunk[0..<count])
    }

    private func readResponse() throws -> Response {
        var headEnd: Int?
        while headEnd == nil {
            if buffer.count >= 4 {
                headEnd = (0...(buffer.count - 4)).first { buffer[$0] == 13 && buffer[$0 + 1] == 10 && buffer[$0 + 2] == 13 && buffer[$0 + 3] == 10 }
            }
            if headEnd == nil { try fill() }
        }
        guard let end = headEnd else { throw ClientError.io("no response head") }
        let head = String(decoding: buffer[0..<end], as: UTF8.self)
        buffer.removeFirst(end + 4)
        let lines = head.components(separatedBy: "\r\n")
        let statusParts = lines.first?.split(separator: " ") ?? []
        guard statusParts.count >= 2, let status = Int(statusParts[1]) else { throw ClientError.io("bad status line") }
        var length = 0
        var closes = false
        for line in lines.dropFirst() {
            let lower = line.lowercased()
            if lower.hasPrefix("content-length:") { length = Int(lower.dropFirst(15).trimmingCharacters(in: .whitespaces)) ?? 0 }
            if lower.hasPrefix("connection:") && lower.contains("close") { closes = true }
        }
        while buffer.count < length { try fill() }
        let body = Array(buffer[0..<length])
        buffer.removeFirst(length)
        if closes { reset() }
        return Response(status: status, body: body)
    }
}
