import Foundation
import RoomstreamStreams
import Testing

/// The S3 client against moto's server (started by `make test`, SigV4 checking on).
struct S3ClientTests {
    /// The moto server `make test` starts; nil when the tests run without it (plain `swift test`).
    static var moto: (destination: S3Destination, secret: String)? {
        let environment = ProcessInfo.processInfo.environment
        guard let endpoint = environment["S3_TEST_ENDPOINT"], let key = environment["S3_TEST_ACCESS_KEY_ID"],
              let secret = environment["S3_TEST_SECRET_ACCESS_KEY"], let bucket = environment["S3_TEST_BUCKET"] else { return nil }
        let destination = S3Destination(endpoint: endpoint, region: environment["S3_TEST_REGION"] ?? "us-east-1", bucket: bucket,
                                        prefix: "tests/", accessKeyID: key, secretAccessKey: secret, pathStyle: true)
        return (destination, secret)
    }

    @Test(arguments: [
        (true, "https://s3.example.com", "dt=2022-09-04/a b.json", "https://s3.example.com/bucket/dt=2022-09-04/a%20b.json"),
        (false, "https://s3.example.com", "k/x.json", "https://bucket.s3.example.com/k/x.json"),
        (true, "http://127.0.0.1:9000/", "k", "http://127.0.0.1:9000/bucket/k"),
    ])
    func urls(_ pathStyle: Bool, _ endpoint: String, _ key: String, _ expected: String) {
        let destination = S3Destination(endpoint: endpoint, region: "r", bucket: "bucket", accessKeyID: "a", secretAccessKey: "s", pathStyle: pathStyle)
        #expect(S3Client(destination: destination, secret: "s").url(for: key) == expected)
    }

    @Test func putThenGetRoundTrips() throws {
        guard let moto = Self.moto else { return }
        let client = S3Client(destination: moto.destination, secret: moto.secret)
        let body = Array("[{\"room_id\":\"r\"}]".utf8)
        try client.put(key: "tests/roundtrip.json", body: body)
        #expect(try client.get(key: "tests/roundtrip.json") == body)
        try client.put(key: "tests/dt=2022-09-04/hourly_20220904T0000Z.json", body: body)  // Hive-style '='
        #expect(try client.get(key: "tests/dt=2022-09-04/hourly_20220904T0000Z.json") == body)
        try client.put(key: "tests/roundtrip.json", body: Array("[]".utf8))  // same key: overwritten
        #expect(try client.get(key: "tests/roundtrip.json") == Array("[]".utf8))
    }

    @Test func largeBodyIsSignedCorrectly() throws {
        guard let moto = Self.moto else { return }
        let client = S3Client(destination: moto.destination, secret: moto.secret)
        let body = [UInt8](repeating: 0x61, count: 3 * 1024 * 1024)  // above curl's Expect: 100-continue threshold
        try client.put(key: "tests/large.json", body: body)
        #expect(try client.get(key: "tests/large.json").count == body.count)
    }

    @Test func wrongSecretIsRejectedByTheStore() throws {
        guard let moto = Self.moto else { return }
        let client = S3Client(destination: moto.destination, secret: "not-the-secret")
        #expect {
            try client.put(key: "tests/denied.json", body: Array("[]".utf8))
        } throws: { error in
            guard let error = error as? S3Error, case .http(let status, let code, _) = error else { return false }
            return status == 403 && code == "SignatureDoesNotMatch" && error.isConfigurationError
        }
    }

    @Test func missingBucketIsAConfigurationError() throws {
        guard let moto = Self.moto else { return }
        var destination = moto.destination
        destination.bucket = "no-such-bucket"
        #expect { try S3Client(destination: destination, secret: moto.secret).put(key: "k", body: [1]) } throws: { error in
            (error as? S3Error)?.isConfigurationError == true
        }
    }

    @Test func unreachableStoreIsANetworkError() {
        var destination = S3Destination(endpoint: "http://127.0.0.1:9", region: "us-east-1", bucket: "bucket", accessKeyID: "a", secretAccessKey: "s", pathStyle: true)
        destination.prefix = ""
        var client = S3Client(destination: destination, secret: "s")
        client.connectTimeoutMilliseconds = 1000
        #expect { try client.put(key: "k", body: [1]) } throws: { error in
            guard case .network = error as? S3Error else { return false }
            return (error as? S3Error)?.isConfigurationError == false
        }
    }
}

struct S3MultipartTests {
    @Test func multipartUploadReassemblesTheFile() throws {
        guard let moto = S3ClientTests.moto else { return }
        let path = NSTemporaryDirectory() + "multipart-\(UUID().uuidString).json"
        var bytes = [UInt8]()
        for index in 0..<(12 * 1024 * 1024 + 123) { bytes.append(UInt8(truncatingIfNeeded: index &* 31)) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let client = S3Client(destination: moto.destination, secret: moto.secret)
        try client.putMultipart(key: "tests/dt=2022-09-04/multipart.json", path: path, partBytes: 5 * 1024 * 1024)
        #expect(try client.get(key: "tests/dt=2022-09-04/multipart.json") == bytes)
    }

    @Test func multipartWithAWrongSecretFailsCleanly() throws {
        guard let moto = S3ClientTests.moto else { return }
        let path = NSTemporaryDirectory() + "multipart-\(UUID().uuidString).json"
        try Data("[]".utf8).write(to: URL(fileURLWithPath: path))
        #expect { try S3Client(destination: moto.destination, secret: "nope").putMultipart(key: "tests/m.json", path: path, partBytes: 5 << 20) } throws: {
            ($0 as? S3Error)?.isConfigurationError == true
        }
    }
}
