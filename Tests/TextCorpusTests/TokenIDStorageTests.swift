import Foundation
import Testing
@testable import TextCorpus

/// Issue 11, class 2: corpus ids are stored in the narrowest integer type that holds the vocabulary.
@Suite struct TokenIDStorageTests {
    /// A text whose units are `count` distinct code points (ASCII first, then from U+0400 on).
    static func text(distinct count: Int, repeats: Int = 3) -> String {
        let scalars = (0..<count).map { k -> Character in
            var value = UInt32(0x400 + k)
            if value >= 0xD800 { value += 0x800 }   // past the surrogates
            return k < 95 ? Character(Unicode.Scalar(UInt8(32 + k))) : Character(Unicode.Scalar(value) ?? "?")
        }
        return String(repeating: String(scalars), count: repeats)
    }

    @Test(arguments: [(50, 1), (255, 1), (256, 2), (300, 2), (65_535, 2), (65_536, 4), (70_000, 4)])
    func widthFollowsTheVocabulary(distinct: Int, bytes: Int) throws {
        let text = Self.text(distinct: distinct, repeats: distinct > 1000 ? 1 : 3)
        let corpus = try TokenCorpus.load(text: text, tokenizer: TokenizerOptions(unit: .codepoint, normalization: .none),
                                          validationFraction: 0, testFraction: 0)
        // <unk> is id 0, so `distinct` units need distinct + 1 ids.
        #expect(corpus.vocabulary.count == distinct + 1)
        #expect(corpus.ids.bytesPerID == bytes)
        #expect(corpus.ids.count == text.unicodeScalars.count)
        #expect(corpus.vocabulary.decode(corpus.ids) == text)
        #expect(corpus.ids.allSatisfy { $0 > 0 && Int($0) < corpus.vocabulary.count })
    }

    /// 128 ASCII + 128 other units: the provisional ids fit one byte (0…255) but the vocabulary, with
    /// <unk>, has 257 ids, so the remap must widen first.
    @Test func aVocabularyOneLargerThanTheProvisionalIDsWidens() throws {
        let ascii = (0..<128).map { String(Unicode.Scalar(UInt8($0))) }.joined()
        let others = (0..<128).map { String(Unicode.Scalar(0x3B1 + $0)!) }.joined()
        let text = String(repeating: ascii + others, count: 2)
        let options = TokenizerOptions(unit: .codepoint, normalization: .none)
        let corpus = try TokenCorpus.load(text: text, tokenizer: options, validationFraction: 0, testFraction: 0)
        #expect(corpus.vocabulary.count == 257)
        #expect(corpus.ids.bytesPerID == 2)
        #expect(corpus.vocabulary.decode(corpus.ids).unicodeScalars.elementsEqual(text.unicodeScalars))
    }

    @Test func theBufferWidensMidStreamAndKeepsEarlierIDs() {
        let buffer = TokenIDBuffer()
        let values: [Int32] = [0, 7, 255, 3, 256, 65_535, 9, 65_536, 1 << 30, 1]
        var expectedWidths: [Int] = []
        for value in values {
            buffer.append(value)
            expectedWidths.append(buffer.width.rawValue)
        }
        #expect(expectedWidths == [1, 1, 1, 1, 2, 2, 2, 4, 4, 4])
        let ids = TokenIDs(storage: buffer, bounds: 0..<buffer.count)
        #expect(ids.array == values)
        buffer.reverse(2..<6)
        #expect(ids.array == [0, 7, 65_535, 256, 3, 255, 9, 65_536, 1 << 30, 1])
    }

    @Test func slicesKeepTheIndicesOfTheWholeLikeArraySlice() {
        let array: [Int32] = (0..<100).map { Int32($0 % 37) }
        let ids = TokenIDs(array)
        #expect(ids.bytesPerID == 1)
        let slice = ids[10..<30], arraySlice = array[10..<30]
        #expect(slice.startIndex == arraySlice.startIndex && slice.endIndex == arraySlice.endIndex)
        #expect(slice[12] == arraySlice[12])
        #expect(Array(slice) == Array(arraySlice))
        #expect(slice[15..<20].array == Array(array[15..<20]))
        #expect(ids == TokenIDs(array.map { $0 + 0 }))
        #expect(ids != TokenIDs(array.dropLast()))
        var copied = [Int32](repeating: -1, count: 5)
        copied.withUnsafeMutableBufferPointer { slice.copy(20..<25, into: $0.baseAddress!) }
        #expect(copied == Array(array[20..<25]))
        // Wrapping a TokenIDs shares its storage.
        #expect(TokenIDs.wrapping(slice).storage === ids.storage)
    }

    @Test func batchesAreTheSameAsFromAnInt32Array() throws {
        let array: [Int32] = (0..<1_000).map { Int32(($0 * 7919) % 300) }
        let compact = try BatchStream(ids: TokenIDs(array)[100..<900], batchSize: 4, sequenceLength: 9)
        let plain = try BatchStream(ids: array[100..<900], batchSize: 4, sequenceLength: 9)
        #expect(compact.ids.bytesPerID == 2)
        #expect(compact.windowsPerEpoch == plain.windowsPerEpoch)
        for window in 0..<compact.windowsPerEpoch {
            #expect(compact.batch(window: window) == plain.batch(window: window))
        }
        // The first input of stream 0 is the slice's first id.
        #expect(compact.batch(window: 0).inputs[0] == array[100])
    }

    @Test func aDeclaredSizeIsAHintNotAReservation() {
        let buffer = TokenIDBuffer()
        buffer.reserve(hint: Int.max)           // a forged gzip ISIZE or zip size
        buffer.reserve(hint: -5)
        #expect(buffer.failedAllocation == nil)
        for k in 0..<10 { buffer.append(Int32(k)) }
        buffer.narrow()
        #expect(TokenIDs(storage: buffer, bounds: 0..<buffer.count).array == (0..<10).map { Int32($0) })
        #expect(TokenIDBuffer.maximumReservation <= 1 << 26)
    }

    @Test func encodeWithSplitFilesStoresCompactIDsInOrder() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("tokenids-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: root) }
        let train = root.appendingPathComponent("train.txt"), valid = root.appendingPathComponent("valid.txt")
        try Data("abcabcabcabcabcabcabcabcabcabc".utf8).write(to: train)
        try Data("cbacba".utf8).write(to: valid)
        let corpus = try TokenCorpus.load(paths: [train.path], validationFraction: 0, testFraction: 0.2,
                                          validationFiles: [valid.path])
        #expect(corpus.ids.bytesPerID == 1)
        #expect(corpus.vocabulary.decode(corpus.validation) == "cbacba")
        #expect(corpus.vocabulary.decode(corpus.train) + corpus.vocabulary.decode(corpus.test)
                == "abcabcabcabcabcabcabcabcabcabc")
        let encoded = try TokenCorpus.encode(paths: [valid.path], vocabulary: corpus.vocabulary)
        #expect(encoded.ids.bytesPerID == 1)
        #expect(corpus.vocabulary.decode(encoded.ids) == "cbacba")
    }

    @Test func outOfMemoryIsAnErrorNamingTheSources() {
        let error = TokenStorageError.outOfMemory(sources: "big.txt", units: 1_000, bytes: 1 << 31)
        #expect(error.description.hasPrefix("big.txt: out of memory after 1000 units (could not allocate 2.0 GiB"))
    }
}
