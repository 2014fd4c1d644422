import Foundation

/// Standard output for text produced unit by unit: bytes are collected and written at each line
/// end, every 4 KiB, or when 50 ms have passed since the last write, so a reader sees the text as
/// it is produced without paying a write per unit.
///
/// Writes are checked (`StandardOutput`): the first failure is kept, nothing more is written, and
/// `flush()` throws it; a closed reader (EPIPE) ends the process quietly at once.
final class StreamingOutput {
    private var pending: [UInt8] = []
    private var lastWrite = DispatchTime.now().uptimeNanoseconds
    private var failure: (any Error)?
    private static let interval: UInt64 = 50_000_000
    private static let capacity = 4096

    init() {
        pending.reserveCapacity(Self.capacity)
    }

    /// Queues `text`; writes out what is queued when it ends a line or the buffer or interval is full.
    func write(_ text: String) {
        write(bytes: text.utf8)
    }

    /// Queues raw bytes (a sample's text, which with byte units need not be whole UTF-8 sequences
    /// at every write); writes out as `write(_:)` does.
    func write<Bytes: Sequence>(bytes: Bytes) where Bytes.Element == UInt8 {
        guard failure == nil else { return }
        pending.append(contentsOf: bytes)
        let now = DispatchTime.now().uptimeNanoseconds
        if pending.last == UInt8(ascii: "\n") || pending.count >= Self.capacity || now - lastWrite >= Self.interval {
            send(at: now)
        }
    }

    /// Writes out everything queued; throws the first write failure (now or earlier).
    func flush() throws {
        send(at: DispatchTime.now().uptimeNanoseconds)
        if let failure { throw failure }
    }

    private func send(at now: UInt64) {
        lastWrite = now
        guard !pending.isEmpty, failure == nil else { return }
        do { try StandardOutput.write(bytes: pending) } catch { failure = error }
        pending.removeAll(keepingCapacity: true)
    }
}
