import Foundation

/// Standard output for text produced unit by unit: bytes are collected and written at each line
/// end, every 4 KiB, or when 50 ms have passed since the last write, so a reader sees the text as
/// it is produced without paying a write per unit.
final class StreamingOutput {
    private let handle: FileHandle
    private var pending: [UInt8] = []
    private var lastWrite = DispatchTime.now().uptimeNanoseconds
    private static let interval: UInt64 = 50_000_000
    private static let capacity = 4096

    init(_ handle: FileHandle = .standardOutput) {
        self.handle = handle
        pending.reserveCapacity(Self.capacity)
    }

    deinit { flush() }

    /// Queues `text`; writes out what is queued when it ends a line or the buffer or interval is full.
    func write(_ text: String) {
        write(bytes: text.utf8)
    }

    /// Queues raw bytes (a sample's text, which with byte units need not be whole UTF-8 sequences
    /// at every write); writes out as `write(_:)` does.
    func write<Bytes: Sequence>(bytes: Bytes) where Bytes.Element == UInt8 {
        pending.append(contentsOf: bytes)
        let now = DispatchTime.now().uptimeNanoseconds
        if pending.last == UInt8(ascii: "\n") || pending.count >= Self.capacity || now - lastWrite >= Self.interval {
            flush(at: now)
        }
    }

    /// Writes out everything queued.
    func flush() { flush(at: DispatchTime.now().uptimeNanoseconds) }

    private func flush(at now: UInt64) {
        lastWrite = now
        guard !pending.isEmpty else { return }
        handle.write(Data(pending))
        pending.removeAll(keepingCapacity: true)
    }
}
