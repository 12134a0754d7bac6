import CCurl
import Crypto
import RoomstreamBasics
import Foundation

/// What went wrong talking to an S3-compatible store.
public enum S3Error: Error, Equatable, Sendable, CustomStringConvertible {
    /// No HTTP response: DNS, connect, TLS, timeout (curl's error).
    case network(String)
    /// The store answered with an error status; `code` is S3's `<Code>` when present.
    case http(status: Int, code: String?, message: String)

    /// 403 and 404 mean the configuration is wrong (keys, bucket, endpoint): surfaced loudly,
    /// still retried, but slowly.
    public var isConfigurationError: Bool {
        if case .http(let status, _, _) = self { return status == 403 || status == 404 || status == 400 }
        return false
    }

    public var description: String {
        switch self {
        case .network(let detail): "network: \(detail)"
        case .http(let status, let code, let message): "HTTP \(status)\(code.map { " \($0)" } ?? ""): \(message)"
        }
    }
}

/// PUT and GET of objects on an S3-compatible store through libcurl, signed with SigV4
/// (`CURLOPT_AWS_SIGV4`). Bodies go from memory with an explicit `x-amz-content-sha256`
/// (with a body from a read callback curl's signature is rejected) and a `Content-MD5` the
/// store verifies, so a corrupted upload is refused rather than stored.
public struct S3Client: Sendable {
    public let destination: S3Destination
    private let secret: String
    public var connectTimeoutMilliseconds = 10_000
    public var timeoutMilliseconds = 300_000

    public init(destination: S3Destination, secret: String) {
        self.destination = destination
        self.secret = secret
    }

    /// Path-style `https://host/bucket/key` or virtual-hosted `https://bucket.host/key`.
    public func url(for key: String) -> String {
        let encodedKey = key.split(separator: "/", omittingEmptySubsequences: false).map { Self.encode(String($0)) }.joined(separator: "/")
        let endpoint = destination.endpoint.hasSuffix("/") ? String(destination.endpoint.dropLast()) : destination.endpoint
        if destination.pathStyle { return "\(endpoint)/\(destination.bucket)/\(encodedKey)" }
        guard let schemeEnd = endpoint.range(of: "://") else { return "\(endpoint)/\(destination.bucket)/\(encodedKey)" }
        return "\(endpoint[..<schemeEnd.upperBound])\(destination.bucket).\(endpoint[schemeEnd.upperBound...])/\(encodedKey)"
    }

    /// RFC 3986 unreserved characters and `=` stay; everything else is %XX. The path is signed
    /// as sent (curl's SigV4 uses it verbatim); `=` (Hive-style `dt=` partitions) is sent raw
    /// because a store that canonicalizes the decoded path (moto, measured) then computes the
    /// same string, while `%3D` would differ. `+` is encoded: S3 reads a raw `+` as a space.
    static func encode(_ text: String) -> String { TextFormat.percentEncode(text, keeping: "=") }

    public func put(key: String, body: [UInt8], contentType: String = "application/json", contentEncoding: String? = nil) throws(S3Error) {
        var headers = ["Content-Type: \(contentType)"]
        if let contentEncoding { headers.append("Content-Encoding: \(contentEncoding)") }
        _ = try perform("PUT", url(for: key), headers: headers + Self.integrityHeaders(body), body: body)
    }

    /// x-amz-content-sha256 (signed) and Content-MD5 (verified by the store).
    static func integrityHeaders(_ body: [UInt8]) -> [String] {
        let sha256 = SHA256.hash(data: body).map { String(format: "%02x", $0) }.joined()
        let md5 = Data(Insecure.MD5.hash(data: body)).base64EncodedString()
        return ["x-amz-content-sha256: \(sha256)", "Content-MD5: \(md5)"]
    }

    /// Uploads a file in parts (S3 multipart upload): memory holds one part at a time. Parts
    /// are at least 5 MiB (S3's minimum) except the last. A failure aborts the upload, so no
    /// orphaned parts are billed; the retry starts a new one.
    public func putMultipart(key: String, path: String, partBytes: Int, contentType: String = "application/json", contentEncoding: String? = nil) throws(S3Error) {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw .network("cannot read \(path)") }
        defer { try? handle.close() }
        let objectURL = url(for: key)
        var createHeaders = ["Content-Type: \(contentType)"] + Self.integrityHeaders([])
        if let contentEncoding { createHeaders.append("Content-Encoding: \(contentEncoding)") }
        let created = String(decoding: try perform("POST", objectURL + "?uploads=", headers: createHeaders, body: []), as: UTF8.self)
        guard let uploadID = Self.xmlValue("UploadId", in: created) else { throw .http(status: 200, code: nil, message: "no UploadId in \(created.prefix(200))") }
        let encodedID = Self.encode(uploadID)
        var etags: [String] = []
        do throws(S3Error) {
            var partNumber = 1
            while true {
                let size = max(partBytes, 5 * 1024 * 1024)
                var part: [UInt8] = []
                part.reserveCapacity(size)
                // readData(ofLength:) may return less than asked before the end: fill the part.
                while part.count < size {
                    let chunk = handle.readData(ofLength: size - part.count)
                    if chunk.isEmpty { break }
                    part.append(contentsOf: chunk)
                }
                if part.isEmpty && partNumber > 1 { break }
                // An explicit Content-Type: curl would otherwise label the body as a form.
                let (_, etag) = try performWithETag(
                    "PUT", "\(objectURL)?partNumber=\(partNumber)&uploadId=\(encodedID)",
                    headers: ["Content-Type: application/octet-stream"] + Self.integrityHeaders(part), body: part)
                etags.append(etag)
                partNumber += 1
                if part.count < max(partBytes, 5 * 1024 * 1024) { break }
            }
            let parts = etags.enumerated().map { "<Part><PartNumber>\($0.offset + 1)</PartNumber><ETag>\($0.element)</ETag></Part>" }.joined()
            let complete = Array("<CompleteMultipartUpload>\(parts)</CompleteMultipartUpload>".utf8)
            let response = String(decoding: try perform("POST", "\(objectURL)?uploadId=\(encodedID)", headers: ["Content-Type: application/xml"] + Self.integrityHeaders(complete), body: complete), as: UTF8.self)
            // S3 can answer 200 with an error document for CompleteMultipartUpload.
            if let code = Self.xmlValue("Code", in: response) {
                throw .http(status: 200, code: code, message: Self.xmlValue("Message", in: response) ?? "")
            }
        } catch {
            _ = try? perform("DELETE", "\(objectURL)?uploadId=\(encodedID)", headers: ["Content-Type: application/octet-stream"] + Self.integrityHeaders([]), body: nil)
            throw error
        }
    }

    public func get(key: String, maxBytes: Int = 256 * 1024 * 1024) throws(S3Error) -> [UInt8] {
        let emptySHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        return try perform("GET", url(for: key), headers: ["x-amz-content-sha256: \(emptySHA256)"], body: nil, maxResponseBytes: maxBytes)
    }

    private func perform(_ method: String, _ url: String, headers: [String], body: [UInt8]?, maxResponseBytes: Int = 1024 * 1024) throws(S3Error) -> [UInt8] {
        try performWithETag(method, url, headers: headers, body: body, maxResponseBytes: maxResponseBytes).body
    }

    private func performWithETag(_ method: String, _ url: String, headers: [String], body: [UInt8]?, maxResponseBytes: Int = 1024 * 1024) throws(S3Error) -> (body: [UInt8], etag: String) {
        var result = rs_http_result()
        let sigv4 = "aws:amz:\(destination.region):s3"
        let userpwd = "\(destination.accessKeyID):\(secret)"
        // SAFETY: every pointer below (header strings, body bytes) is valid for the duration of
        // rs_curl_request, which copies or sends them before returning.
        let code = withCStringArray(headers) { headerPointers in
            if let body {
                return body.withUnsafeBufferPointer { bytes in
                    rs_curl_request(method, url, headerPointers, headers.count, bytes.baseAddress, bytes.count, sigv4, userpwd,
                                    connectTimeoutMilliseconds, timeoutMilliseconds, maxResponseBytes, &result)
                }
            }
            return rs_curl_request(method, url, headerPointers, headers.count, nil, 0, sigv4, userpwd,
                                   connectTimeoutMilliseconds, timeoutMilliseconds, maxResponseBytes, &result)
        }
        defer { rs_http_result_free(&result) }
        guard code == 0 else {
            throw .network(withUnsafeBytes(of: result.error) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) })
        }
        // SAFETY: the shim returns `body_length` bytes at `body` (or NULL and 0).
        let responseBody = result.body.map { Array(UnsafeBufferPointer(start: $0, count: result.body_length)) } ?? []
        guard (200..<300).contains(result.status) else {
            let text = String(decoding: responseBody, as: UTF8.self)
            throw .http(status: result.status, code: Self.xmlValue("Code", in: text), message: Self.xmlValue("Message", in: text) ?? String(text.prefix(300)))
        }
        let etag = withUnsafeBytes(of: result.etag) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return (responseBody, etag)
    }

    static func xmlValue(_ element: String, in text: String) -> String? {
        guard let open = text.range(of: "<\(element)>"), let close = text.range(of: "</\(element)>", range: open.upperBound..<text.endIndex) else { return nil }
        return String(text[open.upperBound..<close.lowerBound])
    }
}

/// Calls `body` with a C array of C strings that stays valid during the call.
private func withCStringArray<Result>(_ strings: [String], _ body: (UnsafePointer<UnsafePointer<CChar>?>?) -> Result) -> Result {
    // SAFETY: strdup'ed copies live until after `body` returns, then are freed.
    let pointers: [UnsafeMutablePointer<CChar>?] = strings.map { strdup($0) }
    defer { for pointer in pointers { free(pointer) } }
    let constPointers = pointers.map { UnsafePointer($0) }
    return constPointers.withUnsafeBufferPointer { body($0.baseAddress) }
}
