import Foundation

/// What a test needs from outside the process (servers `make test` starts, `../shared`), and
/// whether it runs in CI. A test that cannot have what it needs is skipped visibly with
/// `.enabled(if: TestEnvironment.runnable(...))` outside CI; in CI (`CI` set) it runs and fails
/// on what is missing, so a CI run without its servers is red.
public enum TestEnvironment {
    public static var isCI: Bool {
        guard let value = ProcessInfo.processInfo.environment["CI"] else { return false }
        return !value.isEmpty && value != "0" && value.lowercased() != "false"
    }

    public static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }

    /// For `.enabled(if:)`: the variables are set, or this is CI (where the test must run).
    public static func runnable(requiring names: String...) -> Bool {
        isCI || names.allSatisfy { value($0) != nil }
    }

    /// For `.enabled(if:)`: the path exists, or this is CI.
    public static func runnable(requiringPath path: String) -> Bool {
        isCI || FileManager.default.fileExists(atPath: path)
    }
}

/// A requirement a test could not meet (reached only in CI, or when partly configured).
public struct MissingTestRequirement: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// One S3-compatible server and addressing style `scripts/with-s3-test-server.sh` provides.
public struct S3TestTarget: Sendable, CustomStringConvertible {
    public var name: String
    public var endpoint: String
    public var region: String
    public var bucket: String
    public var accessKeyID: String
    public var secretAccessKey: String
    public var pathStyle: Bool
    /// Where `rclone serve s3` keeps objects as files (`<root>/<bucket>/<key>`); nil for moto.
    public var fileRoot: String?
    public var description: String { name }

    /// Every target, by name (test arguments are these names, resolved in the test).
    public static let names = ["moto path-style", "moto virtual-hosted", "rclone path-style", "rclone virtual-hosted"]
    static let variables = ["S3_TEST_ENDPOINT", "S3_TEST_ACCESS_KEY_ID", "S3_TEST_SECRET_ACCESS_KEY", "S3_TEST_BUCKET",
                            "S3_TEST_RCLONE_ENDPOINT", "S3_TEST_RCLONE_VHOST_ENDPOINT", "S3_TEST_RCLONE_ACCESS_KEY_ID",
                            "S3_TEST_RCLONE_SECRET_ACCESS_KEY", "S3_TEST_RCLONE_BUCKET"]

    /// For `.enabled(if:)`: both servers are there (`make test`), or this is CI.
    public static var runnable: Bool { TestEnvironment.isCI || variables.allSatisfy { TestEnvironment.value($0) != nil } }

    /// The named target; throws (failing the test) when the servers were not started.
    public static func require(_ name: String) throws -> S3TestTarget {
        func get(_ variable: String) throws -> String {
            guard let value = TestEnvironment.value(variable) else {
                throw MissingTestRequirement("\(variable) is not set: run the S3 tests through `make test` (scripts/with-s3-test-server.sh)")
            }
            return value
        }
        switch name {
        case "moto path-style", "moto virtual-hosted":
            var endpoint = try get("S3_TEST_ENDPOINT")
            let pathStyle = name == "moto path-style"
            // Virtual-hosted: bucket.localhost:PORT (curl resolves *.localhost to loopback).
            if !pathStyle { endpoint = endpoint.replacingOccurrences(of: "127.0.0.1", with: "localhost") }
            return S3TestTarget(name: name, endpoint: endpoint, region: TestEnvironment.value("S3_TEST_REGION") ?? "us-east-1",
                                bucket: try get("S3_TEST_BUCKET"), accessKeyID: try get("S3_TEST_ACCESS_KEY_ID"),
                                secretAccessKey: try get("S3_TEST_SECRET_ACCESS_KEY"), pathStyle: pathStyle, fileRoot: nil)
        case "rclone path-style", "rclone virtual-hosted":
            let pathStyle = name == "rclone path-style"
            return S3TestTarget(name: name, endpoint: try get(pathStyle ? "S3_TEST_RCLONE_ENDPOINT" : "S3_TEST_RCLONE_VHOST_ENDPOINT"),
                                region: "us-east-1", bucket: try get("S3_TEST_RCLONE_BUCKET"),
                                accessKeyID: try get("S3_TEST_RCLONE_ACCESS_KEY_ID"), secretAccessKey: try get("S3_TEST_RCLONE_SECRET_ACCESS_KEY"),
                                pathStyle: pathStyle, fileRoot: TestEnvironment.value("S3_TEST_RCLONE_ROOT"))
        default:
            throw MissingTestRequirement("no S3 test target \(name)")
        }
    }
}

/// `../shared` beside the checkout (real browser captures and specs), read-only.
public enum SharedData {
    public static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().deletingLastPathComponent().appendingPathComponent("shared")
    public static let captures = directory.appendingPathComponent("captures")

    /// For `.enabled(if:)`: `../shared/captures` is there, or this is CI (where it must be).
    public static var runnable: Bool { TestEnvironment.runnable(requiringPath: captures.path) }
}

/// Whether this process runs under AddressSanitizer or ThreadSanitizer (their runtimes define
/// these symbols; `nil` is glibc's RTLD_DEFAULT, the global scope).
public enum Sanitizer {
    public static let isActive: Bool = ["__asan_init", "__tsan_init"].contains { (name: String) in dlsym(nil, name) != nil }
}
