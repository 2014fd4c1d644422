import CZlib
import Foundation
import Testing
import TestSupport
@testable import TextCorpus

/// Zip archives read as corpora: stored, deflated, zip64, data descriptors, member selection, and the
/// damaged or hostile archives that must fail with one clear error.
@Suite struct ZipReaderTests {
    /// Text with multi-byte characters, long enough to span many small chunks.
    static let text: String = {
        var lines: [String] = []
        for k in 0..<400 { lines.append("line \(k): naïve café — ελληνικά 漢字 \(k * k % 97)") }
        return lines.joined(separator: "\n") + "\n"
    }()

    /// Raw deflate (no zlib header), as zip's method 8 stores it.
    static func rawDeflate(_ bytes: [UInt8]) -> [UInt8] {
        var stream = z_stream()
        let status = deflateInit2_(&stream, 6, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY, zlibVersion(),
                                   Int32(MemoryLayout<z_stream>.size))
        precondition(status == Z_OK)
        var input = bytes
        var output = [UInt8](repeating: 0, count: Int(deflateBound(&stream, UInt(bytes.count))) + 64)
        input.withUnsafeMutableBufferPointer { inBuffer in
            output.withUnsafeMutableBufferPointer { outBuffer in
                stream.next_in = inBuffer.baseAddress
                stream.avail_in = UInt32(inBuffer.count)
                stream.next_out = outBuffer.baseAddress
                stream.avail_out = UInt32(outBuffer.count)
                let result = deflate(&stream, Z_FINISH)
                precondition(result == Z_STREAM_END)
            }
        }
        let count = Int(stream.total_out)
        deflateEnd(&stream)
        return Array(output[0..<count])
    }

    static func deflated(_ name: String, _ text: String) -> ZipFixture.Entry {
        let bytes = Array(text.utf8)
        return ZipFixture.Entry(name: name, data: bytes, method: 8, compressed: rawDeflate(bytes))
    }

    static func stored(_ name: String, _ text: String) -> ZipFixture.Entry {
        ZipFixture.Entry(name: name, data: Array(text.utf8))
    }

    /// Every byte the reader delivers for `paths`, with a small chunk size so chunk borders are exercised.
    static func readAll(_ paths: [String], chunkSize: Int = 61) throws -> (bytes: [UInt8], sources: [String]) {
        let reader = try CorpusReader(paths: paths, options: CorpusReader.Options(chunkSize: chunkSize))
        var bytes: [UInt8] = []
        try reader.read { chunk, _ in bytes.append(contentsOf: chunk) }
        return (bytes, reader.sources.map(\.description))
    }

    static func write(_ archive: [UInt8], _ name: String = "corpus.zip") throws -> (URL, String) {
        let root = try SharedCorpora.temporaryDirectory("charrnn-zip")
        let url = root.appendingPathComponent(name)
        try Data(archive).write(to: url)
        return (root, url.path)
    }

    /// The error `body` throws, as a `CorpusError` (nil when it throws nothing or something else).
    static func corpusError(_ body: () throws -> Void) -> CorpusError? {
        do { try body() } catch let error as CorpusError { return error } catch { return nil }
        return nil
    }

    @Test func storedMemberEqualsPlainText() throws {
        let (root, path) = try Self.write(ZipFixture.archive([Self.stored("a.txt", Self.text)]))
        defer { try? FileManager.default.removeItem(at: root) }
        let read = try Self.readAll(["\(path):a.txt"])
        #expect(read.bytes == Array(Self.text.utf8))
        #expect(read.sources == ["\(path):a.txt"])
        let plain = root.appendingPathComponent("a.txt").path
        try Fixtures.write(Self.text, to: URL(fileURLWithPath: plain))
        #expect(try Fixtures.units([path]) == Fixtures.units([plain]))
    }

    @Test func deflatedMemberEqualsPlainText() throws {
        let entry = Self.deflated("deep/b.txt", Self.text)
        #expect(entry.compressed!.count < entry.data.count)
        let (root, path) = try Self.write(ZipFixture.archive([entry]))
        defer { try? FileManager.default.removeItem(at: root) }
        for chunkSize in [4, 61, 1 << 20] {
            #expect(try Self.readAll(["\(path):deep/b.txt"], chunkSize: chunkSize).bytes == Array(Self.text.utf8))
        }
        let corpus = try TokenCorpus.load(paths: [path], validationFraction: 0, testFraction: 0)
        #expect(corpus.statistics.reading.zipMembers == 1)
        #expect(corpus.statistics.reading.bytes == Int64(Self.text.utf8.count))
        #expect(corpus.statistics.reading.storedBytes == Int64(entry.compressed!.count))
    }

    @Test func zip64ArchiveEqualsPlainText() throws {
        var first = Self.deflated("one.txt", "first member\n")
        first.zip64 = true
        var second = Self.stored("two.txt", Self.text)
        second.zip64 = true
        let archive = ZipFixture.archive([first, second], zip64End: true)
        let (root, path) = try Self.write(archive)
        defer { try? FileManager.default.removeItem(at: root) }
        let zip = try ZipArchive(path: path)
        #expect(zip.members.map(\.name) == ["one.txt", "two.txt"])
        #expect(zip.members[1].uncompressedSize == UInt64(Self.text.utf8.count))
        #expect(zip.members[1].localHeaderOffset > 0)
        let read = try Self.readAll([path])
        #expect(read.bytes == Array(("first member\n" + Self.text).utf8))
        #expect(read.sources == ["\(path):one.txt", "\(path):two.txt"])
    }

    @Test func dataDescriptorMembersRead() throws {
        var deflated = Self.deflated("d.txt", Self.text)
        deflated.dataDescriptor = true
        var stored = Self.stored("s.txt", "stored with a descriptor\n")
        stored.dataDescriptor = true
        var both = Self.deflated("z.txt", "zip64 and a descriptor\n")
        both.dataDescriptor = true
        both.zip64 = true
        let (root, path) = try Self.write(ZipFixture.archive([deflated, stored, both]))
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try Self.readAll([path]).bytes
                == Array((Self.text + "stored with a descriptor\n" + "zip64 and a descriptor\n").utf8))
    }

    @Test func wholeArchiveTakesTextMembersInArchiveOrder() throws {
        let binary = ZipFixture.Entry(name: "image.bin", data: [0x89, 0x50, 0x4E, 0x47, 0, 0, 0, 13, 1, 2])
        let entries = [Self.stored("z-first.txt", "zeta\n"), .directory("dir/"), Self.deflated("dir/a.txt", "alpha\n"),
                       binary, Self.stored("empty.txt", ""), Self.stored("b.txt", "beta\n")]
        let (root, path) = try Self.write(ZipFixture.archive(entries, comment: "an archive comment"))
        defer { try? FileManager.default.removeItem(at: root) }
        let read = try Self.readAll([path])
        #expect(read.sources == ["\(path):z-first.txt", "\(path):dir/a.txt", "\(path):b.txt"])
        #expect(read.bytes == Array("zeta\nalpha\nbeta\n".utf8))
        // Named explicitly, a binary member is rejected as binary data, not skipped.
        let error = Self.corpusError { _ = try Self.readAll(["\(path):image.bin"]) }
        guard case .binaryData(let name, _, _)? = error else { Issue.record("expected binaryData, got \(String(describing: error))"); return }
        #expect(name == "\(path):image.bin")
    }

    @Test func missingMemberListsAvailableNames() throws {
        let entries = (1...7).map { Self.stored("part\($0).txt", "text \($0)\n") } + [.directory("folder/")]
        let (root, path) = try Self.write(ZipFixture.archive(entries))
        defer { try? FileManager.default.removeItem(at: root) }
        let error = Self.corpusError { _ = try CorpusReader(paths: ["\(path):part9.txt"]) }
        guard case .missingZipMember(let archive, let member, let available)? = error else {
            Issue.record("expected missingZipMember, got \(String(describing: error))"); return
        }
        #expect(archive == path && member == "part9.txt")
        #expect(available == (1...7).map { "part\($0).txt" })
        let message = error!.description
        #expect(message.contains("part1.txt") && message.contains("part5.txt") && !message.contains("part6.txt"))
        #expect(message.contains("7 in all") && !message.contains("\n"))
        // A directory entry is not a member to read.
        #expect(Self.corpusError { _ = try CorpusReader(paths: ["\(path):folder/"]) } != nil)
    }

    @Test func realFileNamedLikeAMemberWins() throws {
        let (root, path) = try Self.write(ZipFixture.archive([Self.stored("m.txt", "from the archive\n")]))
        defer { try? FileManager.default.removeItem(at: root) }
        #expect(try Self.readAll(["\(path):m.txt"]).bytes == Array("from the archive\n".utf8))
        try Fixtures.write("a real file\n", to: URL(fileURLWithPath: "\(path):m.txt"))
        #expect(try Self.readAll(["\(path):m.txt"]).bytes == Array("a real file\n".utf8))
        // ARCHIVE:MEMBER on a file that is not a zip archive.
        let plain = root.appendingPathComponent("plain.txt").path
        try Fixtures.write("plain\n", to: URL(fileURLWithPath: plain))
        #expect(Self.corpusError { _ = try CorpusReader(paths: ["\(plain):x"]) } == .notZipArchive(path: plain, member: "x"))
    }

    @Test func truncatedArchivesFailCleanly() throws {
        let archive = ZipFixture.archive([Self.deflated("a.txt", Self.text), Self.stored("b.txt", "bee\n")])
        let (root, path) = try Self.write(archive)
        defer { try? FileManager.default.removeItem(at: root) }
        // Every cut keeps the local-header magic (so the file is taken for zip) and must give one CorpusError.
        for length in stride(from: 4, to: archive.count, by: max(1, archive.count / 97)) {
            try Data(archive[0..<length]).write(to: URL(fileURLWithPath: path))
            let error = Self.corpusError { _ = try Self.readAll([path]) }
            guard case .corruptZip(let name, let reason)? = error else {
                Issue.record("length \(length): expected corruptZip, got \(String(describing: error))"); continue
            }
            #expect(name == path && !reason.isEmpty)
        }
        // Intact directory, deflate data cut short (declared compressed size too small).
        var short = Self.deflated("a.txt", Self.text)
        short.compressed = Array(short.compressed!.dropLast(20))
        try Data(ZipFixture.archive([short])).write(to: URL(fileURLWithPath: path))
        let error = Self.corpusError { _ = try Self.readAll([path]) }
        guard case .corruptZip(_, let reason)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(reason.contains("a.txt") && reason.contains("ends early"))
    }

    @Test func badCRCIsReported() throws {
        var entry = Self.deflated("a.txt", Self.text)
        entry.declaredCRC = ZipFixture.crc32(entry.data) ^ 0x0000_0100
        let (root, path) = try Self.write(ZipFixture.archive([entry]))
        defer { try? FileManager.default.removeItem(at: root) }
        let error = Self.corpusError { _ = try Self.readAll([path]) }
        guard case .corruptZip(let name, let reason)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(name == path && reason.contains("CRC-32 mismatch") && reason.contains("a.txt"))
        // A flipped data byte in a stored member, declared CRC intact.
        var archive = ZipFixture.archive([Self.stored("s.txt", Self.text)])
        var at = archive.count / 2
        while !(UInt8(ascii: "a")...UInt8(ascii: "w")).contains(archive[at]) { at += 1 }
        archive[at] += 1  // still ASCII text: only the CRC-32 can notice
        try Data(archive).write(to: URL(fileURLWithPath: path))
        let flipped = Self.corpusError { _ = try Self.readAll([path]) }
        guard case .corruptZip(_, let flippedReason)? = flipped else { Issue.record("got \(String(describing: flipped))"); return }
        #expect(flippedReason.contains("CRC-32 mismatch"))
    }

    @Test func memberInflatingPastItsDeclaredSizeStops() throws {
        // 4 MiB of one letter deflates to a few KiB; the archive claims 1,000 bytes.
        let big = [UInt8](repeating: UInt8(ascii: "a"), count: 4 << 20)
        var bomb = ZipFixture.Entry(name: "bomb.txt", data: big, method: 8, compressed: Self.rawDeflate(big))
        bomb.declaredSize = 1000
        let (root, path) = try Self.write(ZipFixture.archive([bomb]))
        defer { try? FileManager.default.removeItem(at: root) }
        let reader = try CorpusReader(paths: ["\(path):bomb.txt"], options: CorpusReader.Options(chunkSize: 4096))
        // The reservation hint is the declared size, never more than 8 × the stored size.
        #expect(reader.estimatedDecodedBytes() == 1000)
        var delivered = 0
        let error = Self.corpusError { try reader.read { chunk, _ in delivered += chunk.count } }
        guard case .corruptZip(_, let reason)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(reason.contains("declared size"))
        #expect(delivered <= 1000)
        // The opposite lie: fewer bytes than declared.
        var short = Self.stored("short.txt", "short\n")
        short.declaredSize = 100
        try Data(ZipFixture.archive([short])).write(to: URL(fileURLWithPath: path))
        let shortError = Self.corpusError { _ = try Self.readAll([path]) }
        guard case .corruptZip(_, let shortReason)? = shortError else { Issue.record("got \(String(describing: shortError))"); return }
        #expect(shortReason.contains("100 declared"))
    }

    @Test func unsupportedMethodAndEncryptionNameTheMember() throws {
        let method12 = ZipFixture.Entry(name: "x.txt", data: Array("abc".utf8), method: 12, compressed: [1, 2, 3])
        var encrypted = Self.stored("secret.txt", "hidden\n")
        encrypted.flags = 0x0001
        let (root, path) = try Self.write(ZipFixture.archive([method12, encrypted]))
        defer { try? FileManager.default.removeItem(at: root) }
        let first = Self.corpusError { _ = try CorpusReader(paths: ["\(path):x.txt"]).read { _, _ in } }
        guard case .unsupportedZipMember(let name, let reason)? = first else { Issue.record("got \(String(describing: first))"); return }
        #expect(name == "\(path):x.txt" && reason.contains("method 12") && reason.contains("bzip2"))
        let second = Self.corpusError { _ = try CorpusReader(paths: ["\(path):secret.txt"]).read { _, _ in } }
        guard case .unsupportedZipMember(let secretName, let secretReason)? = second else { Issue.record("got \(String(describing: second))"); return }
        #expect(secretName == "\(path):secret.txt" && secretReason.contains("encrypted"))
    }

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: "/usr/bin/zip")))
    func archiveWrittenByZipToolReads() throws {
        let root = try SharedCorpora.temporaryDirectory("charrnn-zip-tool")
        defer { try? FileManager.default.removeItem(at: root) }
        try FileManager.default.createDirectory(at: root.appendingPathComponent("sub"), withIntermediateDirectories: true)
        try Fixtures.write(Self.text, to: root.appendingPathComponent("sub/t.txt"))
        try Fixtures.write("second\n", to: root.appendingPathComponent("u.txt"))
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/zip")
        process.currentDirectoryURL = root
        process.arguments = ["-q", "-r", "out.zip", "sub", "u.txt"]
        try process.run()
        process.waitUntilExit()
        #expect(process.terminationStatus == 0)
        let path = root.appendingPathComponent("out.zip").path
        let read = try Self.readAll([path])
        #expect(read.sources == ["\(path):sub/t.txt", "\(path):u.txt"])
        #expect(read.bytes == Array((Self.text + "second\n").utf8))
    }

    @Test func unpackWritesMembersAtomically() throws {
        let entries = [.directory("wiki/"), Self.deflated("wiki/train.txt", Self.text), Self.stored("wiki/valid.txt", "valid\n")]
        let (root, path) = try Self.write(ZipFixture.archive(entries))
        defer { try? FileManager.default.removeItem(at: root) }
        let out = root.appendingPathComponent("out")
        let unpacked = try ZipArchive(path: path).unpack(into: out)
        #expect(unpacked.map(\.url.lastPathComponent) == ["train.txt", "valid.txt"])
        #expect(unpacked.allSatisfy { $0.written })
        #expect(try Data(contentsOf: out.appendingPathComponent("wiki/train.txt")) == Data(Self.text.utf8))
        #expect(try Data(contentsOf: out.appendingPathComponent("wiki/valid.txt")) == Data("valid\n".utf8))
        // Intact files are kept the second time.
        #expect(try ZipArchive(path: path).unpack(into: out).allSatisfy { !$0.written })

        // A bad CRC leaves neither the file nor a temporary behind.
        var bad = Self.deflated("bad.txt", Self.text)
        bad.declaredCRC = 12345
        let badPath = root.appendingPathComponent("bad.zip").path
        try Data(ZipFixture.archive([Self.stored("good.txt", "good\n"), bad])).write(to: URL(fileURLWithPath: badPath))
        let badOut = root.appendingPathComponent("bad-out")
        #expect(Self.corpusError { _ = try ZipArchive(path: badPath).unpack(into: badOut) } != nil)
        #expect(try FileManager.default.contentsOfDirectory(atPath: badOut.path) == ["good.txt"])

        // Names that escape the output directory are refused before anything is written.
        let slipPath = root.appendingPathComponent("slip.zip").path
        try Data(ZipFixture.archive([Self.stored("ok.txt", "ok\n"), Self.stored("../escape.txt", "x\n")]))
            .write(to: URL(fileURLWithPath: slipPath))
        let slipOut = root.appendingPathComponent("slip-out")
        #expect(Self.corpusError { _ = try ZipArchive(path: slipPath).unpack(into: slipOut) }
                == .unsafeZipMemberName(archive: slipPath, member: "../escape.txt"))
        #expect(!FileManager.default.fileExists(atPath: slipOut.path))
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("escape.txt").path))
    }
}

/// Damaged archives: any byte of a small archive changed must give a result or one `CorpusError`, never a
/// crash (offsets and sizes in the archive are untrusted input).
@Suite struct ZipCorruptionTests {
    @Test func everyChangedByteFailsCleanlyOrReads() throws {
        var zip64 = ZipReaderTests.deflated("z.txt", "zip64 member\n")
        zip64.zip64 = true
        var described = ZipReaderTests.stored("d.txt", "descriptor\n")
        described.dataDescriptor = true
        let archive = ZipFixture.archive([ZipReaderTests.deflated("a.txt", "alpha beta gamma\n"), described, zip64],
                                         zip64End: true)
        let (root, path) = try ZipReaderTests.write(archive)
        defer { try? FileManager.default.removeItem(at: root) }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        var failures = 0, reads = 0
        for position in 4..<archive.count {
            for _ in 0..<3 {
                state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
                var damaged = archive
                // All ones and zeros reach the zip64 markers and the "huge size/offset" paths.
                let choices: [UInt8] = [0xFF, 0x00, UInt8(truncatingIfNeeded: state >> 33)]
                damaged[position] = choices[Int(state >> 61) % 3]
                try Data(damaged).write(to: URL(fileURLWithPath: path))
                do {
                    let reader = try CorpusReader(paths: [path])
                    _ = reader.estimatedDecodedBytes()
                    try reader.read { _, _ in }
                    reads += 1
                } catch is CorpusError {
                    failures += 1
                }
            }
        }
        #expect(failures > 0 && reads > 0)
    }
}

extension ZipCorruptionTests {
    @Test func hugeDeclaredSizesAreRefusedBeforeAnyReservation() throws {
        var liar = ZipReaderTests.stored("a.txt", "small\n")
        liar.zip64 = true
        let archive = ZipFixture.archive([liar, ZipReaderTests.stored("b.txt", "bee\n")])
        // The central entry's zip64 extra holds uncompressed, compressed, offset (8 bytes each) at its end,
        // just before the second entry's header: set the compressed size to 2^62.
        let signature: [UInt8] = [0x50, 0x4B, 0x01, 0x02]
        let found = (0..<(archive.count - 4)).last { (k: Int) -> Bool in Array(archive[k..<(k + 4)]) == signature }
        let second = try #require(found)
        var damaged = archive
        let compressedField = second - 16
        for k in 0..<8 { damaged[compressedField + k] = k == 7 ? 0x40 : 0 }
        let (root, path) = try ZipReaderTests.write(damaged)
        defer { try? FileManager.default.removeItem(at: root) }
        let error = ZipReaderTests.corpusError { _ = try CorpusReader(paths: [path]) }
        guard case .corruptZip(_, let reason)? = error else { Issue.record("got \(String(describing: error))"); return }
        #expect(reason.contains("a.txt") && reason.contains("beyond the end"))
    }
}
