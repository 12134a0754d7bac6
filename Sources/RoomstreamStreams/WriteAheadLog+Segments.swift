#if canImport(Glibc)
import Glibc
#endif
import CDirectIO
import Foundation
import RoomstreamBasics

/// Segment files: opening and rolling them, laying zeros down ahead of the records, and the
/// direct synchronous writes under `fsync` (decision #61). Each works on the writer's state
/// (`Writer`), which only the writer queue touches once the log is open.
extension WriteAheadLog {
    /// Starts the next segment once the current one has passed `segmentBytes`.
    func rollIfFull(after through: UInt64, _ writer: inout Writer) {
        guard writer.currentBytes >= configuration.segmentBytes else { return }
        // The group is written; a failure to start the next segment fails the next group.
        do { try openSegment(first: through + 1, writer: &writer) } catch {
            closeDescriptor(writer.fd)
            writer.fd = -1
        }
    }

    /// One direct synchronous write of a group: from the aligned boundary before the records'
    /// end (the `tail` already written there, again), the group, then zeros to the next
    /// boundary, or `preallocateBytes` further when the write passes the zeros laid down so
    /// far, so that the file's length changes once per step, as in the buffered path.
    func writeDirect(_ chunk: [UInt8], _ writer: inout Writer) -> String? {
        let alignment = writer.directAlignment
        let start = writer.currentBytes - writer.tail.count
        let end = writer.currentBytes + chunk.count
        var writeEnd = Self.roundUp(end, to: alignment)
        if writeEnd > writer.preparedBytes, configuration.preallocateBytes > 0, hasRoomToPreallocate(writer.fd) {
            writeEnd = Self.roundUp(end + configuration.preallocateBytes, to: alignment)
        }
        let length = writeEnd - start
        let recordsEnd = writer.tail.count + chunk.count
        // SAFETY: allocated with the alignment O_DIRECT needs, every byte initialized below
        // (tail, group, zeros), read by pwrite(2) during the call, deallocated on return.
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: length, alignment: alignment)
        defer { buffer.deallocate() }
        buffer.copyBytes(from: writer.tail)
        UnsafeMutableRawBufferPointer(rebasing: buffer[writer.tail.count..<recordsEnd]).copyBytes(from: chunk)
        UnsafeMutableRawBufferPointer(rebasing: buffer[recordsEnd...]).initializeMemory(as: UInt8.self, repeating: 0)
        var written: Int
        repeat { written = pwrite(writer.fd, buffer.baseAddress, length, off_t(start)) } while written < 0 && errno == EINTR
        if written < 0 { return "write log segment: \(String(cString: strerror(errno)))" }
        // A direct write is all or nothing in practice; the rest could not be written from an
        // unaligned offset anyway, so a short one fails the log like any write error.
        if written != length { return "write log segment: \(written) of \(length) bytes written" }
        writer.currentBytes = end
        writer.preparedBytes = max(writer.preparedBytes, writeEnd)
        writer.bytesWritten += chunk.count
        writer.dirty = false
        writer.tail = Array(buffer[(recordsEnd - end % alignment)..<recordsEnd])
        return nil
    }

    static func roundUp(_ value: Int, to alignment: Int) -> Int { (value + alignment - 1) / alignment * alignment }

    /// Whether the filesystem has `preallocateMinimumFreeBytes` free: zeros are laid down ahead
    /// only then, so a nearly full disk still takes records.
    func hasRoomToPreallocate(_ fd: Int32) -> Bool {
        var info = statvfs()
        guard fstatvfs(fd, &info) == 0 else { return false }
        return Int(clamping: UInt64(info.f_bavail).multipliedReportingOverflow(by: UInt64(info.f_frsize)).partialValue) >= configuration.preallocateMinimumFreeBytes
    }

    /// Lays zeros down past the records' end so the next groups overwrite instead of growing the
    /// file. Best effort: on a nearly full filesystem, or when the zeros cannot be written, the
    /// group is written anyway and grows the file as an append would.
    func prepare(_ writer: inout Writer, for bytes: Int) {
        guard configuration.preallocateBytes > 0, hasRoomToPreallocate(writer.fd) else { return }
        let end = writer.currentBytes + bytes + configuration.preallocateBytes
        let zeros = [UInt8](repeating: 0, count: end - writer.preparedBytes)
        if DurableFile.writeAll(writer.fd, zeros, at: writer.preparedBytes) == nil { writer.preparedBytes = end }
    }

    /// Writes every byte, at `offset` (pwrite) or at the file position; the error's text, or nil.
    static func writeAll(_ fd: Int32, _ bytes: [UInt8], at offset: Int? = nil) -> String? {
        let code = if let offset { DurableFile.writeAll(fd, bytes, at: offset) } else { DurableFile.writeAll(fd, bytes) }
        return code.map { String(cString: strerror($0)) }
    }

    static func segmentName(_ first: UInt64) -> String {
        let digits = String(first)
        return "segment-" + String(repeating: "0", count: max(0, 20 - digits.count)) + digits + ".wal"
    }

    /// The largest direct-I/O alignment used; a filesystem that asks for more gets buffered writes.
    static let maxDirectAlignment = 64 << 10

    /// Closes the current segment (synced unless the policy is `none`) and opens a new one
    /// starting at `first`; the directory entry is synced so the new segment survives a crash.
    /// Under `fsync`, the new segment is opened again for direct synchronous writes when its
    /// filesystem reports direct-I/O alignments (else, or if that open fails, buffered).
    func openSegment(first: UInt64, writer: inout Writer) throws(StreamError) {
        let path = "\(configuration.directory)/\(Self.segmentName(first))"
        // Not O_APPEND: groups are written at the records' end, over the zeros laid down ahead.
        var fd = Glibc.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw .io(operation: "create", path: path, errno: errno) }
        if let error = Self.writeAll(fd, Self.magic) {
            closeDescriptor(fd)
            throw .unsupported("write \(path): \(error)")
        }
        guard fdatasync(fd) == 0 else {
            let code = errno
            closeDescriptor(fd)
            throw .io(operation: "fdatasync", path: path, errno: code)
        }
        do {
            try DurableFile.syncDirectory(of: path)
        } catch {
            closeDescriptor(fd)
            throw error
        }
        var alignment = 0
        if configuration.policy == .fsync && configuration.directWrites {
            var reported: UInt32 = 0
            let directFD = rs_open_direct_dsync(path, &reported)
            if directFD >= 0 {
                // At least a page: what buffered writeback writes too, whatever the device's sectors.
                let wanted = max(Int(reported), 4096)
                if wanted <= Self.maxDirectAlignment && wanted.nonzeroBitCount == 1 {
                    closeDescriptor(fd)
                    fd = directFD
                    alignment = wanted
                } else {
                    closeDescriptor(directFD)
                }
            }
        }
        if writer.fd >= 0 {
            _ = fdatasync(writer.fd)
            closeDescriptor(writer.fd)
        }
        writer.fd = fd
        writer.directAlignment = alignment
        writer.tail = alignment > 0 ? Self.magic : []
        writer.currentBytes = Self.magic.count
        writer.preparedBytes = Self.magic.count
        writer.dirty = false
        writer.segments.removeAll { $0.first == first }
        writer.segments.append((first, path))
    }
}
