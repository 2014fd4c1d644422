import Foundation
import Testing
import TestSupport
@testable import TextCorpus

@Suite struct CorpusReaderTests {
    @Test func multiMemberGzipEqualsConcatenation() throws {
        let dir = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let parts = ["first member: città\n", "second: 北京\n", "third 👍🏽 end\n"]
        let gz = try parts.flatMap { try Fixtures.gzip($0) }
        let gzURL = dir.appendingPathComponent("multi.bin")   // no .gz name: detection is by magic bytes
        try Fixtures.write(gz, to: gzURL)
        let plainURL = dir.appendingPathComponent("plain.txt")
        try Fixtures.write(parts.joined(), to: plainURL)
        var text: [UInt8] = []
        let stats = try CorpusReader(paths: [gzURL.path]).read { chunk, _ in text.append(contentsOf: chunk) }
        #expect(text == Array(parts.joined().utf8))
        #expect(stats.gzipFiles == 1)
        #expect(stats.bytes == Int64(parts.joined().utf8.count))
        #expect(try Fixtures.units([gzURL.path]) == Fixtures.units([plainURL.path]))
    }

    @Test func gzipAndPlainGiveIdenticalIds() throws {
        let dir = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let plain = dir.appendingPathComponent("a.txt"), gz = dir.appendingPathComponent("a.txt.gz")
        try Fixtures.write(sampleText, to: plain)
        try Fixtures.write(try Fixtures.gzip(sampleText), to: gz)
        for unit in TokenUnit.allCases {
            let options = TokenizerOptions(unit: unit)
            let a = try TokenCorpus.load(paths: [plain.path], tokenizer: options, validationFraction: 0, testFraction: 0)
            let b = try TokenCorpus.load(paths: [gz.path], tokenizer: options, validationFraction: 0, testFraction: 0)
            #expect(a.ids == b.ids)
            #expect(a.vocabulary == b.vocabulary)
            #expect(a.ids.count > 50)
        }
    }

    @Test func chunkBoundariesInsideCharactersAndClusters() throws {
        let dir = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("sample.txt")
        let text = String(repeating: sampleText, count: 3)
        try Fixtures.write(text, to: url)
        for unit in TokenUnit.allCases {
            let options = TokenizerOptions(unit: unit)
            let expected = scalars(try Tokenizer(options).units(of: text))
            // Chunk sizes of 4…13 bytes put boundaries inside UTF-8 sequences, ZWJ sequences, flags, clusters.
            for chunkSize in [4, 5, 6, 7, 11, 13] {
                let got = try Fixtures.units([url.path], options: options, reader: CorpusReader.Options(chunkSize: chunkSize))
                #expect(got == expected, "unit \(unit), chunk size \(chunkSize)")
            }
        }
    }

    @Test func segmenterFallbackCutWithoutSafePoints() throws {
        // CJK and Hebrew text without newlines has no safe point: force the fallback cut every few bytes.
        let text = String(repeating: "子曰學而時習之不亦說乎בְּרֵאשִׁית👨‍👩‍👧‍👦🇮🇹", count: 40)
        for unit in TokenUnit.allCases {
            let options = TokenizerOptions(unit: unit)
            let expected = scalars(try Tokenizer(options).units(of: text))
            let segmenter = try UnitSegmenter(options: options)
            segmenter.maxPending = 64
            var sink = CollectingSink()
            let bytes = Array(text.utf8)
            var start = 0
            while start < bytes.count {
                var end = min(bytes.count, start + 37)
                while end < bytes.count && (bytes[end] & 0xC0) == 0x80 { end += 1 }
                try bytes[start..<end].withUnsafeBufferPointer { try segmenter.feed($0, into: &sink) }
                start = end
            }
            try segmenter.finish(into: &sink)
            #expect(scalars(sink.units) == expected, "unit \(unit)")
        }
    }

    @Test func directoriesAreReadRecursivelyInSortedOrderSkippingBinaries() throws {
        let dir = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let sub = dir.appendingPathComponent("b-sub")
        try FileManager.default.createDirectory(at: sub, withIntermediateDirectories: true)
        try Fixtures.write("two\n", to: sub.appendingPathComponent("x.txt"))
        try Fixtures.write(try Fixtures.gzip("one\n"), to: dir.appendingPathComponent("a.data"))
        try Fixtures.write("three\n", to: dir.appendingPathComponent("c"))
        try Fixtures.write([0x7F, 0x45, 0x4C, 0x46, 0, 0, 1], to: dir.appendingPathComponent("b-binary"))
        try Fixtures.write("hidden\n", to: dir.appendingPathComponent(".hidden.txt"))
        let reader = try CorpusReader(paths: [dir.path])
        #expect(reader.sources.map(\.description).map { ($0 as NSString).lastPathComponent } == ["a.data", "x.txt", "c"])
        var text = ""
        try reader.read { chunk, _ in text += String(decoding: chunk, as: UTF8.self) }
        #expect(text == "one\ntwo\nthree\n")
    }

    @Test func standardInputPathIsDash() throws {
        let reader = try CorpusReader(paths: ["-"])
        #expect(reader.sources == [.standardInput])
    }

    // MARK: Bad input

    @Test func missingPath() throws {
        #expect(throws: CorpusError.missingPath("/nonexistent/corpus.txt")) {
            try CorpusReader(paths: ["/nonexistent/corpus.txt"])
        }
        #expect(CorpusError.missingPath("/x").description == "/x: no such file or directory")
    }

    @Test func unreadableFile() throws {
        if getuid() != 0 {
            let dir = try SharedCorpora.temporaryDirectory()
            defer { try? FileManager.default.removeItem(at: dir) }
            let url = dir.appendingPathComponent("locked.txt")
            try Fixtures.write("secret\n", to: url)
            try FileManager.default.setAttributes([.posixPermissions: 0o000], ofItemAtPath: url.path)
            #expect(throws: CorpusError.unreadable(path: url.path, reason: "permission denied")) {
                try CorpusReader(paths: [url.path])
            }
        }
        // Root reads everything; /proc/self/mem opens but fails to read at offset 0 (EIO).
        let mem = "/proc/self/mem"
        guard FileManager.default.fileExists(atPath: mem) else { return }
        do {
            _ = try TokenCorpus.load(paths: [mem])
            Issue.record("no error")
        } catch let error as CorpusError {
            guard case .unreadable(let path, _) = error else { Issue.record("\(error)"); return }
            #expect(path == mem)
            #expect(error.description.hasPrefix("/proc/self/mem: cannot read: "))
        }
    }

    @Test func directoryWithNoTextFiles() throws {
        let dir = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        try Fixtures.write([0, 1, 2, 3, 0xFF], to: dir.appendingPathComponent("blob.bin"))
        #expect(throws: CorpusError.noTextFiles(directory: dir.path)) { try CorpusReader(paths: [dir.path]) }
    }

    @Test func emptyCorpus() throws {
        let dir = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("empty.txt")
        try Fixtures.write("", to: url)
        #expect(throws: CorpusError.emptyCorpus(sources: url.path)) { try TokenCorpus.load(paths: [url.path]) }
    }

    @Test func truncatedGzip() throws {
        let dir = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let gz = try Fixtures.gzip(String(repeating: sampleText, count: 20))
        let url = dir.appendingPathComponent("t.gz")
        try Fixtures.write(Array(gz.prefix(gz.count / 2)), to: url)
        do {
            _ = try TokenCorpus.load(paths: [url.path])
            Issue.record("no error")
        } catch let error as CorpusError {
            guard case .truncatedGzip(let path, let offset) = error else { Issue.record("\(error)"); return }
            #expect(path == url.path)
            #expect(offset > 0 && offset <= Int64(gz.count / 2))
            #expect(error.description.contains("truncated gzip"))
        }
        // Cut inside the 8-byte trailer too.
        try Fixtures.write(Array(gz.dropLast(3)), to: url)
        #expect(throws: CorpusError.self) { try TokenCorpus.load(paths: [url.path]) }
    }

    @Test func corruptGzipBadCRC() throws {
        let dir = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var gz = try Fixtures.gzip(sampleText)
        gz[gz.count - 8] ^= 0xFF   // first byte of the CRC32 trailer
        let url = dir.appendingPathComponent("bad.gz")
        try Fixtures.write(gz, to: url)
        do {
            _ = try TokenCorpus.load(paths: [url.path])
            Issue.record("no error")
        } catch let error as CorpusError {
            guard case .corruptGzip(let path, _, let reason) = error else { Issue.record("\(error)"); return }
            #expect(path == url.path)
            #expect(reason.contains("check"))
            #expect(!error.description.contains("\n"))
        }
    }

    @Test func binaryFileThatIsNeitherGzipNorText() throws {
        let dir = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("program")
        var bytes: [UInt8] = [0x7F, 0x45, 0x4C, 0x46, 2, 1, 1, 0]
        for k in 0..<2000 { bytes.append(UInt8(truncatingIfNeeded: k * 37)) }
        try Fixtures.write(bytes, to: url)
        #expect(throws: CorpusError.binaryData(path: url.path, offset: 7, reason: "NUL byte")) {
            try TokenCorpus.load(paths: [url.path], reader: CorpusReader.Options(replaceInvalid: true))
        }
        // No NUL, but mostly ill-formed UTF-8 (Latin-1 high bytes everywhere).
        let latin = (0..<1000).map { UInt8(0x80 + $0 % 0x7F) }
        try Fixtures.write(latin, to: url)
        do {
            _ = try TokenCorpus.load(paths: [url.path])
            Issue.record("no error")
        } catch let error as CorpusError {
            guard case .binaryData(_, let offset, _) = error else { Issue.record("\(error)"); return }
            #expect(offset == 0)
        }
    }

    @Test func invalidUTF8DeepInsideALargeFile() throws {
        let dir = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        var bytes = Array(String(repeating: "città e più 北京\n", count: 20_000).utf8)
        var position = 150_001
        while (bytes[position] & 0xC0) == 0x80 { position += 1 }     // a scalar boundary
        bytes.insert(0xFF, at: position)
        var second = position + 100
        while (bytes[second] & 0xC0) == 0x80 { second += 1 }
        bytes.insert(contentsOf: [0xE4, 0xB8], at: second)           // a 3-byte sequence cut short
        for (name, data) in [("big.txt", bytes), ("big.txt.gz", try Fixtures.gzip(bytes))] {
            let url = dir.appendingPathComponent(name)
            try Fixtures.write(data, to: url)
            #expect(throws: CorpusError.invalidUTF8(path: url.path, offset: Int64(position), byte: 0xFF)) {
                try TokenCorpus.load(paths: [url.path], reader: CorpusReader.Options(chunkSize: 4096))
            }
            let corpus = try TokenCorpus.load(paths: [url.path], validationFraction: 0, testFraction: 0,
                                              reader: CorpusReader.Options(replaceInvalid: true, chunkSize: 4096))
            #expect(corpus.statistics.reading.replacements == 2)
            #expect(corpus.statistics.reading.invalidBytes == 3)
            let replacement = corpus.vocabulary.id(of: "\u{FFFD}")
            #expect(replacement != Vocabulary.unknownID)
            #expect(corpus.ids.filter { $0 == replacement }.count == 2)
        }
        #expect(CorpusError.invalidUTF8(path: "f", offset: 9, byte: 0xFF).description
            == "f: invalid UTF-8 (byte 0xFF) at byte offset 9; use --replace-invalid to substitute U+FFFD")
    }

    @Test func incompleteSequenceAtEndOfFile() throws {
        let dir = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("cut.txt")
        try Fixtures.write(Array("abc".utf8) + [0xE4, 0xB8], to: url)
        #expect(throws: CorpusError.invalidUTF8(path: url.path, offset: 3, byte: 0xE4)) {
            try TokenCorpus.load(paths: [url.path])
        }
    }
}
