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

extension BatchStream {
    /// Throws `MemoryNeedError` when running `model` over this stream's windows (B streams, the first
    /// window's steps) would need more than `available` bytes; B and T are named by their flags
    /// (`--batch`, and `stepsFlag` for T), the model's sizes by their config.json keys. Nothing is allocated.
    public func checkMemory(model: ModelConfig, subject: String, stepsFlag: String = "--bptt",
                            available: Int = MachineMemory.available) throws {
        let memory = ModelMemory(config: model, batchSize: batchSize, steps: steps(inWindow: 0))
        let naming: (ModelSizeParameter) -> String = {
            $0 == .batchSize ? $0.flag : $0 == .steps ? stepsFlag : $0.rawValue
        }
        if let problem = memory.problem(available: available, subject: subject, naming: naming) { throw problem }
    }
}
