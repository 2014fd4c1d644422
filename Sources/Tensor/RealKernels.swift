/// The per-array kernels behind `Kernels`, `CellKernels` and `ModelKernels`, as requirements of
/// `Real` with default implementations. Generic code calls `S._name(...)` through the witness
/// table, and each conformance's witness runs the loop specialized for its concrete type, so a
/// caller that is itself unspecialized (e.g. `LanguageModel<Float>` used from another module)
/// still gets vectorized concrete loops. Call the documented wrappers, not these.
public protocol RealKernels {
    static func _broadcastRows(_ row: UnsafePointer<Self>, into matrix: UnsafeMutablePointer<Self>, rows: Int, cols: Int)
    static func _broadcastRowSum(_ a: UnsafePointer<Self>, _ b: UnsafePointer<Self>, into matrix: UnsafeMutablePointer<Self>, rows: Int, cols: Int)
    static func _addColumnSums(_ matrix: UnsafePointer<Self>, rows: Int, cols: Int, into sums: UnsafeMutablePointer<Self>)
    static func _copy(_ src: UnsafePointer<Self>, srcStride: Int, into dst: UnsafeMutablePointer<Self>, dstStride: Int, rows: Int, cols: Int)
    static func _add(_ src: UnsafePointer<Self>, srcStride: Int, into dst: UnsafeMutablePointer<Self>, dstStride: Int, rows: Int, cols: Int)
    static func _sum(_ a: UnsafePointer<Self>, _ b: UnsafePointer<Self>, into out: UnsafeMutablePointer<Self>, count: Int)
    static func _multiply(_ x: UnsafeMutablePointer<Self>, by factor: UnsafePointer<Self>, count: Int)
    static func _sumOfSquares(_ x: UnsafePointer<Self>, count: Int) -> Double
    static func _softmaxCrossEntropy(logits: UnsafePointer<Self>, rows: Int, cols: Int, targets: UnsafePointer<Int32>, logSumExp: UnsafeMutablePointer<Self>) -> Double
    static func _softmaxCrossEntropyBackward(logits: UnsafePointer<Self>, rows: Int, cols: Int, targets: UnsafePointer<Int32>, logSumExp: UnsafePointer<Self>, scale: Self, grad: UnsafeMutablePointer<Self>)
    static func _exp(_ x: UnsafeMutablePointer<Self>, count: Int)
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

    public static func _addColumnSums(_ matrix: UnsafePointer<Self>, rows: Int, cols: Int, into sums: UnsafeMutablePointer<Self>) {
        for r in 0..<rows {
            let row = matrix + r * cols
            for j in 0..<cols { sums[j] += row[j] }
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
        var total = 0.0
        for r in 0..<rows {
            let row = logits + r * cols
            var m = row[0]
            for j in 1..<cols { m = Swift.max(m, row[j]) }
            var s: Self = 0
            for j in 0..<cols { s += kernelExp(row[j] - m) }
            let lse = m + kernelLog(s)
            logSumExp[r] = lse
            total += Double(lse - row[Int(targets[r])])
        }
        return total
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

    public static func _exp(_ x: UnsafeMutablePointer<Self>, count: Int) {
        for i in 0..<count { x[i] = kernelExp(x[i]) }
    }

    public static func _tanh(_ x: UnsafeMutablePointer<Self>, count: Int) {
        for i in 0..<count { x[i] = kernelTanh(x[i]) }
    }

    public static func _lstmForward(batch: Int, hidden h: Int, gates: UnsafeMutablePointer<Self>, cPrev: UnsafePointer<Self>,
        c: UnsafeMutablePointer<Self>, tanhC: UnsafeMutablePointer<Self>, hOut: UnsafeMutablePointer<Self>) {
        for b in 0..<batch {
            let g = gates + b * 4 * h, cp = cPrev + b * h
            let co = c + b * h, tco = tanhC + b * h, ho = hOut + b * h
            for j in 0..<h {
                let iv = kernelSigmoid(g[j])
                let fv = kernelSigmoid(g[h + j])
                let gv = kernelTanh(g[2 * h + j])
                let ov = kernelSigmoid(g[3 * h + j])
                g[j] = iv; g[h + j] = fv; g[2 * h + j] = gv; g[3 * h + j] = ov
                let cv = fv * cp[j] + iv * gv
                let tc = kernelTanh(cv)
                co[j] = cv; tco[j] = tc; ho[j] = ov * tc
            }
        }
    }

    public static func _lstmBackward(batch: Int, hidden h: Int, dOut: UnsafePointer<Self>, dhCarry: UnsafePointer<Self>,
        dcCarry: UnsafeMutablePointer<Self>, gates: UnsafePointer<Self>, cPrev: UnsafePointer<Self>,
        tanhC: UnsafePointer<Self>, dGates: UnsafeMutablePointer<Self>, dh: UnsafeMutablePointer<Self>,
        dc: UnsafeMutablePointer<Self>) {
        for b in 0..<batch {
            let g = gates + b * 4 * h, dg = dGates + b * 4 * h
            let o = b * h
            for j in 0..<h {
                let iv = g[j], fv = g[h + j], gv = g[2 * h + j], ov = g[3 * h + j]
                let tc = tanhC[o + j]
                let dhv = dOut[o + j] + dhCarry[o + j]
                let dcv = dcCarry[o + j] + dhv * ov * (1 - tc * tc)
                dg[j] = dcv * gv * iv * (1 - iv)
                dg[h + j] = dcv * cPrev[o + j] * fv * (1 - fv)
                dg[2 * h + j] = dcv * iv * (1 - gv * gv)
                dg[3 * h + j] = dhv * tc * ov * (1 - ov)
                dh[o + j] = dhv
                dc[o + j] = dcv
                dcCarry[o + j] = dcv * fv
            }
        }
    }

    public static func _gruForward(batch: Int, hidden h: Int, gx: UnsafeMutablePointer<Self>, gh: UnsafePointer<Self>,
        hPrev: UnsafePointer<Self>, hOut: UnsafeMutablePointer<Self>) {
        for b in 0..<batch {
            let x = gx + b * 3 * h, hh = gh + b * 3 * h
            let o = b * h
            for j in 0..<h {
                let r = kernelSigmoid(x[j] + hh[j])
                let z = kernelSigmoid(x[h + j] + hh[h + j])
                let n = kernelTanh(x[2 * h + j] + r * hh[2 * h + j])
                let hp = hPrev[o + j]
                x[j] = r; x[h + j] = z; x[2 * h + j] = n
                hOut[o + j] = (1 - z) * n + z * hp
            }
        }
    }

    public static func _gruBackward(batch: Int, hidden h: Int, dOut: UnsafePointer<Self>, dhCarry: UnsafeMutablePointer<Self>,
        gates: UnsafePointer<Self>, gh: UnsafePointer<Self>, hPrev: UnsafePointer<Self>,
        dGx: UnsafeMutablePointer<Self>, dGh: UnsafeMutablePointer<Self>, dh: UnsafeMutablePointer<Self>) {
        for b in 0..<batch {
            let g = gates + b * 3 * h, hh = gh + b * 3 * h
            let dx = dGx + b * 3 * h, dhh = dGh + b * 3 * h
            let o = b * h
            for j in 0..<h {
                let r = g[j], z = g[h + j], n = g[2 * h + j]
                let dhv = dOut[o + j] + dhCarry[o + j]
                let dnPre = dhv * (1 - z) * (1 - n * n)
                let dzPre = dhv * (hPrev[o + j] - n) * z * (1 - z)
                let drPre = dnPre * hh[2 * h + j] * r * (1 - r)
                dx[j] = drPre; dx[h + j] = dzPre; dx[2 * h + j] = dnPre
                dhh[j] = drPre; dhh[h + j] = dzPre; dhh[2 * h + j] = dnPre * r
                dh[o + j] = dhv
                dhCarry[o + j] = dhv * z
            }
        }
    }

    public static func _rnnForward(count: Int, pre: UnsafePointer<Self>, hOut: UnsafeMutablePointer<Self>) {
        for i in 0..<count { hOut[i] = kernelTanh(pre[i]) }
    }

    public static func _rnnBackward(count: Int, dOut: UnsafePointer<Self>, dhCarry: UnsafePointer<Self>, hOut: UnsafePointer<Self>,
        dPre: UnsafeMutablePointer<Self>, dh: UnsafeMutablePointer<Self>) {
        for i in 0..<count {
            let dhv = dOut[i] + dhCarry[i]
            let hv = hOut[i]
            dh[i] = dhv
            dPre[i] = dhv * (1 - hv * hv)
        }
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
