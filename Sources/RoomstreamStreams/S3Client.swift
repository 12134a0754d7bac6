import CCurl
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

    /// Worth repeating at once: no response, a 5xx other than 501, or S3's throttling codes.
    public var isTransient: Bool {
        switch self {
        case .network: true
        case .http(let status, let code, _): [500, 502, 503, 504].contains(status) || code == "SlowDown" || code == "RequestTimeout"
        }
    }

    public var description: String {
        switch self {
        case .network(let detail): "network: \(detail)"
        case .http(let status, let code, let message): "HTTP \(status)\(code.map { " \($0)" } ?? ""): \(message)"
        }
    }
}

/// PUT and GET of objects on an S3-compatible store through libcurl, signed with SigV4 by
/// `SigV4Signer` (so what is signed is exactly what curl sends). Bodies go from memory with
/// `x-amz-content-sha256` and a `Content-MD5` the store verifies, so a corrupted upload is
/// refused rather than stored.
///
/// Object keys are UTF-8 and may hold any character but controls: each byte outside
/// `A-Z a-z 0-9 - . _ ~ /` is sent once as uppercase `%XX` (AWS `UriEncode`), which is the
/// canonical URI AWS S3, MinIO, Ceph RGW, R2 and GCS compute from the decoded key.
public struct S3Client: Sendable {
    public let destination: S3Destination
    private let credentials: S3Credentials
    public var connectTimeoutMilliseconds = 10_000
    public var timeoutMilliseconds = 300_000
    /// The signing time; the wall clock unless a test fixes it.
    var epochSeconds: @Sendable () -> Int = { Int(Date().timeIntervalSince1970) }

    public init(destination: S3Destination, credentials: S3Credentials) {
        self.destination = destination
        self.credentials = credentials
    }

    /// With the destination's own access key id and this secret.
    public init(destination: S3Destination, secret: String) {
        self.init(destination: destination, credentials: S3Credentials(accessKeyID: destination.accessKeyID, secretAccessKey: secret))
    }

    /// The endpoint split into scheme, authority (`host[:port]`) and an optional base path.
    var endpointParts: (scheme: String, authority: String, basePath: String) {
        var endpoint = Substring(destination.endpoint)
        while endpoint.hasSuffix("/") { endpoint = endpoint.dropLast() }
        guard let schemeEnd = endpoint.range(of: "://") else { return ("https", String(endpoint), "") }
        let rest = endpoint[schemeEnd.upperBound...]
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        return (String(endpoint[..<schemeEnd.lowerBound]), String(rest[..<slash]), String(rest[slash...]))
    }

    /// The `Host` and encoded path of a key: path-style `host/bucket/key`, or virtual-hosted
    /// `bucket.host/key`.
    func location(for key: String) -> (host: String, path: String) {
        let (_, authority, basePath) = endpointParts
        let encodedKey = "/" + SigV4Signer.uriEncode(key, keepingSlash: true)
        if destination.pathStyle { return (authority, basePath + "/" + SigV4Signer.uriEncode(destination.bucket, keepingSlash: false) + encodedKey) }
        return ("\(destination.bucket).\(authority)", basePath + encodedKey)
    }

    /// The URL of a key (no query).
    public func url(for key: String) -> String {
        let (host, path) = location(for: key)
        return "\(endpointParts.scheme)://\(host)\(path)"
    }

    /// A request ready for curl: the URL (path and query exactly as signed) and header lines.
    struct PreparedRequest: Sendable {
        var method: String
        var url: String
        var headerLines: [String]
        var signed: SigV4Signer.Signed
    }

    /// Builds and signs a request for `key`. `Host`, `Content-MD5` (when there is a body),
    /// `x-amz-content-sha256`, `x-amz-date` and `Authorization` are added to `headers`.
    func prepare(_ method: String, key: String, query: [(name: String, value: String)] = [], headers: [(name: String, value: String)] = [],
                 body: [UInt8]) -> PreparedRequest {
        let (host, path) = location(for: key)
        let canonicalQuery = SigV4Signer.canonicalQuery(query)
        var all: [(name: String, value: String)] = [("Host", host)] + headers
        if !body.isEmpty { all.append(("Content-MD5", Data(Digest.md5(body)).base64EncodedString())) }
        // Temporary credentials (STS): the token travels in a signed header (AWS SigV4, "Add the
        // signature to the HTTP Authorization header").
        if let token = credentials.sessionToken { all.append(("X-Amz-Security-Token", token)) }
        let signer = SigV4Signer(accessKeyID: credentials.accessKeyID, secretAccessKey: credentials.secretAccessKey, region: destination.region)
        let signed = signer.sign(method: method, encodedPath: path, query: canonicalQuery, headers: all,
                                 payloadSHA256: TextFormat.hex(Digest.sha256(body)), epochSeconds: epochSeconds())
        let url = "\(endpointParts.scheme)://\(host)\(path)" + (canonicalQuery.isEmpty ? "" : "?" + canonicalQuery)
        return PreparedRequest(method: method, url: url, headerLines: signed.headers.map { "\($0.name): \($0.value)" }, signed: signed)
    }

    public func put(key: String, body: [UInt8], contentType: String = "application/json", contentEncoding: String? = nil) throws(S3Error) {
        _ = try perform(prepare("PUT", key: key, headers: Self.contentHeaders(contentType, contentEncoding), body: body), body: body)
    }

    /// Deletes an object (S3 answers 204 whether or not it existed).
    public func delete(key: String) throws(S3Error) {
        _ = try perform(prepare("DELETE", key: key, body: []), body: nil)
    }

    static func contentHeaders(_ contentType: String, _ contentEncoding: String?) -> [(name: String, value: String)] {
        [("Content-Type", contentType)] + (contentEncoding.map { [("Content-Encoding", $0)] } ?? [])
    }

    /// Uploads a file in parts (S3 multipart upload): memory holds one part at a time. Parts
    /// are at least 5 MiB (S3's minimum) except the last. A failure aborts the upload, so no
    /// orphaned parts are billed; the retry starts a new one.
    public func putMultipart(key: String, path: String, partBytes: Int, contentType: String = "application/json", contentEncoding: String? = nil) throws(S3Error) {
        guard let handle = FileHandle(forReadingAtPath: path) else { throw .network("cannot read \(path)") }
        defer { try? handle.close() }  // read-only: a close error loses nothing (ignore)
        let create = prepare("POST", key: key, query: [("uploads", "")], headers: Self.contentHeaders(contentType, contentEncoding), body: [])
        let created = String(decoding: try perform(create, body: []), as: UTF8.self)
        guard let uploadID = Self.xmlValue("UploadId", in: created).map(Self.xmlUnescape) else {
            throw .http(status: 200, code: nil, message: "no UploadId in \(created.prefix(200))")
        }
        let upload = ("uploadId", uploadID)
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
                    prepare("PUT", key: key, query: [("partNumber", String(partNumber)), upload],
                            headers: [("Content-Type", "application/octet-stream")], body: part), body: part)
                etags.append(etag)
                partNumber += 1
                if part.count < max(partBytes, 5 * 1024 * 1024) { break }
            }
            let parts = etags.enumerated().map { "<Part><PartNumber>\($0.offset + 1)</PartNumber><ETag>\($0.element)</ETag></Part>" }.joined()
            let complete = Array("<CompleteMultipartUpload>\(parts)</CompleteMultipartUpload>".utf8)
            let response = String(decoding: try perform(
                prepare("POST", key: key, query: [upload], headers: [("Content-Type", "application/xml")], body: complete), body: complete), as: UTF8.self)
            // S3 can answer 200 with an error document for CompleteMultipartUpload.
            if let code = Self.xmlValue("Code", in: response) {
                throw .http(status: 200, code: code, message: Self.xmlValue("Message", in: response) ?? "")
            }
        } catch {
            // Best effort: the upload's own error is what the caller needs; an abort that fails
            // leaves parts the store's lifecycle rule expires.
            _ = try? perform(prepare("DELETE", key: key, query: [upload], body: []), body: nil)
            throw error
        }
    }

    public func get(key: String, maxBytes: Int = 256 * 1024 * 1024) throws(S3Error) -> [UInt8] {
        try perform(prepare("GET", key: key, body: []), body: nil, maxResponseBytes: maxBytes)
    }

    private func perform(_ request: PreparedRequest, body: [UInt8]?, maxResponseBytes: Int = 1024 * 1024) throws(S3Error) -> [UInt8] {
        try performWithETag(request, body: body, maxResponseBytes: maxResponseBytes).body
    }

    /// Attempts per request for transient failures, like the AWS SDKs' standard retry mode
    /// (3 attempts; network errors, 500/502/503/504, SlowDown): a store that drops one connection
    /// or sheds load for a moment does not cost the file a whole backoff period. PUT, GET,
    /// UploadPart and Complete are idempotent, so a repeat is safe.
    public var transientAttempts = 3

    private func performWithETag(_ request: PreparedRequest, body: [UInt8]?, maxResponseBytes: Int = 1024 * 1024) throws(S3Error) -> (body: [UInt8], etag: String) {
        var attempt = 1
        while true {
            do {
                return try performOnce(request, body: body, maxResponseBytes: maxResponseBytes)
            } catch {
                guard error.isTransient, attempt < transientAttempts else { throw error }
                // Exponential backoff with full jitter, base 100 ms (AWS SDK standard mode).
                usleep(UInt32(Double.random(in: 0..<1) * Double(100_000 << (attempt - 1))))
                attempt += 1
            }
        }
    }

    private func performOnce(_ request: PreparedRequest, body: [UInt8]?, maxResponseBytes: Int) throws(S3Error) -> (body: [UInt8], etag: String) {
        var result = rs_http_result()
        let headers = request.headerLines
        // SAFETY: every pointer below (header strings, body bytes) is valid for the duration of
        // rs_curl_request, which copies or sends them before returning.
        let code = withCStringArray(headers) { headerPointers in
            if let body {
                return body.withUnsafeBufferPointer { bytes in
                    rs_curl_request(request.method, request.url, headerPointers, headers.count, bytes.baseAddress, bytes.count,
                                    connectTimeoutMilliseconds, timeoutMilliseconds, maxResponseBytes, &result)
                }
            }
            return rs_curl_request(request.method, request.url, headerPointers, headers.count, nil, 0,
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

    /// The five predefined XML entities (an UploadId may contain `&`, escaped in the XML).
    static func xmlUnescape(_ text: String) -> String {
        guard text.contains("&") else { return text }
        return text.replacingOccurrences(of: "&lt;", with: "<").replacingOccurrences(of: "&gt;", with: ">")
            .replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&apos;", with: "'")
            .replacingOccurrences(of: "&amp;", with: "&")
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

/// The keys an S3 request is signed with.
public struct S3Credentials: Sendable, Equatable {
    public var accessKeyID: String
    public var secretAccessKey: String
    /// `AWS_SESSION_TOKEN` for temporary credentials.
    public var sessionToken: String?

    public init(accessKeyID: String, secretAccessKey: String, sessionToken: String? = nil) {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.sessionToken = sessionToken
    }

    /// A destination's credentials: its `access_key_id` with `secret_access_key` or the
    /// variable `secret_access_key_env` names; or, when it names neither key nor secret, the
    /// standard AWS variables `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` and (optional)
    /// `AWS_SESSION_TOKEN`. Throws naming the field or variable that is missing.
    public static func resolve(_ s3: S3Destination, environment: [String: String]) throws(StreamDefinitionError) -> S3Credentials {
        func variable(_ name: String) -> String? { environment[name].flatMap { $0.isEmpty ? nil : $0 } }
        if s3.usesEnvironmentCredentials {
            guard let key = variable("AWS_ACCESS_KEY_ID") else {
                throw StreamDefinitionError(field: "destination.access_key_id", problem: "not given, and AWS_ACCESS_KEY_ID is not set in the environment")
            }
            guard let secret = variable("AWS_SECRET_ACCESS_KEY") else {
                throw StreamDefinitionError(field: "destination.secret_access_key", problem: "not given, and AWS_SECRET_ACCESS_KEY is not set in the environment")
            }
            return S3Credentials(accessKeyID: key, secretAccessKey: secret, sessionToken: variable("AWS_SESSION_TOKEN"))
        }
        if let secret = s3.secretAccessKey { return S3Credentials(accessKeyID: s3.accessKeyID, secretAccessKey: secret) }
        let name = s3.secretAccessKeyEnv ?? ""
        guard let secret = variable(name) else {
            throw StreamDefinitionError(field: "destination.secret_access_key_env", problem: "\(name) is not set in the environment")
        }
        return S3Credentials(accessKeyID: s3.accessKeyID, secretAccessKey: secret)
    }
}

extension S3Destination {
    /// No key and no secret given: the standard AWS environment variables are used.
    public var usesEnvironmentCredentials: Bool { accessKeyID.isEmpty && secretAccessKey == nil && secretAccessKeyEnv == nil }
}
