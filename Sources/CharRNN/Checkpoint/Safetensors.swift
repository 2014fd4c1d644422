import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Element types of safetensors tensors that CharRNN reads and writes (see `TensorDType.swift`
/// for the floating-point conversions).
public enum SafetensorsDType: String, Sendable, CaseIterable {
    case f32 = "F32", f16 = "F16", bf16 = "BF16", f64 = "F64", i32 = "I32", i64 = "I64", u8 = "U8"

    /// Bytes per element.
    public var size: Int {
        switch self {
        case .f32, .i32: 4
        case .f16, .bf16: 2
        case .f64, .i64: 8
        case .u8: 1
        }
    }
}

/// One tensor to write: its name, shape (row-major) and little-endian element bytes.
public struct SafetensorsTensor: Sendable, Equatable {
    public var name: String
    public var dtype: SafetensorsDType
    public var shape: [Int]
    /// Little-endian element bytes, `shape.product × dtype.size` of them.
    public var bytes: [UInt8]

    public init(name: String, dtype: SafetensorsDType, shape: [Int], bytes: [UInt8]) {
        self.name = name; self.dtype = dtype; self.shape = shape; self.bytes = bytes
    }

    /// A float32 tensor from `values` (count must equal the product of `shape`).
    public init(name: String, shape: [Int], floats values: UnsafeBufferPointer<Float>) {
        precondition(values.count == shape.reduce(1, *), "\(name): \(values.count) values for shape \(shape)")
        var bytes = [UInt8](repeating: 0, count: values.count * 4)
        bytes.withUnsafeMutableBytes { raw in
            for (index, value) in values.enumerated() {
                raw.storeBytes(of: value.bitPattern.littleEndian, toByteOffset: index * 4, as: UInt32.self)
            }
        }
        self.init(name: name, dtype: .f32, shape: shape, bytes: bytes)
    }

    /// A float32 tensor from an array.
    public init(name: String, shape: [Int], floats values: [Float]) {
        self = values.withUnsafeBufferPointer { SafetensorsTensor(name: name, shape: shape, floats: $0) }
    }

    /// A tensor of `dtype` (`.f32`, `.f16` or `.bf16`) holding `values` rounded to nearest, ties to
    /// even (count must equal the product of `shape`). Throws `TensorConversionError.overflow`
    /// naming the tensor when a finite value is beyond the type's finite range.
    public init(name: String, shape: [Int], floats values: UnsafeBufferPointer<Float>, as dtype: SafetensorsDType) throws {
        precondition(values.count == shape.reduce(1, *), "\(name): \(values.count) values for shape \(shape)")
        precondition(SafetensorsDType.exportable.contains(dtype), "cannot write \(dtype.rawValue) from floats")
        self.init(name: name, dtype: dtype, shape: shape, bytes: try FloatNarrowing.bytes(of: values, as: dtype, name: name))
    }

    /// Number of elements (`bytes.count / dtype.size`).
    public var count: Int { bytes.count / dtype.size }

    /// The elements as Float (only for floating-point dtypes): exact for F32, F16 and BF16, F64
    /// rounded to nearest.
    public var floats: [Float] {
        [Float](unsafeUninitializedCapacity: count) { buffer, initialized in
            copyFloats(into: buffer)
            initialized = count
        }
    }

    /// Copies the elements into `destination` as Float (count must match; floating-point dtypes
    /// only), converting as `floats` does.
    public func copyFloats(into destination: UnsafeMutableBufferPointer<Float>) {
        precondition(dtype.isFloatingPoint && destination.count == count && bytes.count % dtype.size == 0)
        let dtype = dtype
        bytes.withUnsafeBytes { raw in
            for index in 0..<destination.count { destination[index] = dtype.loadFloat(raw, at: index) }
        }
    }
}

/// The safetensors file format: an 8-byte little-endian header length N, N bytes of JSON header
/// (`{"NAME": {"dtype": "F32", "shape": [..], "data_offsets": [BEGIN, END]}, …, "__metadata__":
/// {"key": "value"}}`), then the data buffer. Offsets are relative to the buffer's start.
///
/// Reading enforces the format's rules: header ≤ 100 MB and valid UTF-8 JSON object, known dtypes,
/// offsets that match the shape, lie in bounds, do not overlap, and together cover the whole
/// buffer with no gap; the file length equals 8 + N + buffer size.
public struct SafetensorsFile: Sendable, Equatable {
    /// Largest header accepted, in bytes.
    public static let maximumHeaderSize = 100_000_000

    /// Tensors in file order (ascending data offset).
    public var tensors: [SafetensorsTensor]
    /// Free-form string metadata (`__metadata__`).
    public var metadata: [String: String]

    public init(tensors: [SafetensorsTensor], metadata: [String: String] = [:]) {
        self.tensors = tensors; self.metadata = metadata
    }

    /// The tensor called `name`, if present.
    public func tensor(_ name: String) -> SafetensorsTensor? { tensors.first { $0.name == name } }

    // MARK: Writing

    /// The file's bytes. Tensors are laid out in array order; the header is padded with spaces to a
    /// multiple of 8 bytes so the buffer is aligned.
    public func serialized() -> Data {
        var header = "{"
        if !metadata.isEmpty {
            let entries = metadata.keys.sorted().map { "\(Self.jsonString($0)):\(Self.jsonString(metadata[$0]!))" }
            header += "\"__metadata__\":{\(entries.joined(separator: ","))}"
        }
        var offset = 0
        for tensor in tensors {
            if header.count > 1 { header += "," }
            let end = offset + tensor.bytes.count
            header += "\(Self.jsonString(tensor.name)):{\"dtype\":\"\(tensor.dtype.rawValue)\","
                + "\"shape\":[\(tensor.shape.map(String.init).joined(separator: ","))],"
                + "\"data_offsets\":[\(offset),\(end)]}"
            offset = end
        }
        header += "}"
        var headerBytes = Array(header.utf8)
        while headerBytes.count % 8 != 0 { headerBytes.append(0x20) }
        var data = Data(capacity: 8 + headerBytes.count + offset)
        withUnsafeBytes(of: UInt64(headerBytes.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: headerBytes)
        for tensor in tensors { data.append(contentsOf: tensor.bytes) }
        return data
    }

    /// Writes the file atomically (temporary file, then rename).
    public func write(to url: URL) throws { try AtomicFile.write(serialized(), to: url) }

    // MARK: Reading

    /// Reads and validates the file at `url`. The file is memory-mapped read-only: the header is
    /// parsed from the mapping after its untrusted length is checked against the file size, and
    /// only the tensors' bytes are copied out (the file is never read into memory whole). The file
    /// must not be truncated in place while it is read (writers here replace files by rename).
    public static func read(from url: URL) throws -> SafetensorsFile {
        let path = url.path
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            if errno == ENOENT { throw CheckpointError.missing(path) }
            throw CheckpointError.malformed(path, "cannot read the file (\(String(cString: strerror(errno))))")
        }
        defer { close(descriptor) }
        var status = stat()
        guard fstat(descriptor, &status) == 0 else {
            throw CheckpointError.malformed(path, "cannot read the file (\(String(cString: strerror(errno))))")
        }
        guard (status.st_mode & S_IFMT) == S_IFREG else {
            throw CheckpointError.malformed(path, "not a regular file")
        }
        let size = Int(status.st_size)
        // mmap refuses an empty length; an empty file is simply too short.
        if size == 0 { return try parse(UnsafeRawBufferPointer(start: nil, count: 0), path: path) }
        guard let mapping = mmap(nil, size, PROT_READ, MAP_PRIVATE, descriptor, 0), mapping != MAP_FAILED else {
            throw CheckpointError.malformed(path, "cannot map the file (\(String(cString: strerror(errno))))")
        }
        defer { munmap(mapping, size) }
        return try parse(UnsafeRawBufferPointer(start: mapping, count: size), path: path)
    }

    /// Parses and validates safetensors bytes; `path` names the source in errors.
    public static func parse(_ data: Data, path: String) throws -> SafetensorsFile {
        try data.withUnsafeBytes { try parse($0, path: path) }
    }

    /// Parses and validates the safetensors bytes in `file` (a whole file; `path` names it in
    /// errors). Every length and offset is checked against `file.count` before it is used.
    public static func parse(_ file: UnsafeRawBufferPointer, path: String) throws -> SafetensorsFile {
        func fail(_ problem: String) -> CheckpointError { .malformed(path, "not a valid safetensors file: \(problem)") }
        guard file.count >= 8 else { throw fail("\(file.count) bytes, shorter than the 8-byte header length") }
        let headerSize = UInt64(littleEndian: file.loadUnaligned(fromByteOffset: 0, as: UInt64.self))
        guard headerSize <= UInt64(maximumHeaderSize) else { throw fail("header length \(headerSize) exceeds 100 MB") }
        guard 8 + Int(headerSize) <= file.count else {
            throw fail("header length \(headerSize) runs past the end of the file (\(file.count) bytes; truncated?)")
        }
        let bufferStart = 8 + Int(headerSize)
        let headerBytes = UnsafeRawBufferPointer(rebasing: file[8..<bufferStart])
        guard headerBytes.first == UInt8(ascii: "{") else { throw fail("header does not start with '{'") }
        guard let json = try? JSONSerialization.jsonObject(with: Data(headerBytes)),
              let object = json as? [String: Any] else { throw fail("header is not a JSON object") }
        let bufferSize = file.count - bufferStart

        var metadata: [String: String] = [:]
        var entries: [(name: String, dtype: SafetensorsDType, shape: [Int], begin: Int, end: Int)] = []
        for (name, value) in object {
            if name == "__metadata__" {
                guard let map = value as? [String: Any] else { throw fail("__metadata__ is not an object") }
                for (key, item) in map {
                    guard let string = item as? String else { throw fail("__metadata__ value for \(key) is not a string") }
                    metadata[key] = string
                }
                continue
            }
            guard let info = value as? [String: Any],
                  let dtypeName = info["dtype"] as? String,
                  let shapeValues = info["shape"] as? [Any],
                  let offsetValues = info["data_offsets"] as? [Any], offsetValues.count == 2 else {
                throw fail("tensor \(name) lacks dtype, shape or data_offsets")
            }
            guard let dtype = SafetensorsDType(rawValue: dtypeName) else {
                throw fail("tensor \(name) has unsupported dtype \(dtypeName) (supported: "
                           + "\(SafetensorsDType.allCases.map(\.rawValue).joined(separator: ", ")))")
            }
            let shape = try shapeValues.map { item -> Int in
                guard let number = item as? NSNumber, let whole = Self.wholeNumber(number) else {
                    throw fail("tensor \(name) has an invalid shape")
                }
                return whole
            }
            let offsets = try offsetValues.map { item -> Int in
                guard let number = item as? NSNumber, let whole = Self.wholeNumber(number) else {
                    throw fail("tensor \(name) has invalid data_offsets")
                }
                return whole
            }
            guard offsets[0] <= offsets[1] else { throw fail("tensor \(name) has data_offsets that end before they begin") }
            guard offsets[1] <= bufferSize else {
                throw fail("tensor \(name) data_offsets [\(offsets[0]), \(offsets[1])] exceed the \(bufferSize)-byte buffer (truncated?)")
            }
            let (elements, overflow) = shape.reduce((1, false)) { partial, dimension in
                let product = partial.0.multipliedReportingOverflow(by: dimension)
                return (product.partialValue, partial.1 || product.overflow)
            }
            let byteCount = elements.multipliedReportingOverflow(by: dtype.size)
            guard !overflow, !byteCount.overflow, byteCount.partialValue == offsets[1] - offsets[0] else {
                let needs = overflow || byteCount.overflow ? "more than Int.max" : "\(byteCount.partialValue)"
                throw fail("tensor \(name) has \(offsets[1] - offsets[0]) bytes but shape \(shape) of \(dtypeName) needs \(needs)")
            }
            entries.append((name, dtype, shape, offsets[0], offsets[1]))
        }
        entries.sort { ($0.begin, $0.end) < ($1.begin, $1.end) }
        var expected = 0
        for entry in entries {
            guard entry.begin == expected else {
                throw fail(entry.begin < expected ? "tensor \(entry.name) overlaps the tensor before it"
                                                  : "gap in the data buffer before tensor \(entry.name)")
            }
            expected = entry.end
        }
        guard expected == bufferSize else {
            throw fail("the tensors cover \(expected) bytes but the buffer holds \(bufferSize)")
        }
        let tensors = entries.map { entry in
            SafetensorsTensor(name: entry.name, dtype: entry.dtype, shape: entry.shape,
                              bytes: Array(UnsafeRawBufferPointer(rebasing: file[(bufferStart + entry.begin)..<(bufferStart + entry.end)])))
        }
        return SafetensorsFile(tensors: tensors, metadata: metadata)
    }

    /// `number` as a non-negative Int when it is a whole number that fits one exactly, else nil.
    private static func wholeNumber(_ number: NSNumber) -> Int? {
        let double = number.doubleValue
        guard double >= 0, double < 9.0e18, double == double.rounded(.towardZero) else { return nil }
        let whole = number.int64Value
        return Double(whole) == double ? Int(whole) : nil
    }

    /// A JSON string literal for `value`.
    static func jsonString(_ value: String) -> String {
        var result = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": result += "\\\""
            case "\\": result += "\\\\"
            case "\n": result += "\\n"
            case "\r": result += "\\r"
            case "\t": result += "\\t"
            case _ where scalar.value < 0x20: result += String(format: "\\u%04x", scalar.value)
            default: result.unicodeScalars.append(scalar)
            }
        }
        return result + "\""
    }
}
