import CZlib

/// Streaming gzip (RFC 1952) compression with zlib: bytes in, compressed chunks out.
/// The `z_stream` lives at a fixed heap address: zlib keeps a pointer back to it, so it must
/// never be moved the way Swift may move a stored struct.
public final class GzipCompressor {
    private let stream: UnsafeMutablePointer<z_stream>

    public init() throws(StreamError) {
        // SAFETY: allocated here, initialized by zlib below, freed in deinit.
        stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        // 16 + MAX_WBITS: gzip framing rather than raw zlib; level 6 is zlib's default trade-off.
        guard deflateInit2_(stream, 6, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            stream.deallocate()
            throw .compression("deflateInit2 failed")
        }
    }

    /// Compressed output, reused across calls (zeroing 64 KiB per call cost more than deflate
    /// on small inputs).
    private var chunk = [UInt8](repeating: 0, count: 256 * 1024)

    /// Compresses `input`; `finish` ends the stream. Returns the compressed bytes produced.
    public func compress(_ input: [UInt8], finish: Bool = false) throws(StreamError) -> [UInt8] {
        var output: [UInt8] = []
        var status: Int32 = Z_OK
        // SAFETY: zlib reads `input` and writes `chunk` only during deflate, within the counts given.
        input.withUnsafeBufferPointer { sourceBuffer in
            stream.pointee.next_in = UnsafeMutablePointer(mutating: sourceBuffer.baseAddress)
            stream.pointee.avail_in = uInt(sourceBuffer.count)
            repeat {
                let produced = chunk.withUnsafeMutableBufferPointer { chunkBuffer -> Int in
                    stream.pointee.next_out = chunkBuffer.baseAddress
                    stream.pointee.avail_out = uInt(chunkBuffer.count)
                    status = deflate(stream, finish ? Z_FINISH : Z_NO_FLUSH)
                    return chunkBuffer.count - Int(stream.pointee.avail_out)
                }
                output.append(contentsOf: chunk[0..<produced])
            } while status == Z_OK && (stream.pointee.avail_out == 0 || finish)
        }
        guard status == Z_OK || status == Z_STREAM_END || status == Z_BUF_ERROR else { throw .compression("deflate status \(status)") }
        return output
    }

    deinit {
        deflateEnd(stream)
        stream.deallocate()
    }
}
