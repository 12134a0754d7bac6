#if canImport(Glibc)
import Glibc
#endif
import Dispatch
import RoomstreamBasics

/// Checkpoints and stopping: the log rolls to a new segment before a checkpoint's snapshot,
/// drops the segments a durable checkpoint covers, and is written out at a graceful stop.
extension WriteAheadLog {
    /// Starts a new segment for what is appended from now on (what is buffered is written to
    /// the old one first). Called before a checkpoint's snapshot, so the checkpoint can delete
    /// every segment before this one. Synchronous; not on the writer queue.
    public func roll() {
        queue.sync {
            flush()
            let next = state.withLock { $0.failure == nil ? $0.acknowledged + 1 : nil }
            guard let next else { return }
            writer.withLock { writer in
                guard writer.currentBytes > Self.magic.count else { return }
                do { try openSegment(first: next, writer: &writer) } catch {
                    state.withLock { $0.failure = "\(error)" }
                }
            }
        }
    }

    /// A checkpoint holding every record up to `position` is durable: segments wholly before
    /// it are deleted, and a failed log starts again in a new segment (everything it could not
    /// write is still buffered, or in the checkpoint).
    public func checkpointed(through position: UInt64) {
        queue.sync {
            let failed = state.withLock { $0.failure != nil }
            if failed {
                let first = state.withLock { $0.acknowledged + 1 }
                let reopened: Bool = writer.withLock { writer in
                    do {
                        try openSegment(first: first, writer: &writer)
                        return true
                    } catch {
                        return false
                    }
                }
                if reopened {
                    state.withLock { state in
                        state.failure = nil
                        startWriter(&state)
                    }
                }
            }
            state.withLock { state in
                let covered = state.groupMarks.prefix { $0.lsn <= position }
                if let last = covered.last { state.checkpointedBytes = last.bytes }
                state.groupMarks.removeFirst(covered.count)
            }
            writer.withLock { writer in
                while writer.segments.count > 1, writer.segments[1].first <= position + 1 {
                    unlink(writer.segments[0].path)
                    writer.segments.removeFirst()
                }
            }
        }
    }

    /// Writes and syncs what is buffered (a graceful stop, after the last request).
    public func finish() {
        queue.sync {
            flush()
            writer.withLock { writer in
                if writer.fd >= 0 {
                    _ = fdatasync(writer.fd)
                    closeDescriptor(writer.fd)
                    writer.fd = -1
                }
            }
        }
    }
}
