import Foundation
import RoomstreamStreams
import Testing
import TestSupport

extension S3TestTarget {
    func destination(prefix: String = "") -> S3Destination {
        S3Destination(endpoint: endpoint, region: region, bucket: bucket, prefix: prefix, accessKeyID: accessKeyID,
                      secretAccessKey: secretAccessKey, pathStyle: pathStyle)
    }

    var client: S3Client { S3Client(destination: destination(), secret: secretAccessKey) }
}

/// The S3 client against two independent servers `make test` starts (moto with SigV4 checking,
/// and `rclone serve s3`, whose check follows MinIO's), each path-style and virtual-hosted:
/// keys with the characters real key templates and prefixes produce, single and multipart
/// uploads, and a wrong secret. `rclone` stores objects as files named by the decoded key, so
/// there the test also checks what the server understood the key to be.
/// Serialized: four servers × many cases of blocking uploads at once would saturate the two
/// cores (moto hashes every byte in Python) and starve the timing-sensitive socket tests.
@Suite(.enabled(if: S3TestTarget.runnable, "needs the S3 servers of `make test`"), .serialized)
struct S3ClientTests {
    static let keys = [
        "dt=2022-09-04/hourly_20220904T0000Z_20220904T0100Z.json",  // Hive-style partitions
        "a:b/c+d.json",
        "with space/x y.json",
        "percent%25/100%.json",
        "unicode/réunion-日本-😀.json",
        "all/k=v:+ %~_.-é/x.json.gz",
    ]

    static func unique(_ key: String) -> String { "tests/\(UUID().uuidString)/\(key)" }

    /// What the server stored under `key`, independently of our client where possible.
    static func checkStored(_ target: S3TestTarget, key: String, body: [UInt8]) throws {
        #expect(try target.client.get(key: key) == body, "\(target) \(key)")
        if let root = target.fileRoot {
            let stored = FileManager.default.contents(atPath: "\(root)/\(target.bucket)/\(key)")
            #expect(stored.map(Array.init) == body, "rclone stored no file named by the decoded key \(key)")
        }
    }

    @Test(arguments: S3TestTarget.names, keys)
    func putThenGetRoundTrips(_ name: String, _ key: String) throws {
        let target = try S3TestTarget.require(name)
        let body = Array("[{\"room_id\":\"\(key)\"}]".utf8)
        let unique = Self.unique(key)
        try target.client.put(key: unique, body: body)
        try Self.checkStored(target, key: unique, body: body)
        try target.client.put(key: unique, body: Array("[]".utf8))  // same key: overwritten
        try Self.checkStored(target, key: unique, body: Array("[]".utf8))
    }

    @Test(arguments: S3TestTarget.names)
    func largeBodyIsSignedCorrectly(_ name: String) throws {
        let target = try S3TestTarget.require(name)
        let body = [UInt8](repeating: 0x61, count: 1024 * 1024 + 1)  // above curl's Expect: 100-continue threshold (1 MiB)
        let key = Self.unique("dt=2022-09-04/large.json")
        try target.client.put(key: key, body: body, contentEncoding: "gzip")
        #expect(try target.client.get(key: key).count == body.count)
    }

    @Test(arguments: S3TestTarget.names)
    func multipartUploadReassemblesTheFile(_ name: String) throws {
        let target = try S3TestTarget.require(name)
        let path = NSTemporaryDirectory() + "multipart-\(UUID().uuidString).json"
        defer { unlink(path) }
        var bytes = [UInt8]()
        // Two parts: S3's 5 MiB minimum, then a short last one.
        for index in 0..<(5 * 1024 * 1024 + 123) { bytes.append(UInt8(truncatingIfNeeded: index &* 31)) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let key = Self.unique("dt=2022-09-04/a:b+c d%/日本-multipart.json")
        try target.client.putMultipart(key: key, path: path, partBytes: 5 * 1024 * 1024)
        try Self.checkStored(target, key: key, body: bytes)
    }

    @Test(arguments: S3TestTarget.names)
    func wrongSecretIsRejectedByTheStore(_ name: String) throws {
        let target = try S3TestTarget.require(name)
        let client = S3Client(destination: target.destination(), secret: "not-the-secret")
        #expect {
            try client.put(key: Self.unique("dt=2022-09-04/denied.json"), body: Array("[]".utf8))
        } throws: { error in
            guard let error = error as? S3Error, case .http(let status, let code, _) = error else { return false }
            return status == 403 && code == "SignatureDoesNotMatch" && error.isConfigurationError
        }
    }

    @Test(arguments: S3TestTarget.names)
    func multipartWithAWrongSecretFailsCleanly(_ name: String) throws {
        let target = try S3TestTarget.require(name)
        let path = NSTemporaryDirectory() + "multipart-\(UUID().uuidString).json"
        defer { unlink(path) }
        try Data("[]".utf8).write(to: URL(fileURLWithPath: path))
        #expect {
            try S3Client(destination: target.destination(), secret: "nope").putMultipart(key: Self.unique("m=1.json"), path: path, partBytes: 5 << 20)
        } throws: {
            ($0 as? S3Error)?.isConfigurationError == true
        }
    }

    @Test(arguments: S3TestTarget.names)
    func missingBucketIsAConfigurationError(_ name: String) throws {
        var destination = try S3TestTarget.require(name).destination()
        destination.bucket = "no-such-bucket"
        let secret = try S3TestTarget.require(name).secretAccessKey
        #expect { try S3Client(destination: destination, secret: secret).put(key: "k", body: [1]) } throws: { error in
            (error as? S3Error)?.isConfigurationError == true
        }
    }

    /// boto3 (botocore's own key encoding and signing) reads what we wrote, key by key.
    @Test func boto3ReadsTheObjectsBack() throws {
        let target = try S3TestTarget.require("moto path-style")
        var written: [String: String] = [:]
        for key in Self.keys {
            let unique = Self.unique(key)
            try target.client.put(key: unique, body: Array(key.utf8))
            written[unique] = key
        }
        let script = """
        import boto3, json, sys
        s3 = boto3.client('s3', endpoint_url=sys.argv[1], region_name='us-east-1', aws_access_key_id=sys.argv[2], aws_secret_access_key=sys.argv[3])
        keys = json.loads(sys.stdin.read())
        print(json.dumps({k: s3.get_object(Bucket=sys.argv[4], Key=k)['Body'].read().decode() for k in keys}))
        """
        let input = NSTemporaryDirectory() + "keys-\(UUID().uuidString).json"
        defer { unlink(input) }
        try JSONSerialization.data(withJSONObject: Array(written.keys)).write(to: URL(fileURLWithPath: input))
        let child = try ChildProcess("/bin/sh", ["-c", "python3 -c \"$0\" \"$@\" < \"\(input)\"", script,
                                                  target.endpoint, target.accessKeyID, target.secretAccessKey, target.bucket])
        #expect(child.wait() == 0, "\(child.stderr)")
        let read = try JSONSerialization.jsonObject(with: Data(child.stdout.utf8)) as? [String: String]
        #expect(read == written)
    }
}

/// Without a server: addressing and network errors.
struct S3ClientOfflineTests {
    @Test(arguments: [
        (true, "https://s3.example.com", "dt=2022-09-04/a b.json", "https://s3.example.com/bucket/dt%3D2022-09-04/a%20b.json"),
        (false, "https://s3.example.com", "k/x.json", "https://bucket.s3.example.com/k/x.json"),
        (true, "http://127.0.0.1:9000/", "k", "http://127.0.0.1:9000/bucket/k"),
        (false, "http://localhost:9000", "a+b:c/é", "http://bucket.localhost:9000/a%2Bb%3Ac/%C3%A9"),
        (true, "https://gateway.example.com/s3/", "k", "https://gateway.example.com/s3/bucket/k"),
    ])
    func urls(_ pathStyle: Bool, _ endpoint: String, _ key: String, _ expected: String) {
        let destination = S3Destination(endpoint: endpoint, region: "r", bucket: "bucket", accessKeyID: "a", secretAccessKey: "s", pathStyle: pathStyle)
        #expect(S3Client(destination: destination, secret: "s").url(for: key) == expected)
    }

    @Test func unreachableStoreIsANetworkError() {
        let destination = S3Destination(endpoint: "http://127.0.0.1:9", region: "us-east-1", bucket: "bucket", accessKeyID: "a", secretAccessKey: "s", pathStyle: true)
        var client = S3Client(destination: destination, secret: "s")
        client.connectTimeoutMilliseconds = 1000
        #expect { try client.put(key: "k", body: [1]) } throws: { error in
            guard case .network = error as? S3Error else { return false }
            return (error as? S3Error)?.isConfigurationError == false
        }
    }
}
