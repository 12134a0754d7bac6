/// Heap bytes the live state holds, counted from what it contains (string lengths, array and
/// dictionary capacities) with the allocator's rounding, so `ingest.max_live_state_mib` bounds
/// real memory rather than a guess per peer. `MemoryFootprintTests` checks the sum against
/// glibc's own count of allocated bytes (`mallinfo2`).
enum MemoryFootprint {
    /// glibc malloc: 8 bytes of chunk header, 16-byte granularity, 32-byte minimum chunk.
    static func allocation(_ bytes: Int) -> Int { max(32, (bytes + 8 + 15) & ~15) }

    /// Swift stores up to 15 UTF-8 bytes inline; longer native strings are one allocation of
    /// a 32-byte header plus the bytes and a NUL terminator.
    static func string(_ text: String?) -> Int {
        guard let text, text.utf8.count > 15 else { return 0 }
        return allocation(32 + text.utf8.count + 1)
    }

    /// One allocation for an array's buffer: a 32-byte header plus capacity × stride.
    static func array<Element>(_ values: [Element]) -> Int {
        values.capacity == 0 ? 0 : allocation(32 + values.capacity * MemoryLayout<Element>.stride)
    }

    /// A native dictionary: header, occupancy bitmap, then keys and values for every bucket
    /// (the bucket count is the capacity rounded up to a power of two over the 3/4 load factor).
    static func dictionary<Key, Value>(_ dictionary: [Key: Value]) -> Int {
        guard dictionary.capacity > 0 else { return 0 }
        var buckets = 1
        while buckets * 3 / 4 < dictionary.capacity { buckets *= 2 }
        return allocation(64 + (buckets + 63) / 64 * 8 + buckets * (MemoryLayout<Key>.stride + MemoryLayout<Value>.stride))
    }
}
