import Testing
@testable import Tensor

@Suite struct ParameterSetTests {
    @Test func slotsAreContiguousInRegistrationOrder() {
        var layout = ParameterLayout()
        let a = layout.add("encoder.weight", shape: [5, 3])
        let b = layout.add("rnn.bias_ih_l0", shape: [8])
        #expect(a.offset == 0 && a.count == 15)
        #expect(b.offset == 15 && b.range == 15..<23)
        #expect(layout.totalCount == 23)
        #expect(layout.slot(named: "rnn.bias_ih_l0") == b)
        #expect(layout.slot(named: "missing") == nil)
    }

    @Test func slotViewsAliasTheFlatBuffers() {
        var layout = ParameterLayout()
        let a = layout.add("a", shape: [2, 2])
        let b = layout.add("b", shape: [3])
        let set = ParameterSet<Float>(layout: layout)
        set.values(b)[1] = 7
        set.gradients(a)[3] = -2
        #expect(set.values[5] == 7)
        #expect(set.gradients[3] == -2)
        set.zeroGradients()
        #expect(set.gradients.array.allSatisfy { $0 == 0 })
        #expect(set.values[5] == 7)
    }

    @Test func bufferIsAlignedAndCopiesDeeply() {
        let buffer = AlignedBuffer<Double>([1, 2, 3])
        #expect(Int(bitPattern: buffer.pointer.baseAddress!) % 64 == 0)
        let copy = buffer.copy()
        copy[0] = 9
        #expect(buffer[0] == 1 && copy.array == [9, 2, 3])
    }
}
