#if canImport(Glibc)
import Glibc
#endif
import CZlib
import Foundation
import RoomstreamBasics
import RoomstreamCore

/// Finds a room's record in the sealed files still in the spool, so a `room_url` keeps
/// working after the room has left memory, for as long as its files are retained.
///
/// Files hold one record per line (`[`, records joined by `,\n`, `]`), so a file is read as a
/// stream of lines (gzip inflated on the fly, in 256 KiB steps: memory stays bounded whatever
/// the file's size) and a line is a match when it holds `"room_id":<the id>` and, when given,
/// `"start_time":"<start>"`. A room ends at or after it starts and is filed by its end, so only
/// files whose window ends after `start` can hold it: those are read oldest first.
public enum SealedRoomFinder {
    /// Longest record line considered (a room of 1,000 peers is about 1.5 MB); longer lines
    /// are skipped, never buffered whole.
    public static let maxLineBytes = 16 << 20

    /// The record's JSON, or nil. `files` are every retained file of every stream.
    public static func find(roomID: String, start: String?, in files: [(path: String, file: SealedFile)]) -> [UInt8]? {
        var idWriter = JSONWriter()
        idWriter.string(roomID)
        let idNeedle = Array("\"room_id\":\(idWriter.text)".utf8)
        var startNeedle: [UInt8]?
        var candidates = files
        if let start {
            var startWriter = JSONWriter()
            startWriter.string(start)
            startNeedle = Array("\"start_time\":\(startWriter.text)".utf8)
            let startMillis = ISO8601Milliseconds.parse(start) ?? 0
            candidates = files.filter { Double($0.file.windowEnd) > startMillis }.sorted { $0.file.windowStart < $1.file.windowStart }
        } else {
            // The most recent instance of the id: newest windows first.
            candidates = files.sorted { $0.file.windowStart > $1.file.windowStart }
        }
        for candidate in candidates {
            var found: [UInt8]?
            forEachLine(path: candidate.path, gzip: candidate.file.gzip) { line in
                guard contains(line, idNeedle), startNeedle.map({ contains(line, $0) }) ?? true else { return true }
                var record = Array(line)
                if record.last == UInt8(ascii: ",") { record.removeLast() }
                found = record
                return false
            }
            if let found { return found }
        }
        return nil
    }

    static func contains(_ haystack: ArraySlice<UInt8>, _ needle: [UInt8]) -> Bool {
        haystack.firstRange(of: needle) != nil
    }

    /// Calls `body` with each line (without its newline) until it returns false. A file that
    /// cannot be read or inflated ends early (the search goes on with the next file).
    static func forEachLine(path: String, gzip: Bool, _ body: (ArraySlice<UInt8>) -> Bool) {
        guard let handle = FileHandle(forReadingAtPath: path) else { return }
        defer { try? handle.close() }  // read-only: nothing to lose on close
        var line: [UInt8] = []
        var skipping = false
        var keepGoing = true
        func feed(_ bytes: UnsafeRawBufferPointer) {
            var rest = bytes[...]
            while keepGoing, !rest.isEmpty {
                guard let newline = rest.firstIndex(of: 0x0A) else {
                    if !skipping {
                        line.append(contentsOf: rest)
                        if line.count > maxLineBytes { skipping = true; line = [] }
                    }
                    return
                }
                if !skipping {
                    line.append(contentsOf: rest[..<newline])
                    keepGoing = body(line[...])
                }
                line.removeAll(keepingCapacity: true)
                skipping = false
                rest = rest[(newline + 1)...]
            }
        }
        let chunkBytes = 256 * 1024
        if !gzip {
            // A read error ends this file's search like its end does (documented above).
            while keepGoing, let data = try? handle.read(upToCount: chunkBytes), !data.isEmpty {
                data.withUnsafeBytes { feed($0) }
            }
        } else {
            // SAFETY: zlib keeps a pointer back to its z_stream, so it lives at a fixed heap
            // address for the whole inflate, and is freed on every path.
            let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
            stream.initialize(to: z_stream())
            defer { stream.deallocate() }
            guard inflateInit2_(stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else { return }
            defer { inflateEnd(stream) }
            var output = [UInt8](repeating: 0, count: chunkBytes)
            // A read error ends this file's search like its end does (documented above).
            reading: while keepGoing, let data = try? handle.read(upToCount: chunkBytes), !data.isEmpty {
                var input = Array(data)
                let failed = input.withUnsafeMutableBufferPointer { source -> Bool in
                    stream.pointee.next_in = source.baseAddress
                    stream.pointee.avail_in = uInt(source.count)
                    while keepGoing, stream.pointee.avail_in > 0 {
                        // SAFETY: zlib writes at most avail_out bytes into `output` during inflate.
                        let (status, produced) = output.withUnsafeMutableBufferPointer { out -> (Int32, Int) in
                            stream.pointee.next_out = out.baseAddress
                            stream.pointee.avail_out = uInt(out.count)
                            let status = inflate(stream, Z_NO_FLUSH)
                            return (status, out.count - Int(stream.pointee.avail_out))
                        }
                        output.withUnsafeBytes { feed(UnsafeRawBufferPointer(rebasing: $0[0..<produced])) }
                        if status == Z_BUF_ERROR && produced == 0 { return true }  // no progress: corrupt
                        if status == Z_STREAM_END {
                            // Concatenated gzip members (RFC 1952 §2.2) continue after a reset.
                            guard inflateReset(stream) == Z_OK else { return true }
                        } else if status != Z_OK && status != Z_BUF_ERROR {
                            return true
                        }
                    }
                    return false
                }
                if failed { break reading }
            }
        }
        if keepGoing, !skipping, !line.isEmpty { _ = body(line[...]) }
    }
}
