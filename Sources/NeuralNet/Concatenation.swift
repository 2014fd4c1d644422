import Tensor

/// The input of a reader (a recurrent layer or the decoder): the concatenation, in order, of the
/// plan's segments (`ModelPlan.Segment`), T·B×`width`.
///
/// Named buffer: `buffer`, used only when there is more than one segment; with one segment the
/// reader reads its source's rows directly (no copy). Backward adds each segment's columns of
/// ∂L/∂input into its source's gradient buffer.
final class Concatenation<Scalar: Real> {
    /// The segments, in order; their widths add up to `width`.
    let segments: [ModelPlan.Segment]
    /// Features per row.
    let width: Int
    private var buffer = AlignedBuffer<Scalar>(count: 0)   // T·B×width when segments > 1
    /// Rows the workspaces hold.
    private(set) var capacity = 0
    /// The input of the last forward (a source's rows or the buffer) and its row count; nil before
    /// the first forward.
    private(set) var record: (input: UnsafeMutablePointer<Scalar>, rows: Int)?

    init(segments: [ModelPlan.Segment], width: Int) {
        self.segments = segments
        self.width = width
    }

    /// Whether the input is copied into the stage's buffer (more than one segment).
    var copies: Bool { segments.count > 1 }

    /// Makes the buffer hold `rows` rows. It only grows; growing forgets the last forward (its
    /// sources may have moved too).
    func reserve(rows: Int) {
        guard rows > capacity else { return }
        capacity = rows
        buffer = AlignedBuffer(count: copies ? rows * width : 0)
        record = nil
    }

    /// The input for `n` rows, each source's rows given by `source`: the one source's rows, or
    /// the segments copied side by side into the buffer.
    @discardableResult
    func forward(rows n: Int, from source: (ModelPlan.Source) -> UnsafeMutablePointer<Scalar>)
        -> UnsafeMutablePointer<Scalar> {
        precondition(n <= capacity, "concatenation: \(n) rows, the buffer holds \(capacity) (reserve first)")
        let input: UnsafeMutablePointer<Scalar>
        if copies {
            input = buffer.pointer.baseAddress!
            for segment in segments {
                Kernels.copy(source(segment.source), srcStride: segment.width, into: input + segment.offset,
                             dstStride: width, rows: n, cols: segment.width)
            }
        } else {
            input = source(segments[0].source)
        }
        record = (input, n)
        return input
    }

    /// The input of the last forward.
    var input: UnsafeMutablePointer<Scalar> {
        guard let record else { preconditionFailure("concatenation: no forward yet") }
        return record.input
    }

    /// Adds ∂L/∂input (the last forward's rows × `width`) into each source's gradient, given by
    /// `gradient`.
    func backward(_ dInput: UnsafePointer<Scalar>, into gradient: (ModelPlan.Source) -> UnsafeMutablePointer<Scalar>) {
        guard let record else { preconditionFailure("concatenation: backward needs a forward first") }
        for segment in segments {
            Kernels.add(dInput + segment.offset, srcStride: width, into: gradient(segment.source),
                        dstStride: segment.width, rows: record.rows, cols: segment.width)
        }
    }

    /// Base addresses of the workspaces (for tests that check nothing is reallocated).
    var workspaceAddresses: [UnsafeRawPointer] { [UnsafeRawPointer(buffer.pointer.baseAddress!)] }
}
