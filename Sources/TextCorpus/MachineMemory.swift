import Foundation

/// How much memory this process may use, and overflow-safe byte arithmetic for memory-need estimates.
///
/// Every size that comes from an option or a file (model widths, batch, window, corpus length) is turned
/// into a byte count with `MemorySize.product`/`sum` (nil when the count does not fit in `Int`) and compared
/// with `MachineMemory.available` before anything is allocated.
public enum MachineMemory {
    /// Bytes this process may use: the machine's physical memory (`sysconf(_SC_PHYS_PAGES)` × page size),
    /// or a smaller cgroup limit (`memory.max`, v2, or `memory.limit_in_bytes`, v1) when one is set.
    /// The environment variable `CHARRNN_MEMORY_LIMIT` (bytes, or with a K/M/G/T suffix, powers of 1024)
    /// lowers it further, for tests and for sharing a machine.
    ///
    /// Physical memory rather than `MemAvailable`: the estimate is the same from one run to the next (so
    /// a refusal is reproducible), and memory held by the page cache is available to a process that asks.
    public static var available: Int {
        var limit = physical
        for path in ["/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"] {
            if let text = try? String(contentsOfFile: path, encoding: .utf8),
               let value = Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), value > 0 {
                limit = min(limit, value)
            }
        }
        if let text = ProcessInfo.processInfo.environment["CHARRNN_MEMORY_LIMIT"], let value = parse(text) {
            limit = min(limit, value)
        }
        return limit
    }

    /// Physical memory in bytes (`Int.max` when the system does not say).
    public static var physical: Int {
        let pages = sysconf(Int32(_SC_PHYS_PAGES)), size = sysconf(Int32(_SC_PAGESIZE))
        guard pages > 0, size > 0 else { return Int.max }
        return MemorySize.product(pages, size) ?? Int.max
    }

    /// "123", "64K", "512M", "2G", "1T" (powers of 1024) → bytes; nil for anything else.
    public static func parse(_ text: String) -> Int? {
        var digits = text.trimmingCharacters(in: .whitespaces)
        var scale = 1
        if let last = digits.last, let shift = ["K": 10, "M": 20, "G": 30, "T": 40][String(last).uppercased()] {
            scale = 1 << shift
            digits.removeLast()
        }
        guard let value = Int(digits), value > 0 else { return nil }
        return MemorySize.product(value, scale)
    }
}

/// Overflow-safe byte counts and their one-line description.
public enum MemorySize {
    /// The product of `factors`, or nil when one is negative or the product overflows `Int`.
    public static func product(_ factors: Int...) -> Int? { product(factors) }

    /// The product of `factors`, or nil when one is negative or the product overflows `Int`.
    public static func product(_ factors: [Int]) -> Int? {
        var result = 1
        for factor in factors {
            guard factor >= 0 else { return nil }
            let (value, overflow) = result.multipliedReportingOverflow(by: factor)
            if overflow { return nil }
            result = value
        }
        return result
    }

    /// The sum of `terms`, or nil when one is nil or negative, or the sum overflows `Int`.
    public static func sum(_ terms: [Int?]) -> Int? {
        var result = 0
        for term in terms {
            guard let term, term >= 0 else { return nil }
            let (value, overflow) = result.addingReportingOverflow(term)
            if overflow { return nil }
            result = value
        }
        return result
    }

    /// "512 bytes", "3.4 MiB", "48 TiB" (powers of 1024); nil (an overflowed count) is "more than 8 EiB".
    public static func describe(_ bytes: Int?) -> String {
        guard let bytes else { return "more than 8 EiB" }
        if bytes < 1024 { return "\(bytes) bytes" }
        let units = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"]
        var value = Double(bytes) / 1024, index = 0
        while value >= 1024 && index < units.count - 1 { value /= 1024; index += 1 }
        let rounded = value >= 10 ? String(Int(value.rounded())) : String(format: "%.1f", value)
        return "\(rounded) \(units[index])"
    }
}

/// A size from an option or a file that would need more memory than the machine has.
public struct MemoryNeedError: Error, Equatable, Sendable, CustomStringConvertible {
    /// How the size is named to the user: a flag (`--hidden`) or a file key (`config.json: hiddenSize`).
    public var parameter: String
    /// The value given.
    public var value: Int
    /// What would be allocated ("the model", "the corpus").
    public var subject: String
    /// Bytes needed; nil when the count overflows `Int`.
    public var need: Int?
    /// Bytes available (`MachineMemory.available`).
    public var available: Int

    public init(parameter: String, value: Int, subject: String, need: Int?, available: Int) {
        self.parameter = parameter; self.value = value; self.subject = subject
        self.need = need; self.available = available
    }

    /// "--hidden 1000000000: the model would need 48 TiB of memory; this machine has 24 GiB".
    public var description: String {
        "\(parameter) \(value): \(subject) would need \(MemorySize.describe(need)) of memory; "
            + "this machine has \(MemorySize.describe(available))"
    }

    /// Throws when `need` (nil: overflowed) exceeds `available`.
    public static func check(_ need: Int?, parameter: String, value: Int, subject: String,
                             available: Int = MachineMemory.available) throws {
        if let need, need <= available { return }
        throw MemoryNeedError(parameter: parameter, value: value, subject: subject, need: need, available: available)
    }
}
