#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// The embedded object store: a local directory, keys as relative paths. Delivery copies the
/// spool file under its key durably (temporary file, fsync, rename), so a retry overwrites
/// and never duplicates.
public struct DirectoryStore: Sendable {
    public let root: String

    public init(root: String) { self.root = root }

    public func path(for key: String) -> String { "\(root)/\(key)" }

    public func put(key: String, from sourcePath: String) throws(StreamError) {
        let destination = path(for: key)
        let directory = destination.split(separator: "/", omittingEmptySubsequences: false).dropLast().joined(separator: "/")
        try DurableFile.makeDirectories(directory.isEmpty ? "." : directory)
        guard let data = FileManager.default.contents(atPath: sourcePath) else {
            throw .io(operation: "read", path: sourcePath, errno: errno == 0 ? ENOENT : errno)
        }
        let file = try DurableFile(path: destination)
        try file.write(data)
        try file.commit()
    }
}
