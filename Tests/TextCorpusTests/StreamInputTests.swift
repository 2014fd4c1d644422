import Foundation
import Testing
import TestSupport
@testable import TextCorpus
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// `StreamInput` on a pipe named `/dev/fd/N`, fed by a thread in two writes with a pause between, so the
/// reader sees the bytes cut where the test says: inside the gzip magic, at a member boundary, inside the
/// trailer. The writer always closes its end, so a read never waits forever.
@Suite struct StreamInputTests {
    static let first = String(repeating: "erste Zeile, ünd mehr\n", count: 50)
    static let second = "zweites Mitglied\n"

    /// Reads `bytes` through a pipe, written as `bytes[..<cut]`, a pause, `bytes[cut...]`.
    static func readThroughPipe(_ bytes: [UInt8], cut: Int) throws -> (String, CorpusReader.Statistics) {
        var ends: [Int32] = [0, 0]
        try #require(pipe(&ends) == 0)
        let (readEnd, writeEnd) = (ends[0], ends[1])
        let writer = Thread {
            signal(SIGPIPE, SIG_IGN)
            func put(_ part: ArraySlice<UInt8>) {
                part.withUnsafeBytes { buffer in
                    var done = 0
                    while done < buffer.count {
                        let got = write(writeEnd, buffer.baseAddress! + done, buffer.count - done)
                        if got <= 0 { return }
                        done += got
                    }
                }
            }
            put(bytes[..<cut])
            usleep(30_000)
            put(bytes[cut...])
            close(writeEnd)
        }
        writer.start()
        defer { close(readEnd) }
        let reader = try CorpusReader(paths: ["/dev/fd/\(readEnd)"], options: CorpusReader.Options(chunkSize: 64))
        var text: [UInt8] = []
        let statistics = try reader.read { chunk, _ in text.append(contentsOf: chunk) }
        return (String(decoding: text, as: UTF8.self), statistics)
    }

    @Test func gzipMembersCutAnywhereOnAPipe() throws {
        let one = try Fixtures.gzip(Self.first), two = try Fixtures.gzip(Self.second)
        let both = one + two
        for cut in [1, 2, 3, one.count - 4, one.count - 1, one.count, one.count + 1, one.count + 2, both.count - 1] {
            let (text, statistics) = try Self.readThroughPipe(both, cut: cut)
            #expect(text == Self.first + Self.second, "cut at \(cut)")
            #expect(statistics.gzipFiles == 1)
            #expect(statistics.storedBytes == Int64(both.count), "cut at \(cut)")
        }
        // Plain text cut inside a multi-byte character and inside the 4 sniffed bytes.
        let plain = Array(Self.first.utf8)
        for cut in [1, 3, 15] {
            let (text, statistics) = try Self.readThroughPipe(plain, cut: cut)
            #expect(text == Self.first, "cut at \(cut)")
            #expect(statistics.gzipFiles == 0)
        }
    }

    @Test func trailingBytesCutOnAPipe() throws {
        let one = try Fixtures.gzip(Self.first)
        // Half a magic then a byte that is not its second half; zero padding then a letter; a letter right
        // after the member: each an error at the first byte that is neither a member nor padding.
        for (tail, cut, offset) in [([UInt8]([0x1F, 0x41]), one.count + 1, one.count),
                                    ([0, 0, 0, 0x41], one.count + 2, one.count + 3),
                                    (Array("x".utf8), one.count, one.count)] {
            do {
                _ = try Self.readThroughPipe(one + tail, cut: cut)
                Issue.record("no error for \(tail)")
            } catch let error as CorpusError {
                guard case .trailingGzipData(let path, let at) = error else { Issue.record("\(error)"); continue }
                #expect(path.hasPrefix("/dev/fd/"))
                #expect(at == Int64(offset), "\(tail)")
            }
        }
        // Zero padding alone, cut in the middle: the text, and the padding counted in the stored bytes.
        let padded = one + [UInt8](repeating: 0, count: 100)
        let (text, statistics) = try Self.readThroughPipe(padded, cut: one.count + 50)
        #expect(text == Self.first)
        #expect(statistics.storedBytes == Int64(padded.count))
        // Cut inside the trailer and ended there: truncated, at the end of what arrived.
        do {
            _ = try Self.readThroughPipe(Array(one.dropLast(3)), cut: one.count - 6)
            Issue.record("no error for a truncated trailer")
        } catch let error as CorpusError {
            guard case .truncatedGzip(_, let at) = error else { Issue.record("\(error)"); return }
            #expect(at == Int64(one.count - 3))
        }
    }
}
