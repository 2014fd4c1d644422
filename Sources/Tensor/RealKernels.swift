/// The per-array kernels behind `Kernels`, `CellKernels` and `ModelKernels`, as requirements of
/// `Real` with default implementations. Generic code calls `S._name(...)` through the witness
/// table, and each conformance's witness runs the loop specialized for its concrete type, so a
/// caller that is itself unspecialized (e.g. `LanguageModel<Float>` used from another module)
/// still gets vectorized concrete loops. Call the documented wrappers, not these.
public protocol RealKernels {
    static func _broadcastRows(_ row: UnsafePointer<Self>, into matrix: UnsafeMutablePointer<Self>, rows: Int, cols: Int)
    static func _broadcastRowSum(_ a: UnsafePointer<Self>, _ b: UnsafePointer<Self>, into matrix: UnsafeMutablePointer<Self>, rows: Int, cols: Int)
    static func _addColumnSums(_ matrix: UnsafePointer<Self>, rows: Int, cols: Int, stride: Int, into sums: UnsafeMutablePointer<Self>,
                               alsoInto second: UnsafeMutablePointer<Self>?)
    static func _copy(_ src: UnsafePointer<Self>, srcStride: Int, into dst: UnsafeMutablePointer<Self>, dstStride: Int, rows: Int, cols: Int)
    static func _add(_ src: UnsafePointer<Self>, srcStride: Int, into dst: UnsafeMutablePointer<Self>, dstStride: Int, rows: Int, cols: Int)
    static func _sum(_ a: UnsafePointer<Self>, _ b: UnsafePointer<Self>, into out: UnsafeMutablePointer<Self>, count: Int)
    static func _multiply(_ x: UnsafeMutablePointer<Self>, by factor: UnsafePointer<Self>, count: Int)
    static func _sumOfSquares(_ x: UnsafePointer<Self>, count: Int) -> Double
    static func _softmaxCrossEntropy(logits: UnsafePointer<Self>, rows: Int, cols: Int, targets: UnsafePointer<Int32>, logSumExp: UnsafeMutablePointer<Self>) -> Double
    static func _softmaxCrossEntropyBackward(logits: UnsafePointer<Self>, rows: Int, cols: Int, targets: UnsafePointer<Int32>, logSumExp: UnsafePointer<Self>, scale: Self, grad: UnsafeMutablePointer<Self>)
    static func _exp(_ x: UnsafeMutablePointer<Self>, count: Int)
    static func _fill(_ x: UnsafeMutablePointer<Self>, count: Int, value: Self)
    static func _tanh(_ x: UnsafeMutablePointer<Self>, count: Int)
    static func _lstmForward(batch: Int, hidden h: Int, gates: UnsafeMutablePointer<Self>, cPrev: UnsafePointer<Self>, c: UnsafeMutablePointer<Self>, tanhC: UnsafeMutablePointer<Self>, hOut: UnsafeMutablePointer<Self>)
    static func _lstmBackward(batch: Int, hidden h: Int, dOut: UnsafePointer<Self>, dhCarry: UnsafePointer<Self>, dcCarry: UnsafeMutablePointer<Self>, gates: UnsafePointer<Self>, cPrev: UnsafePointer<Self>, tanhC: UnsafePointer<Self>, dGates: UnsafeMutablePointer<Self>, dh: UnsafeMutablePointer<Self>, dc: UnsafeMutablePointer<Self>)
    static func _gruForward(batch: Int, hidden h: Int, gx: UnsafeMutablePointer<Self>, gh: UnsafePointer<Self>, hPrev: UnsafePointer<Self>, hOut: UnsafeMutablePointer<Self>)
    static func _gruBackward(batch: Int, hidden h: Int, dOut: UnsafePointer<Self>, dhCarry: UnsafeMutablePointer<Self>, gates: UnsafePointer<Self>, gh: UnsafePointer<Self>, hPrev: UnsafePointer<Self>, dGx: UnsafeMutablePointer<Self>, dGh: UnsafeMutablePointer<Self>, dh: UnsafeMutablePointer<Self>)
    static func _rnnForward(count: Int, pre: UnsafePointer<Self>, hOut: UnsafeMutablePointer<Self>)
    static func _rnnBackward(count: Int, dOut: UnsafePointer<Self>, dhCarry: UnsafePointer<Self>, hOut: UnsafePointer<Self>, dPre: UnsafeMutablePointer<Self>, dh: UnsafeMutablePointer<Self>)
    static func _gatherRows(table: UnsafePointer<Self>, cols: Int, ids: UnsafePointer<Int32>, rows: Int, into out: UnsafeMutablePointer<Self>)
    static func _scatterAddRows(_ rowsIn: UnsafePointer<Self>, cols: Int, ids: UnsafePointer<Int32>, rows: Int, into table: UnsafeMutablePointer<Self>)
    static func _dropoutMask(_ mask: UnsafeMutablePointer<Self>, count: Int, p: Double, rng: inout RNG)
}

extension Real {
    public static func _broadcastRows(_ row: UnsafePointer<Self>, into matrix: UnsafeMutablePointer<Self>, rows: Int, cols: Int) {
        for r in 0..<rows {
            let out = matrix + r * cols
            for j in 0..<cols { out[j] = row[j] }
        }
    }

    public static func _broadcastRowSum(_ a: UnsafePointer<Self>, _ b: UnsafePointer<Self>, into matrix: UnsafeMutablePointer<Self>,
        rows: Int, cols: Int) {
        for r in 0..<rows {
            let out = matrix + r * cols
            for j in 0..<cols { out[j] = a[j] + b[j] }
        }
    }

    public static func _addColumnSums(_ matrix: UnsafePointer<Self>, rows: Int, cols: Int, stride: Int,
                                      into sums: UnsafeMutablePointer<Self>, alsoInto second: UnsafeMutablePointer<Self>?) {
        for r in 0..<rows {
            let row = matrix + r * stride
            for j in 0..<cols { sums[j] += row[j] }
            if let second { for j in 0..<cols { second[j] += row[j] } }
        }
    }

    public static func _copy(_ src: UnsafePointer<Self>, srcStride: Int, into dst: UnsafeMutablePointer<Self>, dstStride: Int,
        rows: Int, cols: Int) {
        for r in 0..<rows {
            let s = src + r * srcStride, d = dst + r * dstStride
            for j in 0..<cols { d[j] = s[j] }
        }
    }

    public static func _add(_ src: UnsafePointer<Self>, srcStride: Int, into dst: UnsafeMutablePointer<Self>, dstStride: Int,
        rows: Int, cols: Int) {
        for r in 0..<rows {
            let s = src + r * srcStride, d = dst + r * dstStride
            for j in 0..<cols { d[j] += s[j] }
        }
    }

    public static func _sum(_ a: UnsafePointer<Self>, _ b: UnsafePointer<Self>, into out: UnsafeMutablePointer<Self>, count: Int) {
        for i in 0..<count { out[i] = a[i] + b[i] }
    }

    public static func _multiply(_ x: UnsafeMutablePointer<Self>, by factor: UnsafePointer<Self>, count: Int) {
        for i in 0..<count { x[i] *= factor[i] }
    }

    public static func _sumOfSquares(_ x: UnsafePointer<Self>, count: Int) -> Double {
        // Blocks of 256 summed in Self (vectorizable), then in Double: error ~ 256 ulp(Self) worst case
        // per block, far below what a norm is used for.
        var total = 0.0
        var start = 0
        while start < count {
            let end = Swift.min(start + 256, count)
            var partial: Self = 0
            for i in start..<end { partial += x[i] * x[i] }
            total += Double(partial)
            start = end
        }
        return total
    }

    public static func _softmaxCrossEntropy(logits: UnsafePointer<Self>, rows: Int, cols: Int, targets: UnsafePointer<Int32>,
        logSumExp: UnsafeMutablePointer<Self>) -> Double {
        // The exponentials of a row go to a buffer first, so that their loop (no reduction in it)
        // vectorizes; the sum then runs in column order as before, so the bits do not change.
        withUnsafeTemporaryAllocation(of: Self.self, capacity: cols) { exps in
            let e = exps.baseAddress!
            var total = 0.0
            for r in 0..<rows {
                let row = logits + r * cols
                var m = row[0]
                for j in 1..<cols { m = Swift.max(m, row[j]) }
                for j in 0..<cols { e[j] = kernelExp(row[j] - m) }
                var s: Self = 0
                for j in 0..<cols { s += e[j] }
                let lse = m + kernelLog(s)
                logSumExp[r] = lse
                total += Double(lse - row[Int(targets[r])])
            }
            return total
        }
    }

    public static func _softmaxCrossEntropyBackward(logits: UnsafePointer<Self>, rows: Int, cols: Int, targets: UnsafePointer<Int32>,
        logSumExp: UnsafePointer<Self>, scale: Self, grad: UnsafeMutablePointer<Self>) {
        for r in 0..<rows {
            let row = logits + r * cols, out = grad + r * cols
            let lse = logSumExp[r]
            for j in 0..<cols { out[j] = scale * kernelExp(row[j] - lse) }
            out[Int(targets[r])] -= scale
        }
    }

    public static func _fill(_ x: UnsafeMutablePointer<Self>, count: Int, value: Self) {
        for i in 0..<count { x[i] = value }
    }

    public static func _exp(_ x: UnsafeMutablePointer<Self>, count: Int) {
        for i in 0..<count { x[i] = kernelExp(x[i]) }
    }

    public static func _tanh(_ x: UnsafeMutablePointer<Self>, count: Int) {
        for i in 0..<count { x[i] = kernelTanh(x[i]) }
    }

    // Cell kernels. Each is split into short loops over at most ~5 pointers: LLVM vectorizes a loop
    // over raw pointers only after proving (by runtime checks, of which it allows few) that they do
    // not overlap, and one fused loop over 8+ pointers stayed scalar (measured: 10× slower).

    public static func _lstmForward(batch: Int, hidden h: Int, gates: UnsafeMutablePointer<Self>, cPrev: UnsafePointer<Self>,
        c: UnsafeMutablePointer<Self>, tanhC: UnsafeMutablePointer<Self>, hOut: UnsafeMutablePointer<Self>) {
        for b in 0..<batch {
            let i = gates + b * 4 * h, f = i + h, g = i + 2 * h, o = i + 3 * h
            let cp = cPrev + b * h, co = c + b * h, tco = tanhC + b * h, ho = hOut + b * h
            for j in 0..<(2 * h) { i[j] = kernelSigmoid(i[j]) }
            for j in 0..<h { g[j] = kernelTanh(g[j]) }
            for j in 0..<h { o[j] = kernelSigmoid(o[j]) }
            for j in 0..<h { co[j] = f[j] * cp[j] + i[j] * g[j] }
            for j in 0..<h { tco[j] = kernelTanh(co[j]) }
            for j in 0..<h { ho[j] = o[j] * tco[j] }
        }
    }

    public static func _lstmBackward(batch: Int, hidden h: Int, dOut: UnsafePointer<Self>, dhCarry: UnsafePointer<Self>,
        dcCarry: UnsafeMutablePointer<Self>, gates: UnsafePointer<Self>, cPrev: UnsafePointer<Self>,
        tanhC: UnsafePointer<Self>, dGates: UnsafeMutablePointer<Self>, dh: UnsafeMutablePointer<Self>,
        dc: UnsafeMutablePointer<Self>) {
        for b in 0..<batch {
            let i = gates + b * 4 * h, f = i + h, g = i + 2 * h, o = i + 3 * h
            let di = dGates + b * 4 * h, df = di + h, dg = di + 2 * h, dO = di + 3 * h
            let r = b * h
            let dOutR = dOut + r, dhCR = dhCarry + r, dcCR = dcCarry + r, tc = tanhC + r, cp = cPrev + r
            let dhR = dh + r, dcR = dc + r
            for j in 0..<h { dhR[j] = dOutR[j] + dhCR[j] }
            for j in 0..<h { dcR[j] = dcCR[j] + dhR[j] * o[j] * (1 - tc[j] * tc[j]) }
            for j in 0..<h { dO[j] = dhR[j] * tc[j] * o[j] * (1 - o[j]) }
            for j in 0..<h { di[j] = dcR[j] * g[j] * i[j] * (1 - i[j]) }
            for j in 0..<h { df[j] = dcR[j] * cp[j] * f[j] * (1 - f[j]) }
            for j in 0..<h { dg[j] = dcR[j] * i[j] * (1 - g[j] * g[j]) }
            for j in 0..<h { dcCR[j] = dcR[j] * f[j] }
        }
    }

    public static func _gruForward(batch: Int, hidden h: Int, gx: UnsafeMutablePointer<Self>, gh: UnsafePointer<Self>,
        hPrev: UnsafePointer<Self>, hOut: UnsafeMutablePointer<Self>) {
        for b in 0..<batch {
            let r = gx + b * 3 * h, z = r + h, n = r + 2 * h
            let hr = gh + b * 3 * h, hn = hr + 2 * h
            let hp = hPrev + b * h, ho = hOut + b * h
            for j in 0..<(2 * h) { r[j] = kernelSigmoid(r[j] + hr[j]) }
            for j in 0..<h { n[j] = kernelTanh(n[j] + r[j] * hn[j]) }
            for j in 0..<h { ho[j] = (1 - z[j]) * n[j] + z[j] * hp[j] }
        }
    }

    public static func _gruBackward(batch: Int, hidden h: Int, dOut: UnsafePointer<Self>, dhCarry: UnsafeMutablePointer<Self>,
        gates: UnsafePointer<Self>, gh: UnsafePointer<Self>, hPrev: UnsafePointer<Self>,
        dGx: UnsafeMutablePointer<Self>, dGh: UnsafeMutablePointer<Self>, dh: UnsafeMutablePointer<Self>) {
        for b in 0..<batch {
            let r = gates + b * 3 * h, z = r + h, n = r + 2 * h
            let hn = gh + b * 3 * h + 2 * h
            let dxr = dGx + b * 3 * h, dxz = dxr + h, dxn = dxr + 2 * h
            let dhr = dGh + b * 3 * h, dhn = dhr + 2 * h
            let o = b * h
            let dOutR = dOut + o, dhCR = dhCarry + o, hp = hPrev + o, dhR = dh + o
            for j in 0..<h { dhR[j] = dOutR[j] + dhCR[j] }
            for j in 0..<h { dxn[j] = dhR[j] * (1 - z[j]) * (1 - n[j] * n[j]) }
            for j in 0..<h { dxz[j] = dhR[j] * (hp[j] - n[j]) * z[j] * (1 - z[j]) }
            for j in 0..<h { dxr[j] = dxn[j] * hn[j] * r[j] * (1 - r[j]) }
            for j in 0..<(2 * h) { dhr[j] = dxr[j] }
            for j in 0..<h { dhn[j] = dxn[j] * r[j] }
            for j in 0..<h { dhCR[j] = dhR[j] * z[j] }
        }
    }

    public static func _rnnForward(count: Int, pre: UnsafePointer<Self>, hOut: UnsafeMutablePointer<Self>) {
        for i in 0..<count { hOut[i] = kernelTanh(pre[i]) }
    }

    public static func _rnnBackward(count: Int, dOut: UnsafePointer<Self>, dhCarry: UnsafePointer<Self>, hOut: UnsafePointer<Self>,
        dPre: UnsafeMutablePointer<Self>, dh: UnsafeMutablePointer<Self>) {
        for i in 0..<count { dh[i] = dOut[i] + dhCarry[i] }
        for i in 0..<count { dPre[i] = dh[i] * (1 - hOut[i] * hOut[i]) }
    }

    public static func _gatherRows(table: UnsafePointer<Self>, cols: Int, ids: UnsafePointer<Int32>, rows: Int,
        into out: UnsafeMutablePointer<Self>) {
        for r in 0..<rows {
            let src = table + Int(ids[r]) * cols, dst = out + r * cols
            for j in 0..<cols { dst[j] = src[j] }
        }
    }

    public static func _scatterAddRows(_ rowsIn: UnsafePointer<Self>, cols: Int, ids: UnsafePointer<Int32>, rows: Int,
        into table: UnsafeMutablePointer<Self>) {
        for r in 0..<rows {
            let src = rowsIn + r * cols, dst = table + Int(ids[r]) * cols
            for j in 0..<cols { dst[j] += src[j] }
        }
    }

    public static func _dropoutMask(_ mask: UnsafeMutablePointer<Self>, count: Int, p: Double, rng: inout RNG) {
        let keep = Self(1 / (1 - p)), threshold = Float(p)
        for i in 0..<count { mask[i] = rng.nextFloat() < threshold ? 0 : keep }
    }
}
