/// Conversions between Float (f32) and the other floating-point element types of safetensors.
///
/// Widening to f32 is exact for F16 and BF16 (every value of theirs is an f32 value); F64 is
/// rounded to the nearest f32 (ties to even). Narrowing from f32 rounds to nearest, ties to even:
/// the result is within half a unit in the last place, a relative error of at most 2⁻¹¹ for F16
/// (11 significant bits) and 2⁻⁸ for BF16 (8 significant bits) in their normal ranges. A finite
/// f32 that rounds beyond the target's finite range is refused (`TensorConversionError.overflow`)
/// rather than written as infinity; infinities and NaNs stay what they are.
extension SafetensorsDType {
    /// True for the element types weights can be read from (F32, F16, BF16, F64).
    public var isFloatingPoint: Bool {
        switch self {
        case .f32, .f16, .bf16, .f64: true
        case .i32, .i64, .u8: false
        }
    }

    /// The element types `charrnn export` writes.
    public static let exportable: [SafetensorsDType] = [.f32, .f16, .bf16]

    /// Element `index` of little-endian `bytes` in this (floating-point) type, as Float.
    @inline(__always)
    func loadFloat(_ bytes: UnsafeRawBufferPointer, at index: Int) -> Float {
        switch self {
        case .f32:
            return Float(bitPattern: UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: index * 4, as: UInt32.self)))
        case .f16:
            return Float(Float16(bitPattern: UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self))))
        case .bf16:
            let bits = UInt16(littleEndian: bytes.loadUnaligned(fromByteOffset: index * 2, as: UInt16.self))
            return Float(bitPattern: UInt32(bits) << 16)
        case .f64:
            return Float(Double(bitPattern: UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self))))
        case .i32, .i64, .u8:
            preconditionFailure("\(rawValue) is not a floating-point type")
        }
    }
}

/// A tensor's values do not fit the element type asked for.
public enum TensorConversionError: Error, Equatable, CustomStringConvertible {
    /// `value` (element `index` of `tensor`) is finite but beyond the largest finite value of `dtype`.
    case overflow(tensor: String, index: Int, value: Float, dtype: SafetensorsDType)

    public var description: String {
        switch self {
        case .overflow(let tensor, let index, let value, let dtype):
            "tensor \(tensor): element \(index) is \(value), beyond the finite range of \(dtype.rawValue) "
                + "(±\(dtype == .f16 ? "65504" : "3.39e38")); export it as f32"
        }
    }
}

/// Rounding of f32 values to the narrower types.
enum FloatNarrowing {
    /// The BF16 bit pattern nearest to `value` (ties to even); NaN stays a quiet NaN of the same sign.
    static func bf16Bits(_ value: Float) -> UInt16 {
        let bits = value.bitPattern
        if value.isNaN { return UInt16(truncatingIfNeeded: bits >> 16) | 0x0040 }
        // Adding 0x7FFF plus the lowest kept bit rounds to nearest with ties to the even pattern;
        // the carry may ripple into the exponent, which is the correct next binade (or infinity).
        let rounded = bits &+ 0x7FFF &+ ((bits >> 16) & 1)
        return UInt16(truncatingIfNeeded: rounded >> 16)
    }

    /// `values` as little-endian bytes of `dtype` (`.f32`, `.f16` or `.bf16`); `name` names the
    /// tensor in the error when a finite value would become infinite.
    static func bytes(of values: UnsafeBufferPointer<Float>, as dtype: SafetensorsDType, name: String) throws -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: values.count * dtype.size)
        try bytes.withUnsafeMutableBytes { raw in
            for (index, value) in values.enumerated() {
                switch dtype {
                case .f32:
                    raw.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: index * 4, as: UInt32.self)
                case .f16:
                    let half = Float16(value)
                    if half.isInfinite && value.isFinite {
                        throw TensorConversionError.overflow(tensor: name, index: index, value: value, dtype: .f16)
                    }
                    raw.storeBytes(of: half.bitPattern.littleEndian, toByteOffset: index * 2, as: UInt16.self)
                case .bf16:
                    let pattern = bf16Bits(value)
                    if pattern & 0x7FFF == 0x7F80 && value.isFinite {
                        throw TensorConversionError.overflow(tensor: name, index: index, value: value, dtype: .bf16)
                    }
                    raw.storeBytes(of: pattern.littleEndian, toByteOffset: index * 2, as: UInt16.self)
                case .f64, .i32, .i64, .u8:
                    preconditionFailure("cannot narrow to \(dtype.rawValue)")
                }
            }
        }
        return bytes
    }
}

extension SafetensorsTensor {
    /// The index of the first F64 element that is finite but beyond f32's range (it would load as
    /// infinity), or nil; nil for every other dtype, which widen to f32 exactly.
    public var firstElementBeyondFloat: Int? {
        guard dtype == .f64 else { return nil }
        return bytes.withUnsafeBytes { raw in
            (0..<count).first { index in
                let value = Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self)))
                return value.isFinite && Float(value).isInfinite
            }
        }
    }
}
