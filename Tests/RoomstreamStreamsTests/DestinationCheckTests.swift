import Foundation
@testable import RoomstreamStreams
import Testing
import TestSupport

/// Trying a destination before a stream is accepted: against both real S3 servers of
/// `make test` (moto and rclone), with right and wrong credentials, buckets and endpoints,
/// and credentials from the standard AWS variables.
struct DestinationCheckTests {
    static let directories = DirectoryConfinement(dataDirectory: NSTemporaryDirectory(), apiRoot: nil)

    static func destination(_ target: S3TestTarget, prefix: String = "check/", change: (inout S3Destination) -> Void = { _ in }) -> StreamDestination {
        var s3 = S3Destination(endpoint: target.endpoint, region: target.region, bucket: target.bucket, prefix: prefix,
                               accessKeyID: target.accessKeyID, secretAccessKey: target.secretAccessKey, pathStyle: target.pathStyle)
        change(&s3)
        return .s3(s3)
    }

    @Test(.enabled(if: S3TestTarget.runnable, "needs the S3 servers of `make test`"), arguments: S3TestTarget.names)
    func rightCredentialsPassAndLeaveNothingBehind(_ name: String) throws {
        let target = try S3TestTarget.require(name)
        let prefix = "check-\(UUID().uuidString.lowercased())/"
        #expect(DestinationCheck.run(Self.destination(target, prefix: prefix), directories: Self.directories) == nil)
        if let root = target.fileRoot {
            // rclone keeps objects as files: the probe was deleted.
            #expect(!FileManager.default.fileExists(atPath: "\(root)/\(target.bucket)/\(prefix)\(DestinationCheck.probeName)"))
        }
    }

    @Test(.enabled(if: S3TestTarget.runnable, "needs the S3 servers of `make test`"), arguments: S3TestTarget.names)
    func wrongSecretBucketOrEndpointFailWithTheStoresError(_ name: String) throws {
        let target = try S3TestTarget.require(name)
        let secret = try #require(DestinationCheck.run(Self.destination(target) { $0.secretAccessKey = "wrong-secret-0000" }, directories: Self.directories))
        #expect(secret.kind == .destination)
        #expect(secret.problem.contains("403"), "\(secret)")
        let bucket = try #require(DestinationCheck.run(Self.destination(target) { $0.bucket = "no-such-bucket-\(UUID().uuidString.prefix(8).lowercased())" },
                                                       directories: Self.directories))
        #expect(bucket.problem.contains("404") || bucket.problem.contains("NoSuchBucket") || bucket.problem.contains("network"), "\(bucket)")
        let closed = try #require(DestinationCheck.run(Self.destination(target) { $0.endpoint = "http://127.0.0.1:9" }, directories: Self.directories,
                                                       connectTimeoutMilliseconds: 1000, timeoutMilliseconds: 2000))
        #expect(closed.problem.contains("network"), "\(closed)")
    }

    @Test(.enabled(if: S3TestTarget.runnable, "needs the S3 servers of `make test`"))
    func credentialsFromTheStandardAWSVariables() throws {
        let target = try S3TestTarget.require("rclone path-style")
        let destination = Self.destination(target) { $0.accessKeyID = ""; $0.secretAccessKey = nil }
        let environment = ["AWS_ACCESS_KEY_ID": target.accessKeyID, "AWS_SECRET_ACCESS_KEY": target.secretAccessKey]
        #expect(DestinationCheck.run(destination, directories: Self.directories, environment: environment) == nil)
        let missing = try #require(DestinationCheck.run(destination, directories: Self.directories, environment: ["AWS_ACCESS_KEY_ID": "x"]))
        #expect(missing == DestinationCheck.Failure(kind: .definition, field: "destination.secret_access_key",
                                                    problem: "not given, and AWS_SECRET_ACCESS_KEY is not set in the environment"))
    }

    @Test(arguments: [
        // (access key, secret, secret variable, environment, expected credentials or the error)
        ("AK", "S", nil, [:], "AK/S/-"),
        ("AK", nil, "MY_SECRET", ["MY_SECRET": "s2"], "AK/s2/-"),
        ("AK", nil, "MY_SECRET", [:], "destination.secret_access_key_env: MY_SECRET is not set in the environment"),
        ("AK", nil, "MY_SECRET", ["MY_SECRET": ""], "destination.secret_access_key_env: MY_SECRET is not set in the environment"),
        ("", nil, nil, ["AWS_ACCESS_KEY_ID": "k", "AWS_SECRET_ACCESS_KEY": "s", "AWS_SESSION_TOKEN": "t"], "k/s/t"),
        ("", nil, nil, [:], "destination.access_key_id: not given, and AWS_ACCESS_KEY_ID is not set in the environment"),
    ] as [(String, String?, String?, [String: String], String)])
    func credentialResolution(key: String, secret: String?, variable: String?, environment: [String: String], expected: String) {
        let s3 = S3Destination(endpoint: "https://s3.example", region: "r", bucket: "bkt", accessKeyID: key, secretAccessKey: secret, secretAccessKeyEnv: variable)
        let got: String
        do {
            let credentials = try S3Credentials.resolve(s3, environment: environment)
            got = "\(credentials.accessKeyID)/\(credentials.secretAccessKey)/\(credentials.sessionToken ?? "-")"
        } catch {
            got = error.description
        }
        #expect(got == expected)
    }

    @Test func aSessionTokenIsSentAndSigned() {
        let s3 = S3Destination(endpoint: "https://s3.example", region: "us-east-1", bucket: "bkt", accessKeyID: "")
        let client = S3Client(destination: s3, credentials: S3Credentials(accessKeyID: "ASIA1", secretAccessKey: "s", sessionToken: "token/+="))
        let request = client.prepare("PUT", key: "k", body: [1])
        #expect(request.headerLines.contains("X-Amz-Security-Token: token/+="))
        #expect(request.signed.authorization.contains("x-amz-security-token"))
        #expect(request.headerLines.contains { $0.hasPrefix("Authorization: AWS4-HMAC-SHA256 Credential=ASIA1/") })
    }

    @Test func aDirectoryMustBeWritable() throws {
        let base = NSTemporaryDirectory() + "roomstream-check-\(UUID().uuidString)"
        #expect(DestinationCheck.run(.directory(path: base + "/new/deep"), directories: Self.directories) == nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: base + "/new/deep").isEmpty)  // the probe is gone
        #expect(FileManager.default.createFile(atPath: base + "/file", contents: Data()))
        let failure = try #require(DestinationCheck.run(.directory(path: base + "/file/below"), directories: Self.directories))
        #expect(failure.kind == .destination)
        #expect(failure.field == "destination.path")
    }
}
