import CZlib

/// gzip request bodies (`Content-Encoding: gzip`), decompressed with zlib into a bounded buffer.
public enum Gzip {
    public static func decompress(_ input: some Collection<UInt8>, maxOutputBytes: Int) throws(IngestError) -> [UInt8] {
        // SAFETY: zlib keeps a pointer back to its z_stream, so it lives at a fixed heap
        // address for the whole inflate, and is freed on every path.
        let stream = UnsafeMutablePointer<z_stream>.allocate(capacity: 1)
        stream.initialize(to: z_stream())
        defer { stream.deallocate() }
        // 16 + MAX_WBITS: expect a gzip header (RFC 1952), not raw zlib.
        guard inflateInit2_(stream, 16 + MAX_WBITS, ZLIB_VERSION, Int32(MemoryLayout<z_stream>.size)) == Z_OK else {
            throw .invalidGzip("inflateInit2 failed")
        }
        defer { inflateEnd(stream) }
        var source = Array(input)
        var output = [UInt8]()
        var chunk = [UInt8](repeating: 0, count: 64 * 1024)
        var status: Int32 = Z_OK
        // SAFETY: zlib reads `source` and writes `chunk` only during inflate, within the counts given.
        try source.withUnsafeMutableBufferPointer { (sourceBuffer: inout UnsafeMutableBufferPointer<UInt8>) throws(IngestError) in
            stream.pointee.next_in = sourceBuffer.baseAddress
            stream.pointee.avail_in = uInt(sourceBuffer.count)
            repeat {
                let produced = chunk.withUnsafeMutableBufferPointer { chunkBuffer -> Int in
                    stream.pointee.next_out = chunkBuffer.baseAddress
                    stream.pointee.avail_out = uInt(chunkBuffer.count)
                    status = inflate(stream, Z_NO_FLUSH)
                    return chunkBuffer.count - Int(stream.pointee.avail_out)
                }
                guard status == Z_OK || status == Z_STREAM_END else {
                    throw .invalidGzip(stream.pointee.msg.map { String(cString: $0) } ?? "zlib status \(status)")
                }
                guard output.count + produced <= maxOutputBytes else { throw .decompressedTooLarge(limit: maxOutputBytes) }
                output.append(contentsOf: chunk[0..<produced])
                if produced == 0 && stream.pointee.avail_in == 0 && status != Z_STREAM_END {
                    throw .invalidGzip("truncated stream")
                }
            } while status != Z_STREAM_END
        }
        return output
    }
}
