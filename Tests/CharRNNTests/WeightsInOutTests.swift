import Foundation
import NeuralNet
import Testing
import TestSupport
import TextCorpus
@testable import CharRNN

/// Small checkpoints and files for the weights-in/out tests.
enum WeightsFixture {
    /// Sorted by UTF-8 bytes, so unit i has charrnn id i + 1.
    static let units = ["\n", " ", "(", ")", "a", "b", "c", "é"]

    /// A checkpoint of a randomly initialized model over `units` (ids 1…, `<unk>` at 0).
    static func checkpoint(_ cell: CellKind, layers: Int = 2, embedding: Int = 5, hidden: Int = 6,
                           skip: SkipMode = .none, seed: UInt64 = 11) -> Checkpoint {
        let vocabulary = Vocabulary(units: units, tokenizer: TokenizerOptions())
        let config = ModelConfig(vocabularySize: vocabulary.count, embeddingSize: embedding, hiddenSize: hidden,
                                 layers: layers, cell: cell, skip: skip)
        let configuration = RunConfiguration(model: config, tokenizer: vocabulary.tokenizer, training: TrainingOptions(),
                                             corpus: CorpusDescription(importedFrom: "fixture"))
        return Checkpoint(configuration: configuration, vocabulary: vocabulary,
                          model: LanguageModel<Float>(config: config, seed: seed))
    }

    /// Logits (T×V, row-major) of `model` reading `ids` as one stream from a zero state.
    static func logits(_ model: LanguageModel<Float>, ids: [Int32]) -> [Float] {
        model.threads = 1
        let state = RecurrentState<Float>(config: model.config, batchSize: 1)
        model.forward(inputs: ids, targets: ids, batchSize: 1, state: state, training: false)
        return Array(model.logits)
    }

    /// Writes a hand-made safetensors file: 8-byte little-endian header length, `header`, `buffer`.
    static func handMade(_ header: String, buffer: [UInt8]) -> Data {
        var data = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array(header.utf8))
        data.append(contentsOf: buffer)
        return data
    }

    static func bits(_ values: [Float]) -> [UInt32] { values.map(\.bitPattern) }
}

@Suite struct TensorDTypeTests {
    @Test func everyHalfPatternWidensExactlyAndNarrowsBack() throws {
        for pattern in UInt16.min...UInt16.max {
            var bytes = [UInt8](repeating: 0, count: 2)
            withUnsafeBytes(of: pattern.littleEndian) { bytes = Array($0) }
            for dtype in [SafetensorsDType.f16, .bf16] {
                let wide = SafetensorsTensor(name: "t", dtype: dtype, shape: [1], bytes: bytes).floats[0]
                if wide.isNaN { continue }
                let narrow = try [wide].withUnsafeBufferPointer { try FloatNarrowing.bytes(of: $0, as: dtype, name: "t") }
                #expect(narrow == bytes, "\(dtype) \(String(pattern, radix: 16)) → \(wide)")
            }
        }
        // Reference points: 1.0, −2.0 and the smallest subnormal.
        #expect(SafetensorsTensor(name: "t", dtype: .f16, shape: [3], bytes: [0x00, 0x3C, 0x00, 0xC0, 0x01, 0x00]).floats
                == [1, -2, 0x1p-24])
        #expect(SafetensorsTensor(name: "t", dtype: .bf16, shape: [2], bytes: [0x80, 0x3F, 0x49, 0x40]).floats
                == [1, Float(bitPattern: 0x4049_0000)])
    }

    @Test func narrowingRoundsToNearestEven() throws {
        func bf16(_ bits: UInt32) -> UInt16 { FloatNarrowing.bf16Bits(Float(bitPattern: bits)) }
        #expect(bf16(0x3F80_8000) == 0x3F80)  // tie, even below
        #expect(bf16(0x3F81_8000) == 0x3F82)  // tie, even above
        #expect(bf16(0x3F80_8001) == 0x3F81)  // just above the tie
        #expect(bf16(0x3F80_7FFF) == 0x3F80)
        #expect(bf16(0x7F7F_FFFF) == 0x7F80)  // Float.greatestFiniteMagnitude rounds to infinity
        #expect(FloatNarrowing.bf16Bits(.nan) & 0x7FC0 == 0x7FC0)
        // f16: 1 + 2⁻¹¹ is halfway between 1 and 1 + 2⁻¹⁰ and goes to 1 (even); 65519 stays finite.
        let half = try ([1 + 0x1p-11, 1 + 3 * 0x1p-11, 65519] as [Float]).withUnsafeBufferPointer {
            try SafetensorsTensor(name: "t", shape: [3], floats: $0, as: .f16)
        }
        #expect(half.floats == [1, 1 + 0x1p-9, 65504])
    }

    @Test(arguments: [(SafetensorsDType.f16, Float(65520)), (.f16, -70000), (.bf16, .greatestFiniteMagnitude)])
    func overflowNamesTheTensor(dtype: SafetensorsDType, value: Float) {
        #expect(throws: TensorConversionError.overflow(tensor: "decoder.bias", index: 1, value: value, dtype: dtype)) {
            try [0, value].withUnsafeBufferPointer {
                try SafetensorsTensor(name: "decoder.bias", shape: [2], floats: $0, as: dtype)
            }
        }
        let message = "\(TensorConversionError.overflow(tensor: "decoder.bias", index: 1, value: value, dtype: dtype))"
        #expect(message.contains("decoder.bias") && message.contains(dtype.rawValue) && !message.contains("\n"))
    }

    @Test func infinitiesAndNaNsPassThrough() throws {
        let tensor = try [Float.infinity, -.infinity, .nan].withUnsafeBufferPointer {
            try SafetensorsTensor(name: "t", shape: [3], floats: $0, as: .f16)
        }
        let back = tensor.floats
        #expect(back[0] == .infinity && back[1] == -.infinity && back[2].isNaN)
    }

    @Test func f64RoundsToNearestFloat() {
        let values: [Double] = [0.1, -1e-3, 1 + 0x1p-30]
        var bytes: [UInt8] = []
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
        let tensor = SafetensorsTensor(name: "t", dtype: .f64, shape: [3], bytes: bytes)
        #expect(tensor.floats == values.map { Float($0) })
        #expect(tensor.firstElementBeyondFloat == nil)
        var huge: [UInt8] = []
        for value in [1.0, 1e39, .infinity] { withUnsafeBytes(of: value.bitPattern.littleEndian) { huge += $0 } }
        #expect(SafetensorsTensor(name: "t", dtype: .f64, shape: [3], bytes: huge).firstElementBeyondFloat == 1)
    }

    @Test func f64WeightsLoadAndOverflowIsRefused() throws {
        let checkpoint = WeightsFixture.checkpoint(.gru, layers: 1)
        var file = Checkpoint.weights(of: checkpoint.model)
        let index = try #require(file.tensors.firstIndex { $0.name == "rnn.weight_hh_l0" })
        var values = file.tensors[index].floats.map(Double.init)
        var bytes: [UInt8] = []
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
        file.tensors[index] = SafetensorsTensor(name: "rnn.weight_hh_l0", dtype: .f64, shape: file.tensors[index].shape, bytes: bytes)
        let layout = checkpoint.model.parameters.layout
        let loaded = try Checkpoint.parameters(from: file, layout: layout, path: "m")
        #expect(loaded.values.array == checkpoint.model.parameters.values.array)
        values[5] = -1e300
        bytes = []
        for value in values { withUnsafeBytes(of: value.bitPattern.littleEndian) { bytes += $0 } }
        file.tensors[index].bytes = bytes
        #expect(throws: CheckpointError.mismatch("m", "tensor rnn.weight_hh_l0: F64 element 5 is beyond the range of F32")) {
            try Checkpoint.parameters(from: file, layout: layout, path: "m")
        }
    }
}

@Suite struct MappedSafetensorsReadingTests {
    func write(_ data: Data) throws -> (URL, URL) {
        let directory = try SharedCorpora.temporaryDirectory("charrnn-weights")
        let url = directory.appendingPathComponent("model.safetensors")
        try data.write(to: url)
        return (directory, url)
    }

    func refusal(_ data: Data) throws -> String? {
        let (directory, url) = try write(data)
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            _ = try SafetensorsFile.read(from: url)
            return nil
        } catch {
            #expect(error is CheckpointError)
            return "\(error)"
        }
    }

    @Test func mappedReadEqualsTheWrittenFile() throws {
        let written = try WeightExport.file(of: WeightsFixture.checkpoint(.lstm), dtype: .bf16)
        let (directory, url) = try write(written.serialized())
        defer { try? FileManager.default.removeItem(at: directory) }
        let read = try SafetensorsFile.read(from: url)
        #expect(read == written)
        #expect(read.tensor("rnn.weight_hh_l1")?.dtype == .bf16)
    }

    @Test func forgedHeaderLengthIsRefusedWithoutAllocating() throws {
        var data = Data()
        withUnsafeBytes(of: (UInt64(1) << 60).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array("{}".utf8))
        let message = try #require(try refusal(data))
        #expect(message.contains("header length 1152921504606846976 exceeds"), "\(message)")
        #expect(!message.contains("\n"))
    }

    @Test func truncatedFilesAreRefused() throws {
        let data = try WeightExport.file(of: WeightsFixture.checkpoint(.gru, layers: 1), dtype: .f16).serialized()
        let headerLength = Int(data.prefix(8).enumerated().reduce(UInt64(0)) { $0 | UInt64($1.element) << (8 * UInt64($1.offset)) })
        let cuts: [(Int, String)] = [(0, "0 bytes"), (7, "shorter than the 8-byte"), (8 + headerLength / 2, "runs past the end"),
                                     (data.count - 2, "truncated?")]
        for (length, reason) in cuts {
            let message = try #require(try refusal(data.prefix(length)), "accepted \(length) bytes")
            #expect(message.contains(reason), "\(length): \(message)")
            #expect(message.contains("model.safetensors: not a valid safetensors file"))
        }
    }

    @Test func hugeShapesAndOffsetsAreRefused() throws {
        let cases: [(String, String)] = [
            (#"{"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,4]}}"#, "more than Int.max"),
            (#"{"a":{"dtype":"F32","shape":[2305843009213693952],"data_offsets":[0,4]}}"#, "more than Int.max"),
            (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,1e300]}}"#, "invalid data_offsets"),
            (#"{"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}"#, "invalid shape"),
            (#"{"a":{"dtype":"F8_E4M3","shape":[1],"data_offsets":[0,1]}}"#, "tensor a has unsupported dtype F8_E4M3"),
        ]
        for (header, reason) in cases {
            let message = try #require(try refusal(WeightsFixture.handMade(header, buffer: [0, 0, 0, 0])))
            #expect(message.contains(reason), "\(message)")
        }
    }

    @Test func aDirectoryIsNotAFile() throws {
        let directory = try SharedCorpora.temporaryDirectory("charrnn-weights")
        defer { try? FileManager.default.removeItem(at: directory) }
        #expect(throws: CheckpointError.malformed(directory.path, "not a regular file")) {
            try SafetensorsFile.read(from: directory)
        }
    }
}

@Suite struct WeightExportTests {
    /// Writes `checkpoint` to a directory, replaces its model.safetensors with the export in
    /// `dtype` and loads it back.
    func reloaded(_ checkpoint: Checkpoint, dtype: SafetensorsDType) throws -> (Checkpoint, SafetensorsFile) {
        let root = try SharedCorpora.temporaryDirectory("charrnn-weights")
        defer { try? FileManager.default.removeItem(at: root) }
        let directory = root.appendingPathComponent("ckpt")
        try checkpoint.write(to: directory)
        let exported = try WeightExport.file(of: checkpoint, dtype: dtype)
        try exported.write(to: directory.appendingPathComponent(Checkpoint.modelFile))
        return (try Checkpoint.load(from: directory.path), try SafetensorsFile.read(from: directory.appendingPathComponent(Checkpoint.modelFile)))
    }

    @Test func f32ExportIsTheCheckpointsWeightsPlusMetadata() throws {
        let checkpoint = WeightsFixture.checkpoint(.lstm, skip: .dense)
        let (loaded, file) = try reloaded(checkpoint, dtype: .f32)
        #expect(WeightsFixture.bits(loaded.model.parameters.values.array) == WeightsFixture.bits(checkpoint.model.parameters.values.array))
        #expect(file.metadata["dtype"] == "F32" && file.metadata["format"] == "charrnn")
        #expect(try Vocabulary(jsonData: Data(try #require(file.metadata["vocabulary"]).utf8)) == checkpoint.vocabulary)
        #expect(try JSONDecoder().decode(RunConfiguration.self, from: Data(try #require(file.metadata["config"]).utf8))
                == checkpoint.configuration)
        #expect(file.tensors.map(\.name) == checkpoint.model.parameters.layout.slots.map(\.name))
    }

    /// Half-precision exports load within half an ulp: relative 2⁻¹¹ (f16, 11 significant bits) or
    /// 2⁻⁸ (bf16, 8 bits) for normal values; below f16's normal range (2⁻¹⁴) half its subnormal
    /// spacing, 2⁻²⁵.
    @Test(arguments: [(SafetensorsDType.f16, Float(0x1p-11)), (.bf16, Float(0x1p-8))])
    func halfPrecisionExportLoadsWithinItsRoundingBound(dtype: SafetensorsDType, relative: Float) throws {
        for cell in CellKind.allCases {
            let checkpoint = WeightsFixture.checkpoint(cell, embedding: 7, hidden: 9)
            let (loaded, file) = try reloaded(checkpoint, dtype: dtype)
            #expect(file.tensors.allSatisfy { $0.dtype == dtype })
            let original = checkpoint.model.parameters.values.array, back = loaded.model.parameters.values.array
            var changed = 0, worst: Float = 0
            for (a, b) in zip(original, back) {
                let bound = dtype == .f16 && abs(a) < 0x1p-14 ? Float(0x1p-25) : relative * abs(a)
                #expect(abs(a - b) <= bound, "\(cell) \(dtype): \(a) → \(b)")
                if a != b { changed += 1 }
                if a != 0 { worst = max(worst, abs(a - b) / abs(a)) }
            }
            #expect(changed > original.count / 2, "the weights were rounded")
            #expect(worst > relative / 4, "the bound is nearly reached, so it is the right bound")
            // The model still computes nearly the same logits.
            let ids: [Int32] = [1, 3, 2, 5, 6, 4, 8, 7, 2]
            let exact = WeightsFixture.logits(checkpoint.model, ids: ids), rounded = WeightsFixture.logits(loaded.model, ids: ids)
            #expect(zip(exact, rounded).allSatisfy { abs($0 - $1) < 0.05 })
        }
    }

    @Test func exportRefusesWeightsBeyondF16() throws {
        let checkpoint = WeightsFixture.checkpoint(.gru, layers: 1)
        let slot = try #require(checkpoint.model.parameters.layout.slot(named: "rnn.bias_hh_l0"))
        checkpoint.model.parameters.values(slot)[2] = 1e6
        #expect(throws: TensorConversionError.overflow(tensor: "rnn.bias_hh_l0", index: 2, value: 1e6, dtype: .f16)) {
            try WeightExport.file(of: checkpoint, dtype: .f16)
        }
        #expect(try WeightExport.file(of: checkpoint, dtype: .bf16).tensor("rnn.bias_hh_l0")?.floats[2] == 999424)
    }

    @Test func nonFloatWeightsAreRefusedByName() throws {
        let checkpoint = WeightsFixture.checkpoint(.rnn, layers: 1)
        let root = try SharedCorpora.temporaryDirectory("charrnn-weights")
        defer { try? FileManager.default.removeItem(at: root) }
        let directory = root.appendingPathComponent("ckpt")
        try checkpoint.write(to: directory)
        let modelURL = directory.appendingPathComponent(Checkpoint.modelFile)
        var file = try SafetensorsFile.read(from: modelURL)
        let index = try #require(file.tensors.firstIndex { $0.name == "decoder.bias" })
        file.tensors[index].dtype = .i32
        try file.write(to: modelURL)
        #expect(throws: CheckpointError.mismatch(modelURL.path, "tensor decoder.bias has dtype I32; weights must be F32, F16, BF16 or F64")) {
            try Checkpoint.load(from: directory.path)
        }
    }
}

@Suite struct StateDictImportTests {
    @Test(arguments: CellKind.allCases)
    func exportThenImportIsBitForBit(cell: CellKind) throws {
        let checkpoint = WeightsFixture.checkpoint(cell, skip: cell == .gru ? .residual : .none)
        let file = try SafetensorsFile.parse(try WeightExport.file(of: checkpoint, dtype: .f32).serialized(), path: "w")
        let imported = try StateDictImport.checkpoint(fromExport: file, path: "w")
        #expect(imported.configuration == checkpoint.configuration)
        #expect(imported.vocabulary == checkpoint.vocabulary)
        #expect(WeightsFixture.bits(imported.model.parameters.values.array) == WeightsFixture.bits(checkpoint.model.parameters.values.array))
        let ids = try checkpoint.vocabulary.encode("ab (c)\né ba").ids
        #expect(WeightsFixture.bits(WeightsFixture.logits(imported.model, ids: ids))
                == WeightsFixture.bits(WeightsFixture.logits(checkpoint.model, ids: ids)))
    }

    /// A state dict from `checkpoint`'s weights, minus `<unk>`'s rows, with the units in PyTorch
    /// order `order` (indices into `WeightsFixture.units`).
    func stateDict(of checkpoint: Checkpoint, order: [Int]) -> SafetensorsFile {
        let parameters = checkpoint.model.parameters
        let tensors = parameters.layout.slots.map { slot -> SafetensorsTensor in
            let values = Array(parameters.values(slot))
            guard slot.name.hasPrefix("encoder") || slot.name.hasPrefix("decoder") else {
                return SafetensorsTensor(name: slot.name, shape: slot.shape, floats: values)
            }
            let width = slot.count / slot.shape[0]
            // charrnn id of WeightsFixture.units[i] is i + 1 (sorted by UTF-8 bytes: the list is).
            let rows = order.flatMap { values[(($0 + 1) * width)..<(($0 + 2) * width)] }
            return SafetensorsTensor(name: slot.name, shape: [order.count] + slot.shape.dropFirst(), floats: rows)
        }
        return SafetensorsFile(tensors: tensors)
    }

    @Test func unitsAreReorderedAndAnUnknownRowIsAdded() throws {
        let checkpoint = WeightsFixture.checkpoint(.lstm)
        #expect(checkpoint.vocabulary.units.dropFirst() == WeightsFixture.units[...])
        let order = [3, 0, 7, 5, 1, 2, 6, 4]
        let units = StateDictImport.Units(units: order.map { WeightsFixture.units[$0] }, path: "vocab.json")
        let imported = try StateDictImport.checkpoint(fromStateDict: stateDict(of: checkpoint, order: order), path: "sd",
                                                      units: units, tokenizer: TokenizerOptions(unit: .codepoint, normalization: .none))
        #expect(imported.vocabulary.units == ["<unk>"] + units.units)
        #expect(imported.configuration.model.vocabularySize == 9)
        let parameters = imported.model.parameters
        let bias = parameters.values(try #require(parameters.layout.slot(named: "decoder.bias")))
        #expect(bias[0] == StateDictImport.unknownBias)
        let embedding = parameters.values(try #require(parameters.layout.slot(named: "encoder.weight")))
        #expect(embedding[0..<5].allSatisfy { $0 == 0 })
        // Same text, same logits for every known unit.
        let text = "ab (c)\né ba"
        let theirs = WeightsFixture.logits(checkpoint.model, ids: try checkpoint.vocabulary.encode(text).ids)
        let ours = WeightsFixture.logits(imported.model, ids: try imported.vocabulary.encode(text).ids)
        // (Decoder rows sit at other positions of the product, which may change the last bit.)
        for row in 0..<text.count {
            for unit in WeightsFixture.units {
                let a = ours[row * 9 + Int(imported.vocabulary.id(of: unit))], b = theirs[row * 9 + Int(checkpoint.vocabulary.id(of: unit))]
                #expect(abs(a - b) <= 1e-6 * max(1, abs(b)), "\(unit.debugDescription): \(a) vs \(b)")
            }
        }
    }

    @Test func anUnknownUnitMovesToIdZero() throws {
        let checkpoint = WeightsFixture.checkpoint(.gru, layers: 1)
        var file = stateDict(of: checkpoint, order: Array(0..<8))
        // Put <unk>'s real rows at PyTorch id 4.
        let full = Checkpoint.weights(of: checkpoint.model)
        for index in file.tensors.indices where file.tensors[index].name.hasPrefix("encoder") || file.tensors[index].name.hasPrefix("decoder") {
            let name = file.tensors[index].name
            var rows = file.tensors[index].floats
            let width = rows.count / 8
            rows.insert(contentsOf: try #require(full.tensor(name)).floats[0..<width], at: 4 * width)
            file.tensors[index] = SafetensorsTensor(name: name, shape: [9] + file.tensors[index].shape.dropFirst(), floats: rows)
        }
        var names = WeightsFixture.units
        names.insert("<unk>", at: 4)
        let imported = try StateDictImport.checkpoint(fromStateDict: file, path: "sd", units: .init(units: names, path: "v"),
                                                      tokenizer: TokenizerOptions())
        #expect(imported.vocabulary == checkpoint.vocabulary)
        #expect(WeightsFixture.bits(imported.model.parameters.values.array) == WeightsFixture.bits(checkpoint.model.parameters.values.array))
    }

    @Test func tiedWeightsUseTheEmbedding() throws {
        let checkpoint = WeightsFixture.checkpoint(.rnn, layers: 1, embedding: 6, hidden: 6)
        let parameters = checkpoint.model.parameters
        let encoder = parameters.values(try #require(parameters.layout.slot(named: "encoder.weight")))
        _ = parameters.values(try #require(parameters.layout.slot(named: "decoder.weight"))).update(fromContentsOf: encoder)
        var file = stateDict(of: checkpoint, order: Array(0..<8))
        file.tensors.removeAll { $0.name == "decoder.weight" }
        let imported = try StateDictImport.checkpoint(fromStateDict: file, path: "sd", units: .init(units: WeightsFixture.units, path: "v"),
                                                      tokenizer: TokenizerOptions())
        let ids = try checkpoint.vocabulary.encode("abc ()").ids
        let theirs = WeightsFixture.logits(checkpoint.model, ids: ids), ours = WeightsFixture.logits(imported.model, ids: ids)
        for row in 0..<ids.count { #expect(ours[(row * 9 + 1)..<(row * 9 + 9)] == theirs[(row * 9 + 1)..<(row * 9 + 9)]) }

        let untieable = WeightsFixture.checkpoint(.rnn, layers: 1, embedding: 5, hidden: 6)
        var other = stateDict(of: untieable, order: Array(0..<8))
        other.tensors.removeAll { $0.name == "decoder.weight" }
        #expect(throws: CheckpointError.mismatch("sd", "decoder.weight is missing and encoder.weight [8, 5] cannot stand in for it "
                                                 + "(tied weights need embedding size = hidden size 6)")) {
            try StateDictImport.checkpoint(fromStateDict: other, path: "sd", units: .init(units: WeightsFixture.units, path: "v"),
                                           tokenizer: TokenizerOptions())
        }
    }

    @Test func problemsAreNamedOnOneLine() throws {
        let checkpoint = WeightsFixture.checkpoint(.lstm)
        let good = stateDict(of: checkpoint, order: Array(0..<8))
        let units = StateDictImport.Units(units: WeightsFixture.units, path: "v.json")
        func problem(_ file: SafetensorsFile, units: StateDictImport.Units = units, cell: CellKind? = nil) -> String {
            do {
                _ = try StateDictImport.checkpoint(fromStateDict: file, path: "sd.safetensors", units: units, cell: cell,
                                                   tokenizer: TokenizerOptions())
                return "accepted"
            } catch {
                return "\(error)"
            }
        }
        func replacing(_ name: String, shape: [Int]) -> SafetensorsFile {
            var file = good
            let index = file.tensors.firstIndex { $0.name == name }!
            file.tensors[index] = SafetensorsTensor(name: name, shape: shape, floats: [Float](repeating: 0, count: shape.reduce(1, *)))
            return file
        }
        #expect(problem(replacing("rnn.weight_ih_l1", shape: [24, 5]))
                == "sd.safetensors: does not match: rnn.weight_ih_l1 has shape [24, 5], expected [24, 6]")
        #expect(problem(replacing("decoder.bias", shape: [7]))
                == "sd.safetensors: does not match: decoder.bias has shape [7], expected [8]")
        #expect(problem(replacing("rnn.weight_hh_l0", shape: [20, 6])).contains("rnn.weight_hh_l0 has shape [20, 6]: its rows are not 4, 3 or 1"))
        #expect(problem(good, cell: .gru).contains("rnn.weight_hh_l0 has shape [24, 6] (4×6 rows: LSTM), but cell GRU was asked for"))
        var extra = good
        extra.tensors.append(SafetensorsTensor(name: "rnn.weight_hr_l0", shape: [1], floats: [0]))
        #expect(problem(extra) == "sd.safetensors: does not match: unexpected tensor rnn.weight_hr_l0")
        #expect(problem(good, units: .init(units: Array(WeightsFixture.units.dropLast()), path: "v.json"))
                == "v.json: does not match: 7 units, but encoder.weight in sd.safetensors has 8 rows")
        var repeated = WeightsFixture.units
        repeated[5] = "a"
        #expect(problem(good, units: .init(units: repeated, path: "v.json")).contains("element 5 \"a\" repeats element 4"))
        var noBias = good
        noBias.tensors.removeAll { $0.name == "rnn.bias_hh_l1" }
        #expect(problem(noBias) == "sd.safetensors: does not match: missing tensor rnn.bias_hh_l1")
        #expect(problem(SafetensorsFile(tensors: [])) == "sd.safetensors: does not match: missing tensor encoder.weight")
    }

    @Test func vocabularyFileIsAJSONArrayOfStrings() throws {
        let directory = try SharedCorpora.temporaryDirectory("charrnn-weights")
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("vocab.json")
        try Data(#"["\n", " ", "a", "é", "<unk>"]"#.utf8).write(to: url)
        #expect(try StateDictImport.Units.read(from: url).units == ["\n", " ", "a", "é", "<unk>"])
        try Data(#"{"units": ["a"]}"#.utf8).write(to: url)
        #expect(throws: CorpusError.self) { try StateDictImport.Units.read(from: url) }
        try Data(#"["a", 3]"#.utf8).write(to: url)
        #expect(throws: CorpusError.malformedVocabulary(path: url.path, reason: "element 1 is not a string")) {
            try StateDictImport.Units.read(from: url)
        }
    }
}
