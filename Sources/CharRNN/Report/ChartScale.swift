import Foundation

/// A map from data values to pixels along one axis, linear or base-10 logarithmic, with tick marks.
struct ChartScale {
    enum Kind { case linear, log }

    let kind: Kind
    /// Data domain (for log: both > 0).
    let low: Double
    let high: Double
    /// Pixel range: `low` maps to `start`, `high` to `end`.
    let start: Double
    let end: Double

    /// A scale covering `values` (non-finite values and, for log scales, values ≤ 0 ignored),
    /// widened to round numbers. `includeZero` forces 0 into a linear domain.
    init(kind: Kind, values: [Double], start: Double, end: Double, includeZero: Bool = false,
         fixed: ClosedRange<Double>? = nil) {
        self.kind = kind
        self.start = start
        self.end = end
        let usable = values.filter { $0.isFinite && (kind == .linear || $0 > 0) }
        var lo = usable.min() ?? (kind == .log ? 1 : 0)
        var hi = usable.max() ?? (kind == .log ? 10 : 1)
        if let fixed { lo = fixed.lowerBound; hi = fixed.upperBound }
        switch kind {
        case .linear:
            if includeZero { lo = min(lo, 0); hi = max(hi, 0) }
            if hi == lo { lo -= 1; hi += 1 }
            if fixed == nil {
                let step = ChartScale.niceStep((hi - lo) / 5)
                lo = (lo / step).rounded(.down) * step
                hi = (hi / step).rounded(.up) * step
            }
        case .log:
            if fixed == nil {
                lo = pow(10, log10(lo).rounded(.down))
                hi = pow(10, log10(hi).rounded(.up))
            }
            if hi <= lo { hi = lo * 10 }
        }
        low = lo
        high = hi
    }

    /// 1, 2 or 5 × a power of ten, at least `raw`.
    static func niceStep(_ raw: Double) -> Double {
        guard raw > 0 && raw.isFinite else { return 1 }
        let power = pow(10, log10(raw).rounded(.down))
        for factor in [1.0, 2.0, 5.0, 10.0] where factor * power >= raw * 0.999 { return factor * power }
        return 10 * power
    }

    /// Pixel position of `value` (log: value must be > 0).
    func position(_ value: Double) -> Double {
        let fraction: Double
        switch kind {
        case .linear: fraction = (value - low) / (high - low)
        case .log: fraction = (log10(value) - log10(low)) / (log10(high) - log10(low))
        }
        return start + fraction * (end - start)
    }

    /// Whether `value` can be drawn on this scale.
    func accepts(_ value: Double) -> Bool { value.isFinite && (kind == .linear || value > 0) }

    /// Tick values: round steps for linear; powers of ten for log (plus 2 and 5 multiples when
    /// the domain spans at most two decades; every other power when it spans more than ten).
    var ticks: [Double] {
        switch kind {
        case .linear:
            let step = ChartScale.niceStep((high - low) / 5)
            var values: [Double] = []
            var v = (low / step).rounded(.up) * step
            while v <= high + step * 1e-9 {
                values.append(abs(v) < step * 1e-9 ? 0 : v)
                v += step
            }
            return values
        case .log:
            let first = Int(log10(low).rounded(.down)), last = Int(log10(high).rounded(.up))
            let decades = last - first
            var values: [Double] = []
            for e in first...last {
                if decades > 10 && (e - first) % 2 != 0 { continue }
                let base = pow(10, Double(e))
                values.append(base)
                if decades <= 2 { values += [2 * base, 5 * base] }
            }
            return values.filter { $0 >= low * 0.999 && $0 <= high * 1.001 }
        }
    }

    /// A short label for a tick value.
    func label(_ value: Double) -> String {
        ChartScale.format(value, log: kind == .log)
    }

    static func format(_ value: Double, log: Bool = false) -> String {
        if value == 0 { return "0" }
        let magnitude = abs(value)
        if log || magnitude >= 1e5 || magnitude < 1e-3 {
            let exponent = Int(log10(magnitude).rounded(.down))
            let mantissa = value / pow(10, Double(exponent))
            if abs(mantissa - 1) < 1e-9 { return "1e\(exponent)" }
            if magnitude >= 1e-3 && magnitude < 1e5 { return trimmed(value) }
            return "\(trimmed(mantissa))e\(exponent)"
        }
        return trimmed(value)
    }

    private static func trimmed(_ value: Double) -> String {
        var s = String(format: "%.4f", value)
        while s.contains(".") && (s.hasSuffix("0") || s.hasSuffix(".")) { s.removeLast() }
        return s
    }
}
