#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Tries a destination the way a delivery will use it, so a wrong bucket, key, secret or
/// directory shows when the stream is made (or at `check-config`), not when the first window
/// is sealed an hour later.
///
/// - directory: created if missing; a small file is written durably under it and removed.
/// - S3: the credentials are resolved (the secret's variable must be set), then a small object
///   `<prefix>.roomstream-check` is PUT (proving endpoint, signature, bucket and write
///   permission, which is what delivery needs; a HEAD on the bucket would need ListBucket,
///   which a write-only key lacks) and DELETEd (a key without DeleteObject leaves that one
///   small object behind; the check still passes).
public enum DestinationCheck {
    public struct Failure: Error, Equatable, Sendable, CustomStringConvertible {
        public enum Kind: Sendable, Equatable {
            /// The definition cannot work as written (a secret variable unset): 400.
            case definition
            /// The destination refused or could not be reached: 424.
            case destination
        }
        public var kind: Kind
        public var field: String
        public var problem: String
        public var description: String { "\(field): \(problem)" }
    }

    public static let probeName = ".roomstream-check"

    public static func run(_ destination: StreamDestination, directories: DirectoryConfinement,
                           environment: [String: String] = ProcessInfo.processInfo.environment,
                           connectTimeoutMilliseconds: Int = 5_000, timeoutMilliseconds: Int = 15_000) -> Failure? {
        switch destination {
        case .directory(let path):
            let root = directories.resolve(path)
            do {
                try DurableFile.makeDirectories(root)
                let probe = "\(root)/\(probeName)-\(UUID().uuidString)"
                let file = try DurableFile(path: probe)
                try file.write(Data("roomstream destination check\n".utf8))
                try file.commit()
                unlink(probe)
            } catch {
                return Failure(kind: .destination, field: "destination.path", problem: "'\(root)' is not writable: \(error)")
            }
            return nil
        case .s3(let s3):
            let credentials: S3Credentials
            do { credentials = try S3Credentials.resolve(s3, environment: environment) } catch {
                return Failure(kind: .definition, field: error.field, problem: error.problem)
            }
            var client = S3Client(destination: s3, credentials: credentials)
            client.connectTimeoutMilliseconds = connectTimeoutMilliseconds
            client.timeoutMilliseconds = timeoutMilliseconds
            let key = s3.prefix + probeName
            do {
                try client.put(key: key, body: Array("roomstream destination check\n".utf8), contentType: "text/plain")
            } catch {
                return Failure(kind: .destination, field: "destination", problem: "a test object could not be written to \(client.url(for: key)): \(error)")
            }
            try? client.delete(key: key)  // see above: a refused delete is not a failure
            return nil
        }
    }
}
