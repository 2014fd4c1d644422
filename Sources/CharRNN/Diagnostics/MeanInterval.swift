import Foundation

/// The mean of a few repeated measurements (e.g. one per training seed) with a two-sided 95 %
/// confidence interval from Student's t distribution with n − 1 degrees of freedom:
/// mean ± t₀.₉₇₅(n − 1) · s / √n, where s is the sample standard deviation (divisor n − 1).
///
/// The interval assumes the measurements are independent draws from a normal distribution; with
/// 3 seeds it is wide (t₀.₉₇₅(2) ≈ 4.30), which is the honest price of few seeds.
public struct MeanInterval: Codable, Sendable, Equatable {
    /// Number of measurements.
    public var count: Int
    /// Their arithmetic mean.
    public var mean: Double
    /// Sample standard deviation (divisor n − 1); nil for a single measurement.
    public var standardDeviation: Double?
    /// Half the width of the 95 % interval, t₀.₉₇₅(n − 1) · s / √n; nil for a single measurement.
    public var halfWidth: Double?

    /// The interval of `samples`; nil when there are none or one is not finite.
    public init?(samples: [Double]) {
        guard !samples.isEmpty, samples.allSatisfy(\.isFinite) else { return nil }
        count = samples.count
        mean = samples.reduce(0, +) / Double(samples.count)
        guard samples.count >= 2, let t = Self.studentT975(degreesOfFreedom: samples.count - 1) else {
            standardDeviation = nil; halfWidth = nil
            return
        }
        let m = mean
        let variance = samples.reduce(0) { $0 + ($1 - m) * ($1 - m) } / Double(samples.count - 1)
        standardDeviation = variance.squareRoot()
        halfWidth = t * variance.squareRoot() / Double(samples.count).squareRoot()
    }

    /// Lower end of the interval (the mean for a single measurement).
    public var lower: Double { mean - (halfWidth ?? 0) }
    /// Upper end of the interval (the mean for a single measurement).
    public var upper: Double { mean + (halfWidth ?? 0) }

    /// `0.912 ± 0.034` (or `0.912` for a single measurement), with `format` for both numbers.
    public func formatted(_ format: String = "%.3f") -> String {
        let center = String(format: format, mean)
        guard let halfWidth else { return center }
        return center + " ± " + String(format: format, halfWidth)
    }

    /// The 0.975 quantile of Student's t distribution with `degreesOfFreedom` (ν ≥ 1) degrees of
    /// freedom: exact tabulated values (4 decimals) for ν = 1…30, 40, 60, 120; for ν between table
    /// entries the value of the next smaller tabulated ν (slightly wider, never narrower); 1.9600
    /// (the normal quantile) above 120 would be too narrow by < 0.02, so ν > 120 uses ν = 120's.
    /// Nil for ν < 1.
    public static func studentT975(degreesOfFreedom nu: Int) -> Double? {
        guard nu >= 1 else { return nil }
        if nu <= 30 { return t975[nu - 1] }
        if nu < 40 { return t975[29] }
        if nu < 60 { return 2.0211 }
        if nu < 120 { return 2.0003 }
        return 1.9799
    }

    /// t₀.₉₇₅(ν) for ν = 1…30.
    static let t975: [Double] = [
        12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281,
        2.2010, 2.1788, 2.1604, 2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860,
        2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518, 2.0484, 2.0452, 2.0423,
    ]
}
