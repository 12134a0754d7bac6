import Foundation
@testable import RoomstreamStreams
import Testing

/// Our SigV4 signer and key encoding against botocore's (the AWS SDK for Python), on golden
/// vectors made once by `scripts/sigv4-golden.py` and committed: for a fixed key, time, region
/// and secret, the URL, canonical request, string to sign and signature must be botocore's.
struct SigV4Tests {
    struct Vector: Decodable, CustomTestStringConvertible, Sendable {
        var name, method, scheme, host, bucket, key: String
        var path_style: Bool
        var query: [[String]]
        var headers: [String: String]
        var body_hex: String
        var expected_url, expected_canonical_request, expected_string_to_sign, expected_signature, expected_authorization: String
        var expected_signed_headers: [String: String]
        var testDescription: String { name }

        var body: [UInt8] {
            var bytes: [UInt8] = []
            var index = body_hex.startIndex
            while index < body_hex.endIndex {
                let next = body_hex.index(index, offsetBy: 2)
                bytes.append(UInt8(body_hex[index..<next], radix: 16) ?? 0)
                index = next
            }
            return bytes
        }
    }

    struct Golden: Decodable {
        var access_key_id, secret_access_key, region: String
        var epoch_seconds: Int
        var cases: [Vector]
    }

    static let golden: Golden = {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/sigv4-golden.json")
        do { return try JSONDecoder().decode(Golden.self, from: Data(contentsOf: url)) } catch { fatalError("sigv4-golden.json: \(error)") }
    }()

    @Test(arguments: golden.cases)
    func matchesBotocore(_ vector: Vector) throws {
        let golden = Self.golden
        let authority = vector.path_style ? vector.host : String(vector.host.dropFirst(vector.bucket.count + 1))
        let destination = S3Destination(endpoint: "\(vector.scheme)://\(authority)", region: golden.region, bucket: vector.bucket,
                                        accessKeyID: golden.access_key_id, secretAccessKey: golden.secret_access_key, pathStyle: vector.path_style)
        var client = S3Client(destination: destination, secret: golden.secret_access_key)
        let epoch = golden.epoch_seconds
        client.epochSeconds = { epoch }
        let headers = vector.headers.sorted { $0.key < $1.key }.map { (name: $0.key, value: $0.value) }
        let request = client.prepare(vector.method, key: vector.key, query: vector.query.map { (name: $0[0], value: $0[1]) }, headers: headers, body: vector.body)
        #expect(request.url == vector.expected_url)
        #expect(request.signed.canonicalRequest == vector.expected_canonical_request)
        #expect(request.signed.stringToSign == vector.expected_string_to_sign)
        #expect(request.signed.signature == vector.expected_signature)
        #expect(request.signed.authorization == vector.expected_authorization)
        var sent: [String: String] = [:]
        for header in request.signed.headers where !["host", "authorization"].contains(header.name.lowercased()) { sent[header.name.lowercased()] = header.value }
        #expect(sent == vector.expected_signed_headers)
        #expect(request.headerLines.contains("Host: \(vector.host)"))
    }

    @Test(arguments: [
        ("dt=2022-09-04/a b.json", "dt%3D2022-09-04/a%20b.json"),
        ("a:b+c%d~e_f.g-h/ü", "a%3Ab%2Bc%25d~e_f.g-h/%C3%BC"),
        ("日本/😀", "%E6%97%A5%E6%9C%AC/%F0%9F%98%80"),
    ])
    func uriEncodeKeepsOnlyUnreservedAndSlash(_ key: String, _ expected: String) {
        #expect(SigV4Signer.uriEncode(key, keepingSlash: true) == expected)
        #expect(SigV4Signer.uriEncode("a/b", keepingSlash: false) == "a%2Fb")
    }

    @Test func amzDateFormatsUTC() {
        #expect(SigV4Signer.amzDate(epochSeconds: 1_662_296_709) == "20220904T130509Z")
        #expect(SigV4Signer.amzDate(epochSeconds: 0) == "19700101T000000Z")
    }

    @Test func canonicalQuerySortsByEncodedNameThenValue() {
        #expect(SigV4Signer.canonicalQuery([("uploadId", "a/b"), ("partNumber", "2")]) == "partNumber=2&uploadId=a%2Fb")
        #expect(SigV4Signer.canonicalQuery([("uploads", "")]) == "uploads=")
    }
}
