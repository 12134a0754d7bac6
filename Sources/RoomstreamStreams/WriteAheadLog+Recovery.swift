#if canImport(Glibc)
import Glibc
#endif
import Foundation
import RoomstreamCore

/// Reading the log back at start-up.
extension WriteAheadLog {
    /// The segments in `directory`, oldest first.
    static func segments(in directory: String) throws(StreamError) -> [(first: UInt64, path: String)] {
        let names: [String]
        do { names = try FileManager.default.contentsOfDirectory(atPath: directory) } catch {
            throw .unsupported("list \(directory): \(error.localizedDescription)")
        }
        return names.compactMap { name -> (UInt64, String)? in
            guard name.hasPrefix("segment-"), name.hasSuffix(".wal"), let first = UInt64(name.dropFirst(8).dropLast(4)) else { return nil }
            return (first, "\(directory)/\(name)")
        }.sorted { $0.0 < $1.0 }
    }

    public struct ReplaySummary: Sendable, Equatable {
        /// Records applied (after the checkpoint's position).
        public var applied = 0
        /// The last LSN seen (the checkpoint's position when the log adds nothing).
        public var lastLSN: UInt64
        /// Segments whose tail was torn or corrupt (the rest of that segment is ignored), and
        /// records missing between segments: each is a short description for the log.
        public var problems: [String] = []
    }

    /// Reads every record after `position`, in LSN order, and hands it to `apply`. A frame whose
    /// length, checksum or content is wrong ends its segment (a torn write: the process died
    /// mid-append); records already seen (an LSN not above the last) are skipped, so a group
    /// rewritten in a new segment after a write error counts once.
    public static func replay(directory: String, after position: UInt64, _ apply: (RegistryLogRecord) -> Void) throws(StreamError) -> ReplaySummary {
        var summary = ReplaySummary(lastLSN: position)
        guard FileManager.default.fileExists(atPath: directory) else { return summary }
        for segment in try segments(in: directory) {
            guard let data = FileManager.default.contents(atPath: segment.path) else {
                throw .unsupported("\(segment.path) cannot be read; move it aside to start without the requests it holds")
            }
            let bytes = [UInt8](data)
            guard bytes.count >= magic.count, Array(bytes[0..<magic.count]) == magic else {
                // A segment created but not yet synced when the machine stopped may be empty.
                if !bytes.isEmpty { summary.problems.append("\(segment.path): not a log segment (\(bytes.count) bytes ignored)") }
                continue
            }
            var offset = magic.count
            while offset < bytes.count {
                guard let (lsn, payload) = frameAt(bytes, offset) else {
                    // Zeros to the end are the space laid down ahead of the writer: the records'
                    // clean end. Anything else there is a torn or damaged record.
                    if bytes[offset...].contains(where: { $0 != 0 }) {
                        summary.problems.append("\(segment.path): torn or corrupt record at byte \(offset); \(bytes.count - offset) bytes ignored")
                    }
                    break
                }
                offset = payload.endIndex
                guard lsn > summary.lastLSN else { continue }
                let record: RegistryLogRecord
                do { record = try RegistryLogRecord.decode(payload) } catch {
                    summary.problems.append("\(segment.path): record \(lsn) does not decode; \(bytes.count - payload.startIndex + frameHeaderBytes) bytes ignored")
                    break
                }
                if lsn != summary.lastLSN + 1 {
                    summary.problems.append("\(segment.path): records \(summary.lastLSN + 1)-\(lsn - 1) are missing")
                }
                apply(record)
                summary.applied += 1
                summary.lastLSN = lsn
            }
        }
        return summary
    }

    /// The frame at `offset`: its LSN and payload, or nil when it is incomplete or its
    /// checksum does not match.
    static func frameAt(_ bytes: [UInt8], _ offset: Int) -> (UInt64, ArraySlice<UInt8>)? {
        guard bytes.count - offset >= frameHeaderBytes else { return nil }
        func u32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(bytes[at + $1]) << (8 * UInt32($1)) } }
        let length = Int(u32(offset)), expected = u32(offset + 4)
        guard length <= maxRecordBytes, bytes.count - offset - frameHeaderBytes >= length else { return nil }
        let lsnBytes = bytes[(offset + 8)..<(offset + 16)]
        let payload = bytes[(offset + 16)..<(offset + 16 + length)]
        guard checksum(lsnBytes, payload) == expected else { return nil }
        let lsn = lsnBytes.enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) }
        return (lsn, payload)
    }
}
