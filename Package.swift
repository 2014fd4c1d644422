// swift-tools-version: 6.1
//
// CharRNN: character-level recurrent language models (RNN, LSTM, GRU) on the CPU.
// Data flows one way (see ../shared/DESIGN.md):
//   C shims → TextCorpus → Tensor → NeuralNet → CharRNN → charrnn (CLI)
import PackageDescription

let package = Package(
    name: "CharRNN",
    products: [
        .executable(name: "charrnn", targets: ["CharRNNCLI"]),
        .library(name: "CharRNN", targets: ["CharRNN"]),
        .library(name: "TextCorpus", targets: ["TextCorpus"]),
        .library(name: "NeuralNet", targets: ["NeuralNet"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        // MARK: System libraries and C shims
        // ICU is wrapped by a C target whose public header uses only <stdint.h> types: Debian renames
        // ICU's symbols by macro (ubrk_open → ubrk_open_72) and ICU's headers clash with Foundation's
        // private ICU copy when both are visible to one Swift module.
        .target(
            name: "CICU",
            linkerSettings: [.linkedLibrary("icuuc"), .linkedLibrary("icudata")]
        ),
        // The GEMM engine and the per-step kernels in C, compiled for AVX-512 or AVX2+FMA inside the
        // functions that need it and chosen at run time, so the package runs on any x86-64 CPU
        // (and elsewhere on the portable kernels).
        .target(name: "CKernels"),
        // Open MPI, opened with dlopen at run time only when mpirun started the process: a plain
        // build and a plain `charrnn train` need no MPI (README "Scaling out").
        .target(name: "CMPI", linkerSettings: [.linkedLibrary("dl")]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // MARK: Library modules
        .target(name: "TextCorpus", dependencies: ["CICU", "CZlib"]),
        .target(name: "Tensor", dependencies: ["CKernels"]),
        .target(name: "NeuralNet", dependencies: ["Tensor", "CKernels", "TextCorpus"]),
        .target(name: "CharRNN", dependencies: ["TextCorpus", "Tensor", "NeuralNet", "CMPI"]),

        // MARK: Command-line tool
        .executableTarget(
            name: "CharRNNCLI",
            dependencies: ["CharRNN", .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),

        // MARK: Tests
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "TextCorpusTests", dependencies: ["TextCorpus", "TestSupport"]),
        .testTarget(name: "TensorTests", dependencies: ["Tensor", "CKernels", "TestSupport"]),
        .testTarget(name: "NeuralNetTests", dependencies: ["NeuralNet", "TestSupport"],
                    resources: [.copy("Fixtures")]),
        .testTarget(name: "CharRNNTests", dependencies: ["CharRNN", "TestSupport"]),
        .testTarget(name: "CLITests", dependencies: ["CharRNNCLI", "Tensor", "TestSupport"]),
    ]
)

// MARK: Fuzz targets (libFuzzer), only when asked
// `scripts/fuzz.sh` sets CHARRNN_FUZZ=1 and builds every module with address sanitizer and
// libFuzzer's coverage instrumentation into .build-fuzz; only the fuzz targets link libFuzzer (the
// charrnn executable keeps its own main). A plain `swift build` / `swift test` never sees them.
// One target per directory in Fuzz/Targets/, seed corpora in Fuzz/corpus/<target>/ (README "Fuzzing").
if Context.environment["CHARRNN_FUZZ"] == "1" {
    let fuzzTargets: [(name: String, dependencies: [Target.Dependency])] = [
        ("FuzzSafetensors", ["CharRNN"]),
        ("FuzzRunConfiguration", ["CharRNN"]),
        ("FuzzVocabulary", ["TextCorpus"]),
        ("FuzzTrainerState", ["CharRNN", "NeuralNet"]),
        ("FuzzCorpusReader", ["TextCorpus"]),
        ("FuzzZipArchive", ["TextCorpus"]),
        ("FuzzUTF8Validation", ["TextCorpus"]),
        ("FuzzLRSchedule", ["NeuralNet", "CharRNN"]),
    ]
    package.targets.append(.target(name: "CFuzzDriver", path: "Fuzz/Targets/CFuzzDriver"))
    package.targets.append(.target(name: "FuzzSupport", path: "Fuzz/Targets/FuzzSupport"))
    for (name, dependencies) in fuzzTargets {
        package.targets.append(.executableTarget(name: name, dependencies: dependencies + ["CFuzzDriver", "FuzzSupport"],
                                                 path: "Fuzz/Targets/\(name)",
                                                 linkerSettings: [.unsafeFlags(["-sanitize=fuzzer,address"])]))
        package.products.append(.executable(name: name, targets: [name]))
    }
}
