import Testing
import TestSupport
@testable import TextCorpus

@Suite struct SplitAndBatchTests {
    @Test func splitSizesAreContiguousAndDeterministic() throws {
        let s = try CorpusSplits(count: 1000, validationFraction: 0.1, testFraction: 0.05)
        #expect(s.train == 0..<850)
        #expect(s.validation == 850..<950)
        #expect(s.test == 950..<1000)
        let odd = try CorpusSplits(count: 7, validationFraction: 0.2, testFraction: 0.2)
        #expect(odd.train == 0..<5 && odd.validation == 5..<6 && odd.test == 6..<7)
        #expect(throws: CorpusError.self) { try CorpusSplits(count: 10, validationFraction: 0.6, testFraction: 0.4) }
        #expect(throws: CorpusError.self) { try CorpusSplits(count: 10, validationFraction: -0.1, testFraction: 0) }
    }

    @Test func vocabularyComesFromTheTrainingSplitOnly() throws {
        // 20 units; the last 2 (test) hold "z" and "y", never seen in training.
        let corpus = try loadString("aaaaabbbbbcccccdddzy", validationFraction: 0, testFraction: 0.1)
        #expect(corpus.splits.train == 0..<18)
        #expect(corpus.vocabulary.units == ["<unk>", "a", "b", "c", "d"])
        #expect(Array(corpus.test) == [Vocabulary.unknownID, Vocabulary.unknownID])
        #expect(corpus.statistics.unknownUnits == 2)
        #expect(corpus.statistics.distinctUnits == 6)
        #expect(corpus.statistics.frequencies.first! == ("a", 5))
    }

    @Test func windowsAndTargetsAreTimeMajorAndShiftedByOne() throws {
        let ids = (0..<23).map(Int32.init)    // N = 23, B = 2 → S = 11; T = 4 → windows of 4, 4, 3
        var stream = try BatchStream(ids: ids, batchSize: 2, sequenceLength: 4)
        #expect(stream.streamLength == 11)
        #expect(stream.windowsPerEpoch == 3)
        let w0 = stream.next()
        #expect(w0.steps == 4 && w0.isFirstInEpoch && !w0.isLastInEpoch && w0.epoch == 0)
        // element t·B + b is step t of stream b; stream 0 starts at 0, stream 1 at 11.
        #expect(w0.inputs == [0, 11, 1, 12, 2, 13, 3, 14])
        #expect(w0.targets == [1, 12, 2, 13, 3, 14, 4, 15])
        let w1 = stream.next()
        #expect(w1.inputs == [4, 15, 5, 16, 6, 17, 7, 18])
        let w2 = stream.next()
        #expect(w2.steps == 3 && w2.isLastInEpoch)          // the short last window is used
        #expect(w2.inputs == [8, 19, 9, 20, 10, 21])
        #expect(w2.targets == [9, 20, 10, 21, 11, 22])      // the final target is the last id
        let again = stream.next()
        #expect(again.epoch == 1 && again.window == 0 && again.isFirstInEpoch)
        #expect(again.inputs == w0.inputs)
    }

    @Test func everyTargetFollowsItsInputInTheCorpus() throws {
        let ids = (0..<1001).map { Int32(($0 * 7919) % 1009) }
        var stream = try BatchStream(ids: ids, batchSize: 5, sequenceLength: 7)
        var covered = 0
        repeat {
            let batch = stream.next()
            for k in 0..<(batch.steps * batch.batchSize) {
                let position = ids.firstIndex(of: batch.inputs[k])!
                #expect(ids[position + 1] == batch.targets[k])
            }
            covered += batch.steps * batch.batchSize
        } while stream.position.window != 0
        #expect(covered == 5 * 200)
    }

    @Test func positionSaveAndRestoreResumesExactly() throws {
        let ids = (0..<500).map(Int32.init)
        var a = try BatchStream(ids: ids, batchSize: 3, sequenceLength: 10)
        for _ in 0..<20 { _ = a.next() }
        let saved = a.position
        let data = try JSONEncoder().encode(saved)
        let restored = try JSONDecoder().decode(BatchStream.Position.self, from: data)
        var b = try BatchStream(ids: ids[...], batchSize: 3, sequenceLength: 10, position: restored)
        for _ in 0..<30 { #expect(a.next() == b.next()) }
    }

    @Test func slicesUseTheirOwnIndices() throws {
        let ids = (0..<100).map(Int32.init)
        let stream = try BatchStream(ids: ids[50..<100], batchSize: 1, sequenceLength: 10)
        #expect(stream.batch(window: 0).inputs.first == 50)
    }

    @Test func corpusShorterThanOneWindow() throws {
        let ids = [Int32](repeating: 1, count: 40)
        #expect(throws: CorpusError.corpusTooShort(units: 40, needed: 51, batchSize: 5, sequenceLength: 10)) {
            try BatchStream(ids: ids, batchSize: 5, sequenceLength: 10)
        }
        // Evaluation may accept a short split: one short window.
        let short = try BatchStream(ids: ids, batchSize: 5, sequenceLength: 10, requireFullWindow: false)
        #expect(short.windowsPerEpoch == 1 && short.steps(inWindow: 0) == 7)
        #expect(CorpusError.corpusTooShort(units: 40, needed: 51, batchSize: 5, sequenceLength: 10).description
            == "corpus too short: 40 units, but 5 streams × 10 steps need at least 51; lower --batch or --bptt")
    }
}

import Foundation

@Suite struct InMemoryCorpusTests {
    @Test func textAndFileGiveTheSameCorpus() throws {
        let fromText = try TokenCorpus.load(text: sampleText, validationFraction: 0.1, testFraction: 0.1)
        let fromFile = try loadString(sampleText, validationFraction: 0.1, testFraction: 0.1)
        #expect(fromText.ids == fromFile.ids)
        #expect(fromText.vocabulary == fromFile.vocabulary)
        #expect(fromText.splits == fromFile.splits)
        #expect(throws: CorpusError.emptyCorpus(sources: "gen")) { try TokenCorpus.load(text: "", name: "gen") }
    }

    @Test func encodeWithExistingVocabulary() throws {
        let corpus = try TokenCorpus.load(text: "abcabc", validationFraction: 0, testFraction: 0)
        let dir = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("new.txt")
        try Fixtures.write("abxd\n", to: url)
        let encoded = try TokenCorpus.encode(paths: [url.path], vocabulary: corpus.vocabulary)
        #expect(encoded.ids == [1, 2, 0, 0, 0])
        #expect(encoded.statistics.unknownUnits == 3)
        #expect(encoded.vocabulary.decode(encoded.ids, unknown: "?") == "ab???")
    }
}
