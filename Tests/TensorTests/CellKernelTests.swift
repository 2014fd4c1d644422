import CKernels
import Foundation
import Testing
@testable import Tensor

/// The Float cell kernels (C, AVX-512 or portable) against the generic Double kernels on the same
/// inputs, and the C e^x / tanh approximations against libm with the bounds of `FastMath`.
@Suite(.serialized) struct CellKernelTests {
    static func random(_ n: Int, _ rng: inout RNG, scale: Float = 3) -> [Float] {
        (0..<n).map { _ in (rng.nextFloat() * 2 - 1) * scale }
    }

    /// Max of |a − b| / (1 + |b|).
    static func worst(_ a: [Float], _ b: [Double]) -> Double {
        zip(a, b).map { abs(Double($0) - $1) / (1 + abs($1)) }.max() ?? 0
    }

    @Test(arguments: [false, true])
    func lstmMatchesDouble(portable: Bool) {
        KernelFeatures.forcePortable(portable)
        defer { KernelFeatures.forcePortable(false) }
        let b = 3, h = 37
        var rng = RNG(seed: 11)
        let gates = Self.random(b * 4 * h, &rng), cPrev = Self.random(b * h, &rng)
        var g32 = gates, c32 = [Float](repeating: 0, count: b * h), t32 = c32, h32 = c32
        var g64 = gates.map(Double.init), c64 = [Double](repeating: 0, count: b * h), t64 = c64, h64 = c64
        let cp64 = cPrev.map(Double.init)
        Float._lstmForward(batch: b, hidden: h, gates: &g32, cPrev: cPrev, c: &c32, tanhC: &t32, hOut: &h32)
        Double._lstmForward(batch: b, hidden: h, gates: &g64, cPrev: cp64, c: &c64, tanhC: &t64, hOut: &h64)
        for (x, y) in [(g32, g64), (c32, c64), (t32, t64), (h32, h64)] { #expect(Self.worst(x, y) < 2e-6) }

        let dOut = Self.random(b * h, &rng), dhC = Self.random(b * h, &rng), dcC = Self.random(b * h, &rng)
        var dc32 = dcC, dG32 = [Float](repeating: 0, count: b * 4 * h), dh32 = dOut, dcOut32 = dOut
        var dc64 = dcC.map(Double.init), dG64 = [Double](repeating: 0, count: b * 4 * h)
        var dh64 = dOut.map(Double.init), dcOut64 = dh64
        Float._lstmBackward(batch: b, hidden: h, dOut: dOut, dhCarry: dhC, dcCarry: &dc32, gates: g32, cPrev: cPrev,
                            tanhC: t32, dGates: &dG32, dh: &dh32, dc: &dcOut32)
        Double._lstmBackward(batch: b, hidden: h, dOut: dOut.map(Double.init), dhCarry: dhC.map(Double.init),
                             dcCarry: &dc64, gates: g32.map(Double.init), cPrev: cp64, tanhC: t32.map(Double.init),
                             dGates: &dG64, dh: &dh64, dc: &dcOut64)
        for (x, y) in [(dc32, dc64), (dG32, dG64), (dh32, dh64), (dcOut32, dcOut64)] { #expect(Self.worst(x, y) < 1e-6) }
    }

    @Test(arguments: [false, true])
    func gruAndRnnMatchDouble(portable: Bool) {
        KernelFeatures.forcePortable(portable)
        defer { KernelFeatures.forcePortable(false) }
        let b = 2, h = 45
        var rng = RNG(seed: 12)
        let gx = Self.random(b * 3 * h, &rng), gh = Self.random(b * 3 * h, &rng), hPrev = Self.random(b * h, &rng, scale: 1)
        var gx32 = gx, h32 = [Float](repeating: 0, count: b * h)
        var gx64 = gx.map(Double.init), h64 = [Double](repeating: 0, count: b * h)
        Float._gruForward(batch: b, hidden: h, gx: &gx32, gh: gh, hPrev: hPrev, hOut: &h32)
        Double._gruForward(batch: b, hidden: h, gx: &gx64, gh: gh.map(Double.init), hPrev: hPrev.map(Double.init), hOut: &h64)
        #expect(Self.worst(gx32, gx64) < 2e-6)
        #expect(Self.worst(h32, h64) < 2e-6)

        let dOut = Self.random(b * h, &rng), dhC = Self.random(b * h, &rng)
        var dhC32 = dhC, dGx32 = [Float](repeating: 0, count: b * 3 * h), dGh32 = dGx32, dh32 = dOut
        var dhC64 = dhC.map(Double.init), dGx64 = [Double](repeating: 0, count: b * 3 * h), dGh64 = dGx64
        var dh64 = dOut.map(Double.init)
        Float._gruBackward(batch: b, hidden: h, dOut: dOut, dhCarry: &dhC32, gates: gx32, gh: gh, hPrev: hPrev,
                           dGx: &dGx32, dGh: &dGh32, dh: &dh32)
        Double._gruBackward(batch: b, hidden: h, dOut: dOut.map(Double.init), dhCarry: &dhC64, gates: gx32.map(Double.init),
                            gh: gh.map(Double.init), hPrev: hPrev.map(Double.init), dGx: &dGx64, dGh: &dGh64, dh: &dh64)
        for (x, y) in [(dhC32, dhC64), (dGx32, dGx64), (dGh32, dGh64), (dh32, dh64)] { #expect(Self.worst(x, y) < 1e-6) }

        let pre = Self.random(100, &rng)
        var r32 = [Float](repeating: 0, count: 100), r64 = [Double](repeating: 0, count: 100)
        Float._rnnForward(count: 100, pre: pre, hOut: &r32)
        Double._rnnForward(count: 100, pre: pre.map(Double.init), hOut: &r64)
        #expect(Self.worst(r32, r64) < 1e-6)
    }

    /// The C approximations keep FastMath's bounds: e^x within 4e-7 relative on [−87, 88] and
    /// tanh within 6e-7 on [−10, 10], in both the AVX-512 and the portable build.
    @Test(arguments: [false, true])
    func approximationsKeepTheirBounds(portable: Bool) {
        KernelFeatures.forcePortable(portable)
        defer { KernelFeatures.forcePortable(false) }
        let xs = stride(from: Float(-87), through: 88, by: 1e-3).map { $0 }
        var ys = [Float](repeating: 0, count: xs.count)
        ck_exp(Int64(xs.count), xs, &ys)
        let expWorst = zip(xs, ys).map { abs(Double($1) - Foundation.exp(Double($0))) / Foundation.exp(Double($0)) }.max()!
        #expect(expWorst < 4e-7, "exp \(expWorst)")
        let ts = stride(from: Float(-10), through: 10, by: 1e-4).map { $0 } + [1e-30, 1e-10, 0.2499, 0.25, 0.2501]
        var tys = [Float](repeating: 0, count: ts.count)
        ck_tanh(Int64(ts.count), ts, &tys)
        let tanhWorst = zip(ts, tys).compactMap { x, y -> Double? in
            let e = Foundation.tanh(Double(x)); return e == 0 ? nil : abs(Double(y) - e) / abs(e)
        }.max()!
        #expect(tanhWorst < 6e-7, "tanh \(tanhWorst)")
    }
}
