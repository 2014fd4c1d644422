import CKernels

/// CPU features of the hand-written kernels.
public enum KernelFeatures {
    /// Forces the portable kernels (`true`) or restores the automatic choice; for tests comparing
    /// the two.
    public static func forcePortable(_ on: Bool) { ck_force_portable(on ? 1 : 0) }

    /// The GEMM and cell kernels the calling thread runs: "avx512", "avx2" (AVX2+FMA) or "portable".
    public static var kernelName: String {
        switch ck_gemm_isa() {
        case Int32(CK_ISA_AVX512): "avx512"
        case Int32(CK_ISA_AVX2): "avx2"
        default: "portable"
        }
    }

    /// The kernels the matrix products run with `operands`: `kernelName` for f32; for bf16,
    /// "bf16-avx512bf16" (the AVX512-BF16 dot-product kernel) or "bf16-emulated-<kernel>" (fused
    /// multiply-adds computing the same bits, on CPUs without it).
    public static func kernelName(operands: OperandPrecision) -> String {
        guard operands == .bf16 else { return kernelName }
        return bf16DotProducts ? "bf16-avx512bf16" : "bf16-emulated-\(kernelName)"
    }
    /// Whether the calling thread's bf16 products run the AVX512-BF16 dot-product kernel (not its
    /// emulation).
    public static var bf16DotProducts: Bool { ck_bf16_dot_kernel() != 0 }
    /// Forces the emulation of the bf16 dot-product kernel on the calling thread (`true`) or
    /// restores the automatic choice; for tests comparing the two.
    public static func forceBF16Emulation(_ on: Bool) { ck_force_bf16_emulation(on ? 1 : 0) }
    /// Whether the CPU has AVX512-BF16 dot products.
    public static var bf16: Bool { ck_has_bf16() != 0 }

    /// The machine's arithmetic peak in GFLOP/s on `threads` threads: f32 fused multiply-adds at the
    /// width of `kernelName`'s kernels, or (`bf16`) bf16 dot products, nil when the CPU has none.
    /// The best of `rounds` measurements of about `seconds` each.
    public static func peakGFLOPs(bf16: Bool = false, threads: Int, seconds: Double = 0.25, rounds: Int = 3) -> Double? {
        if bf16 && !self.bf16 { return nil }
        let kind = Int32(bf16 ? CK_PEAK_BF16 : CK_PEAK_F32)
        return (0..<max(1, rounds)).map { _ in ck_peak_gflops(kind, Int32(max(1, threads)), seconds) }.max()
    }
}
