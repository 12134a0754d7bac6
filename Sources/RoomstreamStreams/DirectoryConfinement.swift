#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// Where directory destinations write. Relative paths resolve under the data directory (not
/// the working directory), for streams from the config file and the admin API alike. Streams
/// from the config file may name any path (the operator wrote it); streams created or changed
/// through the admin API — whose token may be held by a dashboard or a script — must stay
/// under a configured root (default `<data dir>/files`), so the API can never write
/// `/etc/cron.d` or any other place the process can reach.
public struct DirectoryConfinement: Sendable, Equatable {
    /// Absolute data directory.
    public let dataDirectory: String
    /// Absolute root for API-made directory destinations.
    public let apiRoot: String

    /// `dataDirectory` may be relative (to the working directory at start); `apiRoot` nil means
    /// `<data dir>/files`, and a relative one resolves under the data directory.
    public init(dataDirectory: String, apiRoot: String? = nil) {
        let data = Self.absolute(dataDirectory, under: FileManager.default.currentDirectoryPath)
        self.dataDirectory = data
        self.apiRoot = Self.absolute(apiRoot ?? "files", under: data)
    }

    static func absolute(_ path: String, under base: String) -> String {
        var result = path.hasPrefix("/") ? path : (base.hasSuffix("/") ? base : base + "/") + path
        while result.count > 1 && result.hasSuffix("/") { result.removeLast() }
        return result
    }

    /// The directory a destination path names.
    public func resolve(_ path: String) -> String { Self.absolute(path, under: dataDirectory) }

    /// Checks a path given through the admin API: no `.`/`..` segments, and under the root
    /// both as written and after resolving symbolic links of the part that exists.
    public func checkAPIPath(_ path: String) throws(StreamDefinitionError) {
        let resolved = resolve(path)
        let segments = resolved.split(separator: "/", omittingEmptySubsequences: true)
        guard !segments.contains(where: { $0 == "." || $0 == ".." }) else {
            throw StreamDefinitionError(field: "destination.path", problem: "must not contain '.' or '..' segments")
        }
        guard Self.isWithin(resolved, apiRoot) else {
            throw StreamDefinitionError(field: "destination.path", problem: "must lie under \(apiRoot) for streams made through the admin API (relative paths resolve under the data directory \(dataDirectory); set delivery.api_directory_root, or configure the stream in the config file)")
        }
        // A symbolic link inside the root must not lead out of it. A root that cannot be created
        // or resolved cannot hold the stream's files either: refuse rather than skip the check.
        do { try DurableFile.makeDirectories(apiRoot) } catch {
            throw StreamDefinitionError(field: "destination.path", problem: "the API directory root \(apiRoot) cannot be created: \(error)")
        }
        guard let realRoot = Self.realPath(apiRoot) else {
            throw StreamDefinitionError(field: "destination.path", problem: "the API directory root \(apiRoot) cannot be resolved (errno \(errno))")
        }
        var existing = resolved
        while Self.realPath(existing) == nil, let slash = existing.lastIndex(of: "/"), slash > existing.startIndex {
            existing = String(existing[..<slash])
        }
        if let real = Self.realPath(existing), !Self.isWithin(real, realRoot) {
            throw StreamDefinitionError(field: "destination.path", problem: "leads out of \(apiRoot) through a symbolic link (to \(real))")
        }
    }

    static func isWithin(_ path: String, _ root: String) -> Bool {
        path == root || path.hasPrefix(root == "/" ? "/" : root + "/")
    }

    static func realPath(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
