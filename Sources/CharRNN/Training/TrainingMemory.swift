import NeuralNet
import TextCorpus

extension TrainingOptions {
    /// What training `model` with these options needs in memory: `ModelMemory` with B the larger of
    /// `batchSize` and `validationBatchSize` (the workspaces only grow), T = `bptt`, and two optimizer
    /// moments per parameter (Adam's; the other optimizers keep at most as many).
    public func memory(of model: ModelConfig) -> ModelMemory {
        ModelMemory(config: model, batchSize: max(batchSize, validationBatchSize ?? batchSize), steps: bptt,
                    optimizerMoments: 2)
    }

    /// Throws `MemoryNeedError`, naming the `charrnn train` flag most to blame, when training `model`
    /// would need more than `available` bytes. Nothing is allocated.
    public func checkMemory(of model: ModelConfig, available: Int = MachineMemory.available) throws {
        if let problem = memory(of: model).problem(available: available, subject: "training", naming: { $0.flag }) {
            throw problem
        }
    }
}
