import CZlib

/// gzip (RFC 1952) written as independently compressed blocks, so a seal can deflate several
/// batches at once on different cores and still write one ordinary gzip member, the way pigz
/// does. Each batch becomes raw deflate blocks (RFC 1951) primed with the previous batch's
/// last 32 KiB (`deflateSetDictionary`: back-references may reach into it, exactly as they
/// would in one long stream) and ended with a sync flush (an empty stored block: byte-aligned,
/// not final), so the batches' outputs concatenate into one deflate stream; the last batch ends
/// it (`Z_FINISH`). The member's CRC-32 is combined from the batches' (`crc32_combine`).
/// Every reader sees one member; the price is a few bytes per batch (the empty stored block)
/// and the matches a batch's first bytes cannot make with what came before its dictionary.
public enum GzipBlocks {
    /// zlib's default trade-off (decision #35).
    public static let level: Int32 = 6
    /// Deflate's window: the most of the previous batch a match can reach (RFC 1951 §2).
    public static let dictionaryBytes = 32 * 1024
    /// ID1 ID2, CM = 8 (deflate), no flags, MTIME 0 (none: a file's bytes depend only on its
    /// records), XFL 0, OS 3 (Unix), as zlib's own gzip header (RFC 1952 §2.3).
    public static let header: [UInt8] = [0x1F, 0x8B, 8, 0, 0, 0, 0, 0, 0, 3]

    /// One batch's deflated bytes, and the CRC-32 and length of its input.
    public struct Block: Sendable {
        public var deflated: [UInt8]
        public var crc: UInt32
        public var inputBytes: Int
    }

    /// Deflates `input` as the batch after the one whose last bytes are `dictionary` (empty for
    /// the first); `last` ends the deflate stream.
    public static func block(_ input: [UInt8], dictionary: [UInt8], last: Bool) throws(StreamError) -> Block {
        // SAFETY: allocated here, initialized by zlib below, ended and freed before returning
        // (zlib keeps a pointer back to the stream, so it must not move while in use).
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deallocate() }
        // -MAX_WBITS: raw deflate; the gzip framing is written once for the whole file.
        guard deflateInit2_(stream, level, Z_DEFLATED, -MAX_WBITS, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .compression("deflateInit2 failed")
        }
        defer { deflateEnd(stream) }
        if !dictionary.isEmpty {
            // SAFETY: zlib copies the dictionary into its window during the call.
            let status = dictionary.withUnsafeBufferPointer { deflateSetDictionary(stream, $0.baseAddress, uInt($0.count)) }
            guard status == Z_OK else { throw .compression("deflateSetDictionary status \(status)") }
        }
        // deflateBound covers Z_FINISH; a sync flush adds its empty stored block (5 bytes), and
        // the loop below grows the buffer should zlib still need more.
        var output = [UInt8](repeating: 0, count: Int(deflateBound(stream, uLong(input.count))) + 64)
        var produced = 0
        var status: Int32 = Z_OK
        // SAFETY: zlib reads `input` and writes `output` only during deflate, within the counts given.
        input.withUnsafeBufferPointer { source in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: source.baseAddress)
            stream.pointee.avail_in = uInt(source.count)
            while true {
                if produced == output.count { output += [UInt8](repeating: 0, count: 64 * 1024) }
                status = output.withUnsafeMutableBufferPointer { target in
                    stream.pointee.next_out = target.baseAddress.map { $0 + produced }
                    stream.pointee.avail_out = uInt(target.count - produced)
                    let status = deflate(stream, last ? Z_FINISH : Z_SYNC_FLUSH)
                    produced = target.count - Int(stream.pointee.avail_out)
                    return status
                }
                // zlib's protocol: Z_OK with the output full means "call again with more room";
                // a finish is done at Z_STREAM_END, a sync flush when room was left over (or, after
                // an exact fit, at the Z_BUF_ERROR of the call that found nothing left to do).
                if last ? status != Z_OK : (status != Z_OK || stream.pointee.avail_out > 0) { break }
            }
        }
        let flushed = (status == Z_OK || status == Z_BUF_ERROR) && stream.pointee.avail_in == 0
        guard last ? status == Z_STREAM_END : flushed else { throw .compression("deflate status \(status)") }
        output.removeSubrange(produced..<output.count)
        // SAFETY: crc32_z reads `input` only during the call.
        let crc = input.withUnsafeBufferPointer { UInt32(truncatingIfNeeded: crc32_z(0, $0.baseAddress, z_size_t($0.count))) }
        return Block(deflated: output, crc: crc, inputBytes: input.count)
    }

    /// CRC-32 of two inputs one after the other, from theirs.
    public static func combine(_ first: UInt32, _ second: UInt32, secondBytes: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: crc32_combine(uLong(first), uLong(second), Int(secondBytes)))
    }

    /// CRC32 and ISIZE (input length modulo 2^32), little-endian (RFC 1952 §2.3.1).
    public static func trailer(crc: UInt32, totalBytes: UInt64) -> [UInt8] {
        let size = UInt32(truncatingIfNeeded: totalBytes)
        return (0..<4).map { UInt8(truncatingIfNeeded: crc >> (8 * $0)) } + (0..<4).map { UInt8(truncatingIfNeeded: size >> (8 * $0)) }
    }

    /// A whole gzip member of `bytes` in batches of `batchBytes`, compressed one after the
    /// other (tests; the seal compresses its batches in parallel through `SealOutput`).
    public static func member(_ bytes: [UInt8], batchBytes: Int = 1 << 20) throws(StreamError) -> [UInt8] {
        var output = header
        var crc: UInt32 = 0
        var previous: [UInt8] = []
        var start = 0
        repeat {
            let batch = Array(bytes[start..<min(bytes.count, start + max(1, batchBytes))])
            start += batch.count
            let block = try block(batch, dictionary: Array(previous.suffix(dictionaryBytes)), last: start >= bytes.count)
            output += block.deflated
            crc = combine(crc, block.crc, secondBytes: block.inputBytes)
            previous = batch
        } while start < bytes.count
        return output + trailer(crc: crc, totalBytes: UInt64(bytes.count))
    }
}
