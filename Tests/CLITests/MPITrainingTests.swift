import Foundation
import Testing
import TestSupport
@testable import CharRNNCLI

/// `mpirun -np N charrnn train …`: the same losses as one process within a derived bound, resume on a
/// different number of ranks, detected weight mismatches, and failing ranks that end the job.
/// Skipped when Open MPI's `mpirun` is not installed.
///
/// ## The bound (why the losses may differ at all, and by how much)
/// With the per-stream dropout masks (`StreamDropoutKey`) every rank computes, for its streams,
/// exactly the rows one process computes: the same kernels on the same inputs. What differs is
/// only the order of summation:
/// 1. the window loss, a Double sum of n = T·B per-token losses (one process: chunks of rows; N
///    ranks: per rank, then all-reduced, with one extra × n_r / N round trip). Two orders of a
///    sum of n non-negative terms differ by at most 2·γ_n·L with γ_n = n·2⁻⁵³/(1 − n·2⁻⁵³) in
///    Double, plus a few ulps for the round trip: ε₁ = (n + 4N)·2⁻⁵²·L. At step 1 (same weights)
///    this is the whole difference.
/// 2. every gradient element, a Float sum over the n token rows (GEMMs over the rows, then the
///    all-reduce over ranks): two orders of m = n + N terms differ by at most 2·γ_m·Σ|terms|,
///    u = 2⁻²⁴. Writing Σ|terms| ≤ κ·|sum| (κ the condition number of the sum; about √n for
///    terms of random sign, and κ = 100 is taken as the ceiling for these tiny models), a
///    gradient's relative change is δ = 2·γ_m·κ.
/// 3. one SGD update changes by η·2·c·δ in norm when clipping to c fires (u ↦ c·u/‖u‖ moves by
///    at most 2c·‖Δg‖/‖g‖), or by η·δ·‖g‖ without clipping. Over k − 1 updates the weights
///    differ by at most (k − 1)·η·(that)·A, with A = 2 allowing the growth (1 + ηΛ)^k of an
///    earlier difference through the loss's curvature Λ over these few steps.
/// 4. the loss of step k then differs by at most ε₁ + G_k·‖Δθ‖ (first order; G_k the gradient
///    norm, logged as grad_norm).
/// The bound is loose (observed differences are ~10⁻⁹ where it allows ~10⁻⁴), but a wrong mask,
/// a wrong weighting of an uneven split (3 ranks over 7 streams) or a missed bucket moves the
/// losses by 10⁻³ or more from step 1 or 2 on.
@Suite(.serialized, .enabled(if: MPIJob.available, "mpirun (openmpi-bin) is not installed"))
struct MPITrainingTests {
    typealias CLI = CorpusCommandTests

    static func flags(cell: String, batch: Int, clip: Double, steps: Int = 6) -> [String] {
        ["--cell", cell, "--hidden", "16", "--embed", "8", "--layers", "2", "--bptt", "10", "--batch", "\(batch)",
         "--max-steps", "\(steps)", "--eval-every", "3", "--checkpoint-every", "3", "--threads", "1",
         "--optimizer", "sgd", "--lr", "\(lr)", "--clip-norm", "\(clip)", "--dropout", "0.3", "--embed-dropout", "0.1",
         "--val-batch", "5", "--quiet"]
    }
    static let lr = 0.5

    /// A corpus of real text (the shared one when present, else a fixed one).
    static func corpus(in root: URL) throws -> String {
        let url = root.appendingPathComponent("corpus.txt")
        if let shared = SharedCorpora.url("tinyshakespeare.txt"), let data = FileManager.default.contents(atPath: shared.path) {
            try data.prefix(12_000).write(to: url)
        } else {
            try Data(String(repeating: TrainEvalGenerateCommandTests.corpusText, count: 8).utf8).write(to: url)
        }
        return url.path
    }

    struct Record { var kind: String; var step: Int; var loss: Double; var gradNorm: Double?; var clipped: Bool? }

    static func records(_ out: String) throws -> [Record] {
        try String(contentsOfFile: "\(out)/metrics.jsonl", encoding: .utf8).split(separator: "\n").compactMap { line in
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            guard let kind = object["kind"] as? String, kind != "resume", let loss = object["loss"] as? Double,
                  let step = object["step"] as? Int else { return nil }
            return Record(kind: kind, step: step, loss: loss, gradNorm: object["grad_norm"] as? Double,
                          clipped: object["clipped"] as? Bool)
        }
    }

    /// Checks `parallel`'s losses against `single`'s within the bound of the suite's comment.
    static func expectWithinBound(_ single: [Record], _ parallel: [Record], tokens n: Int, ranks: Int, clip: Double) {
        #expect(single.count == parallel.count && !single.isEmpty)
        let u = 0x1p-24, m = Double(n + ranks), kappa = 100.0, growth = 2.0
        let delta = 2 * (m * u / (1 - m * u)) * kappa
        let gradNorms = single.compactMap(\.gradNorm)
        let updateChange = clip > 0 ? 2 * clip * delta : delta * (gradNorms.max() ?? 0)
        for (a, b) in zip(single, parallel) {
            #expect(a.kind == b.kind && a.step == b.step)
            let epsilon1 = Double(n + 4 * ranks) * 0x1p-52 * abs(a.loss)
            let g = single.first { $0.kind == "train" && $0.step == a.step }?.gradNorm ?? (gradNorms.max() ?? 0)
            let bound = epsilon1 + g * growth * Double(a.step - 1) * lr * updateChange
            #expect(abs(a.loss - b.loss) <= bound, "\(a.kind) step \(a.step): \(a.loss) vs \(b.loss), bound \(bound)")
        }
    }

    @Test(arguments: ["lstm", "gru"])
    func sameLossesAsOneProcess(cell: String) throws {
        let root = try SharedCorpora.temporaryDirectory("charrnn-mpi-same-\(cell)")
        defer { try? FileManager.default.removeItem(at: root) }
        let corpus = try Self.corpus(in: root)
        // 2 ranks over 6 streams (3 + 3) and 3 ranks over 7 (2 + 2 + 3); clipping firing at every step,
        // and once without clipping, where a wrong weighting of the uneven split would show.
        for (ranks, batch, clip) in [(2, 6, 0.05), (3, 7, 0.05), (3, 7, 0.0)] {
            let flags = Self.flags(cell: cell, batch: batch, clip: clip)
            let one = root.appendingPathComponent("one-\(ranks)-\(clip)").path
            let single = try CLI.run(["train", corpus, "--out", one] + flags)
            #expect(single.status == 0, "\(single.stderr)")
            let many = root.appendingPathComponent("mpi-\(ranks)-\(clip)").path
            let job = try MPIJob.run(ranks: ranks, ["train", corpus, "--out", many] + flags)
            #expect(job.status == 0, "\(job.stderr)")
            let a = try Self.records(one), b = try Self.records(many)
            #expect(a.filter { $0.kind == "eval" }.count == 2)
            if clip > 0 { #expect(a.filter { $0.kind == "train" }.allSatisfy { $0.clipped == true }) }
            Self.expectWithinBound(a, b, tokens: 10 * batch, ranks: ranks, clip: clip)
            // Only rank 0 wrote: one metrics line per record (no rank appended twice).
            #expect(b.filter { $0.kind == "train" }.map(\.step) == Array(1...6))
        }
    }

    @Test func resumesOnADifferentNumberOfRanks() throws {
        let root = try SharedCorpora.temporaryDirectory("charrnn-mpi-resume")
        defer { try? FileManager.default.removeItem(at: root) }
        let corpus = try Self.corpus(in: root)
        let flags = Self.flags(cell: "lstm", batch: 6, clip: 0.05, steps: 9)
        let one = root.appendingPathComponent("one").path
        #expect(try CLI.run(["train", corpus, "--out", one] + flags).status == 0)
        // 2 ranks to step 3, 3 ranks to step 6, one process to step 9: the streams are re-dealt each time.
        let out = root.appendingPathComponent("mixed").path
        let first = try MPIJob.run(ranks: 2, ["train", corpus, "--out", out] + flags + ["--max-steps", "3"])
        #expect(first.status == 0, "\(first.stderr)")
        let second = try MPIJob.run(ranks: 3, ["train", "--resume", "--out", out, "--max-steps", "6"])
        #expect(second.status == 0, "\(second.stderr)")
        let third = try CLI.run(["train", "--resume", "--out", out, "--max-steps", "9", "--quiet"])
        #expect(third.status == 0, "\(third.stderr)")
        Self.expectWithinBound(try Self.records(one), try Self.records(out), tokens: 60, ranks: 3, clip: 0.05)
    }

    @Test func weightMismatchStopsTheRun() throws {
        let root = try SharedCorpora.temporaryDirectory("charrnn-mpi-mismatch")
        defer { try? FileManager.default.removeItem(at: root) }
        let corpus = try Self.corpus(in: root)
        let out = root.appendingPathComponent("run").path
        let job = try MPIJob.run(ranks: 2, ["train", corpus, "--out", out] + Self.flags(cell: "gru", batch: 4, clip: 1),
                                 environment: ["CHARRNN_TEST_PERTURB_RANK": "1"])
        #expect(job.status != 0)
        let lines = job.stderr.split(separator: "\n").filter { $0.hasPrefix("charrnn: rank") }
        #expect(lines.count == 1, "\(job.stderr)")
        #expect(lines.first?.contains("weights differ across MPI ranks at step 3: rank 1 disagrees with rank 0") == true, "\(job.stderr)")
        // Step 3 was never saved: the run stopped before its checkpoint.
        let state = try String(contentsOfFile: "\(out)/metrics.jsonl", encoding: .utf8)
        #expect(!state.contains("\"kind\":\"eval\""))
        #expect(!FileManager.default.fileExists(atPath: "\(out)/latest/model.safetensors"))
    }

    @Test func aKilledRankEndsTheJobAndLatestStays() throws {
        let root = try SharedCorpora.temporaryDirectory("charrnn-mpi-kill")
        defer { try? FileManager.default.removeItem(at: root) }
        let corpus = try Self.corpus(in: root)
        let out = root.appendingPathComponent("run").path
        var flags = Self.flags(cell: "lstm", batch: 4, clip: 1, steps: 1_000_000)
        flags += ["--checkpoint-every", "2", "--eval-every", "0"]
        let job = try MPIJob.start(ranks: 2, ["train", corpus, "--out", out] + flags)
        let latest = "\(out)/latest/trainer-state.json"
        let deadline = Date().addingTimeInterval(60)
        while !FileManager.default.fileExists(atPath: latest) && Date() < deadline { Thread.sleep(forTimeInterval: 0.1) }
        #expect(FileManager.default.fileExists(atPath: latest))
        let ranks = MPIJob.children(of: job.process.processIdentifier)
        #expect(ranks.count == 2)
        if let victim = ranks.last { kill(victim, SIGKILL) }
        let finished = try job.wait(timeout: 30)
        #expect(finished.status != 0)
        #expect(!finished.timedOut, "mpirun did not end the job after a rank was killed")
        // The last checkpoint is whole: a single process resumes from it.
        let resumed = try CLI.run(["train", "--resume", "--out", out, "--max-steps", "1", "--quiet"])
        #expect(resumed.status == 0, "\(resumed.stderr)")
    }

    @Test func errorsNameTheRankOnOneLine() throws {
        let root = try SharedCorpora.temporaryDirectory("charrnn-mpi-errors")
        defer { try? FileManager.default.removeItem(at: root) }
        let corpus = try Self.corpus(in: root)
        let out = root.appendingPathComponent("run").path
        let flags = Self.flags(cell: "lstm", batch: 4, clip: 1)
        // Standard input reaches rank 0 only.
        let stdin = try MPIJob.run(ranks: 2, ["train", "-", "--out", out] + flags)
        #expect(stdin.status != 0)
        #expect(stdin.stderr.split(separator: "\n").filter { $0.hasPrefix("charrnn: rank") }
                == ["charrnn: rank 0: standard input (-) cannot be the corpus under mpirun: only rank 0 receives it; give files"],
                "\(stdin.stderr)")
        // More ranks than streams.
        let tooMany = try MPIJob.run(ranks: 3, ["train", corpus, "--out", out] + Self.flags(cell: "lstm", batch: 2, clip: 1))
        #expect(tooMany.status != 0)
        #expect(tooMany.stderr.contains("charrnn: rank 0: --batch 2 is smaller than the 3 MPI ranks"), "\(tooMany.stderr)")
        // No libmpi: one line per rank naming it, no crash.
        let missing = try MPIJob.run(ranks: 1, ["train", corpus, "--out", out] + flags,
                                     environment: ["CHARRNN_MPI_LIBRARY": "/nonexistent/libmpi.so.40"])
        #expect(missing.status != 0)
        #expect(missing.stderr.contains("charrnn: rank 0: started by mpirun (OMPI_COMM_WORLD_SIZE is set) but Open MPI cannot be loaded: cannot load /nonexistent/libmpi.so.40"), "\(missing.stderr)")
        #expect(!FileManager.default.fileExists(atPath: "\(out)/metrics.jsonl"))
        // Without mpirun the library is never opened: the same setting changes nothing.
        let plain = try CLI.run(["train", corpus, "--out", out] + flags, environment: ["CHARRNN_MPI_LIBRARY": "/nonexistent/libmpi.so.40"])
        #expect(plain.status == 0, "\(plain.stderr)")
    }
}

/// Runs the built `charrnn` under Open MPI's `mpirun` (as root with `--allow-run-as-root`,
/// `--oversubscribe` for more ranks than cores, no core binding so ranks do not share one core).
enum MPIJob {
    static let mpirun: URL? = {
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":") {
            let url = URL(fileURLWithPath: String(folder)).appendingPathComponent("mpirun")
            if FileManager.default.isExecutableFile(atPath: url.path) { return url }
        }
        return nil
    }()
    static var available: Bool { mpirun != nil }

    struct Started {
        var process: Process
        var stdout: URL, stderr: URL, scratch: URL

        /// Waits up to `timeout` seconds; past it the mpirun process is terminated (`timedOut`).
        func wait(timeout: Double) throws -> (status: Int32, stdout: String, stderr: String, timedOut: Bool) {
            let deadline = Date().addingTimeInterval(timeout)
            while process.isRunning && Date() < deadline { Thread.sleep(forTimeInterval: 0.05) }
            let timedOut = process.isRunning
            if timedOut {
                process.terminate()
                process.waitUntilExit()
            }
            defer { try? FileManager.default.removeItem(at: scratch) }
            return (process.terminationStatus, String(decoding: try Data(contentsOf: stdout), as: UTF8.self),
                    String(decoding: try Data(contentsOf: stderr), as: UTF8.self), timedOut)
        }
    }

    static func start(ranks: Int, _ arguments: [String], environment: [String: String] = [:]) throws -> Started {
        let process = Process()
        process.executableURL = try #require(mpirun)
        process.arguments = ["--allow-run-as-root", "--oversubscribe", "--bind-to", "none", "-np", "\(ranks)",
                             try CorpusCommandTests.binary().path] + arguments
        var env = ProcessInfo.processInfo.environment
        for (key, value) in environment { env[key] = value }
        process.environment = env
        let scratch = try SharedCorpora.temporaryDirectory("charrnn-mpirun")
        let out = scratch.appendingPathComponent("stdout"), err = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: out.path, contents: nil)
        _ = FileManager.default.createFile(atPath: err.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: out)
        process.standardError = try FileHandle(forWritingTo: err)
        process.standardInput = FileHandle.nullDevice
        try process.run()
        return Started(process: process, stdout: out, stderr: err, scratch: scratch)
    }

    /// Runs a job to its end (at most `timeout` seconds).
    static func run(ranks: Int, _ arguments: [String], environment: [String: String] = [:],
                    timeout: Double = 120) throws -> (status: Int32, stdout: String, stderr: String) {
        let result = try start(ranks: ranks, arguments, environment: environment).wait(timeout: timeout)
        #expect(!result.timedOut, "mpirun \(arguments) did not finish in \(timeout) s")
        return (result.status, result.stdout, result.stderr)
    }

    /// The processes whose parent is `parent` (mpirun's ranks), from /proc.
    static func children(of parent: Int32) -> [Int32] {
        let entries = (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? []
        return entries.compactMap { Int32($0) }.filter { pid in
            guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
                  let close = stat.lastIndex(of: ")") else { return false }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            return fields.count > 2 && Int32(fields[1]) == parent
        }.sorted()
    }
}
