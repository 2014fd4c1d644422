import Testing
@testable import NeuralNet

@Suite struct ModelKindsTests {
    @Test func gateCountsMatchPyTorch() {
        #expect(CellKind.rnn.gateCount == 1)
        #expect(CellKind.lstm.gateCount == 4)
        #expect(CellKind.gru.gateCount == 3)
        #expect(CellKind(rawValue: "lstm") == .lstm)
        #expect(SkipMode(rawValue: "dense") == .dense)
    }
}
