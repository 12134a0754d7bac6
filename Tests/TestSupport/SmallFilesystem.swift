#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RoomstreamBasics

/// A small filesystem the test mounts itself (tmpfs; root only), for ENOSPC.
public final class SmallFilesystem {
    public let path: String

    /// Whether this process may mount (root, and not forbidden by the container).
    public static let mountable: Bool = {
        guard let probe = try? SmallFilesystem(kilobytes: 64) else { return false }
        _ = probe
        return true
    }()

    public init(kilobytes: Int) throws {
        path = NSTemporaryDirectory() + "roomstream-small-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
        guard mount("tmpfs", path, "tmpfs", 0, "size=\(kilobytes)k") == 0 else {
            throw MissingTestRequirement("mount tmpfs: errno \(errno)")
        }
    }

    /// Fills the filesystem; returns the filler's path (delete it to free the space).
    public func fill() -> String {
        let filler = path + "/filler"
        let fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        let chunk = [UInt8](repeating: 0x61, count: 4096)
        while chunk.withUnsafeBytes({ write(fd, $0.baseAddress, $0.count) }) > 0 {}
        closeDescriptor(fd)
        return filler
    }

    deinit { umount2(path, Int32(MNT_DETACH)) }
}

