import Foundation
import Testing
import Tensor
import TextCorpus
@testable import NeuralNet

/// Issue 11, class 1: sizes from options and files are checked, without overflow, against a computed
/// memory need before anything is allocated.
@Suite struct ModelMemoryTests {
    static let configs: [ModelConfig] = [
        ModelConfig(vocabularySize: 65, embeddingSize: 16, hiddenSize: 32, layers: 2),
        ModelConfig(vocabularySize: 300, embeddingSize: 8, hiddenSize: 24, layers: 3, cell: .gru, skip: .dense),
        ModelConfig(vocabularySize: 7, embeddingSize: 5, hiddenSize: 9, layers: 4, cell: .rnn, skip: .residual,
                    dropout: 0.3, embeddingDropout: 0.1),
        ModelConfig(vocabularySize: 2, embeddingSize: 1, hiddenSize: 1, layers: 1),
    ]

    @Test(arguments: configs)
    func parameterCountMatchesTheLayout(config: ModelConfig) {
        #expect(ModelMemory(config: config).parameterCount == LanguageModel<Float>.layout(for: config).totalCount)
    }

    /// The estimate covers what a model really allocates for a window: every AlignedBuffer the model and its
    /// layers hold after `reserve`, plus values and gradients.
    @Test(arguments: configs)
    func workspaceEstimateCoversTheReservedBuffers(config: ModelConfig) {
        let model = LanguageModel<Float>(config: config, seed: 1)
        model.reserve(maxSteps: 7, batchSize: 3)
        let memory = ModelMemory(config: config, batchSize: 3, steps: 7)
        let parameters = model.parameters.layout.totalCount
        #expect(memory.bytes! >= 2 * parameters * 4)
        #expect(memory.workspaceCount! >= 7 * 3 * config.vocabularySize * 2)   // logits and their gradient
        // Monotone in every size.
        for parameter in ModelSizeParameter.allCases {
            let bigger = memory.with(parameter, memory.value(of: parameter) + 1)
            #expect(bigger.bytes! > memory.bytes!, "\(parameter)")
        }
    }

    /// Everything a model really allocates for a training window — parameters and gradients, every
    /// workspace of forward and backward, the shared recurrent scratch, the carried state — is
    /// within the estimate, and the estimate (beside its fixed per-layer bookkeeping) is not more
    /// than twice that. The last two sizes are ones where the packed W_hh weighs as much as the
    /// parameters and their gradients.
    @Test(arguments: configs + [
        ModelConfig(vocabularySize: 65, embeddingSize: 64, hiddenSize: 256, layers: 2),
        ModelConfig(vocabularySize: 65, embeddingSize: 32, hiddenSize: 200, layers: 3, cell: .gru, skip: .dense),
    ])
    func estimateBoundsTheRealAllocations(config: ModelConfig) {
        let ledger = AllocationLedger(), t = 7, b = 3
        let held = AllocationLedger.$current.withValue(ledger) {
            let model = LanguageModel<Float>(config: config, seed: 1)
            model.reserve(maxSteps: t, batchSize: b)
            let ids = randomIDs(t * b, below: config.vocabularySize, seed: 5)
            let state = RecurrentState<Float>(config: config, batchSize: b)
            model.forward(inputs: ids, targets: ids, batchSize: b, state: state, training: true)
            model.backward()
            return withExtendedLifetime((model, state)) { ledger.heldBytes }
        }
        let estimate = ModelMemory(config: config, batchSize: b, steps: t).bytes!
        #expect(held <= estimate, "allocated \(held) bytes, estimated \(estimate)")
        #expect(held * 2 >= estimate - config.layers * ModelMemory.perLayerOverhead, "allocated \(held) bytes, estimated \(estimate)")
    }

    @Test(arguments: [
        (ModelSizeParameter.hiddenSize, 1_000_000_000), (.embeddingSize, 1 << 40), (.layers, 1_000_000_000),
        (.vocabularySize, 1 << 50), (.batchSize, Int.max), (.steps, 1 << 45),
    ])
    func hugeSizesAreRefusedNamingTheSize(parameter: ModelSizeParameter, value: Int) throws {
        let base = ModelMemory(config: ModelConfig(vocabularySize: 65, embeddingSize: 64, hiddenSize: 512, layers: 2),
                               batchSize: 50, steps: 100, optimizerMoments: 2)
        let memory = base.with(parameter, value)
        let problem = try #require(memory.problem(available: 64 << 30, naming: { $0.flag }))
        #expect(problem.parameter == parameter.flag)
        #expect(problem.value == value)
        #expect(problem.description.hasPrefix("\(parameter.flag) \(value): the model would need "))
        #expect(problem.description.hasSuffix("of memory; this machine has 64 GiB"))
        #expect(base.problem(available: 64 << 30) == nil)
    }

    @Test func theLimitIsExact() throws {
        let memory = ModelMemory(config: Self.configs[0], batchSize: 5, steps: 11, optimizerMoments: 2)
        let need = try #require(memory.bytes)
        #expect(memory.problem(available: need) == nil)
        let problem = try #require(memory.problem(available: need - 1))
        #expect(problem.need == need && problem.available == need - 1)
    }

    @Test func configValidationRefusesSizesBeyondTheMachine() {
        var config = ModelConfig(vocabularySize: 65, embeddingSize: 64, hiddenSize: 512, layers: 2)
        #expect(config.validationError == nil)
        config.embeddingSize = 1 << 40
        #expect(config.validationError?.hasPrefix("embeddingSize 1099511627776: the model would need ") == true)
        config.embeddingSize = 64
        config.layers = 1_000_000
        #expect(config.validationError?.hasPrefix("layers 1000000: the model would need ") == true)
        config.layers = 2
        config.hiddenSize = Int.max
        #expect(config.validationError?.contains("more than 8 EiB") == true)
    }

    @Test func byteArithmeticIsOverflowSafe() {
        #expect(MemorySize.product(1 << 32, 1 << 31) == nil)
        #expect(MemorySize.product(1 << 31, 1 << 31) == 1 << 62)
        #expect(MemorySize.product(1 << 32, 1 << 32) == nil)
        #expect(MemorySize.product(3, -1) == nil)
        #expect(MemorySize.product(6, 7) == 42)
        #expect(MemorySize.sum([Int.max, 1]) == nil)
        #expect(MemorySize.sum([1, nil]) == nil)
        #expect(MemorySize.sum([40, 2]) == 42)
        #expect(MemorySize.describe(512) == "512 bytes")
        #expect(MemorySize.describe(3 << 19) == "1.5 MiB")
        #expect(MemorySize.describe(48 << 40) == "48 TiB")
        #expect(MemorySize.describe(nil) == "more than 8 EiB")
        #expect(MachineMemory.parse("2G") == 2 << 30)
        #expect(MachineMemory.parse("abc") == nil)
        #expect(MachineMemory.available > 0 && MachineMemory.available <= MachineMemory.physical)
    }

    @Test func alignedBufferThrowsInsteadOfAborting() {
        #expect(throws: AllocationError.self) { _ = try AlignedBuffer<Float>(checkedCount: Int.max / 2) }
        #expect(throws: AllocationError.self) { _ = try AlignedBuffer<Float>(checkedCount: -1) }
        #expect(throws: AllocationError.self) { _ = try AlignedBuffer<Double>(checkedCount: 1 << 61) }
        let buffer = try? AlignedBuffer<Float>(checkedCount: 1000)
        #expect(buffer?.count == 1000)
        #expect(buffer.map { Int(bitPattern: $0.pointer.baseAddress) % 64 } == 0)
        #expect(buffer?.array.allSatisfy { $0 == 0 } == true)
    }
}
