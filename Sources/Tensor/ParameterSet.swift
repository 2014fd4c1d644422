/// One named parameter tensor inside a `ParameterLayout`: its PyTorch name, its shape (row-major)
/// and where its elements start in the flat buffer.
public struct ParameterSlot: Sendable, Equatable, Hashable {
    /// PyTorch state-dict name, e.g. `rnn.weight_hh_l0`.
    public let name: String
    /// Row-major shape, e.g. `[4 * H, H]`.
    public let shape: [Int]
    /// Index of the first element in the flat buffer.
    public let offset: Int
    /// Number of elements (product of `shape`).
    public var count: Int { shape.reduce(1, *) }
    /// Half-open element range in the flat buffer.
    public var range: Range<Int> { offset..<(offset + count) }
}

/// The layout of all parameters of a model in one flat buffer: slots in registration order,
/// contiguous, no gaps. Values, gradients, optimizer moments and checkpoints all share it, so a
/// clip, an optimizer step or a write is one pass over one buffer.
public struct ParameterLayout: Sendable, Equatable {
    /// Slots in registration order; `slots[i+1].offset == slots[i].offset + slots[i].count`.
    public private(set) var slots: [ParameterSlot] = []
    /// Total number of scalars.
    public private(set) var totalCount: Int = 0

    public init() {}

    /// Appends a slot named `name` with `shape` and returns it. Names must be unique.
    @discardableResult
    public mutating func add(_ name: String, shape: [Int]) -> ParameterSlot {
        precondition(slot(named: name) == nil, "duplicate parameter name \(name)")
        precondition(shape.allSatisfy { $0 >= 0 }, "negative dimension in \(name)")
        let slot = ParameterSlot(name: name, shape: shape, offset: totalCount)
        slots.append(slot)
        totalCount += slot.count
        return slot
    }

    /// The slot called `name`, if any.
    public func slot(named name: String) -> ParameterSlot? {
        slots.first { $0.name == name }
    }
}

/// A model's parameters and their gradients, each one flat buffer laid out by `layout`.
///
/// Layers hold `ParameterSlot`s and read/write `values`/`gradients` through them; backward passes
/// *add* into `gradients`, so the caller zeroes them once per step.
public final class ParameterSet<Scalar: BinaryFloatingPoint & Sendable>: @unchecked Sendable {
    public let layout: ParameterLayout
    /// All parameter values, `layout.totalCount` scalars.
    public let values: AlignedBuffer<Scalar>
    /// All gradients, same layout as `values`.
    public let gradients: AlignedBuffer<Scalar>

    /// Zero-filled values and gradients for `layout`.
    public init(layout: ParameterLayout) {
        self.layout = layout
        values = AlignedBuffer(count: layout.totalCount)
        gradients = AlignedBuffer(count: layout.totalCount)
    }

    /// The values of one slot.
    public func values(_ slot: ParameterSlot) -> UnsafeMutableBufferPointer<Scalar> {
        UnsafeMutableBufferPointer(rebasing: values.pointer[slot.range])
    }

    /// The gradients of one slot.
    public func gradients(_ slot: ParameterSlot) -> UnsafeMutableBufferPointer<Scalar> {
        UnsafeMutableBufferPointer(rebasing: gradients.pointer[slot.range])
    }

    /// Sets all gradients to zero.
    public func zeroGradients() { gradients.zero() }
}
