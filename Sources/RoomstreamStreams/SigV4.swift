import RoomstreamBasics

/// AWS Signature Version 4 for S3, computed here rather than by curl so that what is signed is
/// byte for byte what is sent (AWS S3 API Reference, "Signature Calculations for the
/// Authorization Header: Transferring Payload in a Single Chunk"). curl 7.88's
/// `CURLOPT_AWS_SIGV4` signs the request path verbatim, while AWS S3, MinIO and Ceph RGW
/// canonicalize `UriEncode(decoded path)`; a raw `=` in a key then fails with
/// `SignatureDoesNotMatch`. Hashes and HMACs come from OpenSSL (`Digest`). Checked against botocore's signer (golden vectors in
/// `Tests/RoomstreamStreamsTests/Fixtures/sigv4-golden.json`, made by `scripts/sigv4-golden.py`).
public struct SigV4Signer: Sendable {
    public var accessKeyID: String
    public var secretAccessKey: String
    public var region: String
    public var service: String

    public init(accessKeyID: String, secretAccessKey: String, region: String, service: String = "s3") {
        self.accessKeyID = accessKeyID
        self.secretAccessKey = secretAccessKey
        self.region = region
        self.service = service
    }

    /// AWS `UriEncode`: `A-Z a-z 0-9 - . _ ~` stay, every other byte of the UTF-8 form becomes
    /// uppercase `%XX`; `/` stays only when `keepingSlash` (object key paths, not query values).
    public static func uriEncode(_ text: String, keepingSlash: Bool) -> String {
        TextFormat.percentEncode(text, keeping: keepingSlash ? "/" : "")
    }

    /// The canonical query string: names and values UriEncoded, sorted by name then value,
    /// `name=value` joined by `&` (a parameter without a value is `name=`). The request URL
    /// carries exactly this string, so nothing is encoded twice or differently.
    public static func canonicalQuery(_ parameters: [(name: String, value: String)]) -> String {
        parameters.map { (uriEncode($0.name, keepingSlash: false), uriEncode($0.value, keepingSlash: false)) }
            .sorted { $0.0 == $1.0 ? $0.1 < $1.1 : $0.0 < $1.0 }
            .map { "\($0.0)=\($0.1)" }.joined(separator: "&")
    }

    /// `20220904T130509Z` for an epoch second.
    public static func amzDate(epochSeconds: Int) -> String {
        let (days, second) = CivilDate.split(epochSeconds: epochSeconds)
        let date = CivilDate.from(daysSinceEpoch: days)
        return TextFormat.padded(date.year, width: 4) + TextFormat.padded(date.month, width: 2) + TextFormat.padded(date.day, width: 2)
            + "T" + TextFormat.padded(second / 3600, width: 2) + TextFormat.padded(second / 60 % 60, width: 2)
            + TextFormat.padded(second % 60, width: 2) + "Z"
    }

    /// What signing produced: the headers to send (with `Authorization`) and the intermediate
    /// strings, which tests compare with botocore's.
    public struct Signed: Sendable {
        /// Every header to send, `Authorization` last; names as given.
        public var headers: [(name: String, value: String)]
        public var canonicalRequest: String
        public var stringToSign: String
        public var signature: String
        public var authorization: String
    }

    /// Signs a request. `encodedPath` is the path exactly as sent (already UriEncoded),
    /// `query` the canonical query as sent; `headers` must include `Host` and every header to
    /// be signed; `x-amz-date` and `x-amz-content-sha256` are added here. All given headers
    /// are signed: nothing a proxy may add is among them.
    public func sign(method: String, encodedPath: String, query: String, headers: [(name: String, value: String)],
                     payloadSHA256: String, epochSeconds: Int) -> Signed {
        let amzDate = Self.amzDate(epochSeconds: epochSeconds)
        let day = String(amzDate.prefix(8))
        var all = headers
        all.append(("x-amz-content-sha256", payloadSHA256))
        all.append(("x-amz-date", amzDate))
        // Canonical headers: lowercase names, values trimmed with inner runs of spaces collapsed,
        // sorted by name.
        let canonical = all.map { (name: $0.name.lowercased(), value: Self.trimmed($0.value)) }.sorted { $0.name < $1.name }
        let signedHeaders = canonical.map(\.name).joined(separator: ";")
        let canonicalRequest = [
            method, encodedPath.isEmpty ? "/" : encodedPath, query,
            canonical.map { "\($0.name):\($0.value)\n" }.joined(), signedHeaders, payloadSHA256,
        ].joined(separator: "\n")
        let scope = "\(day)/\(region)/\(service)/aws4_request"
        let stringToSign = ["AWS4-HMAC-SHA256", amzDate, scope, TextFormat.hex(Digest.sha256(Array(canonicalRequest.utf8)))].joined(separator: "\n")
        // The signing key: HMAC chain over date, region, service and "aws4_request".
        var key = Array("AWS4\(secretAccessKey)".utf8)
        for part in [day, region, service, "aws4_request"] { key = Digest.hmacSHA256(key: key, Array(part.utf8)) }
        let signature = TextFormat.hex(Digest.hmacSHA256(key: key, Array(stringToSign.utf8)))
        let authorization = "AWS4-HMAC-SHA256 Credential=\(accessKeyID)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        all.append(("Authorization", authorization))
        return Signed(headers: all, canonicalRequest: canonicalRequest, stringToSign: stringToSign, signature: signature, authorization: authorization)
    }

    static func trimmed(_ value: String) -> String {
        value.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ")
    }
}
