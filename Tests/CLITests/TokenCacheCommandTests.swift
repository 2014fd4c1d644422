import Foundation
import Testing
import TestSupport

/// `--token-cache DIR|off` on `corpus inspect` / `train` (issue 13, item 6), through the built binary.
@Suite struct TokenCacheCommandTests {
    static func run(_ arguments: [String], environment: [String: String] = [:], stdin: Data? = nil) throws -> CorpusCommandTests.Run {
        try CorpusCommandTests.run(arguments, stdin: stdin, environment: environment)
    }

    static func entries(_ directory: URL) -> [String] {
        ((try? FileManager.default.subpathsOfDirectory(atPath: directory.path)) ?? []).sorted()
    }

    /// A text of `bytes` bytes (ASCII lines with a few accented letters).
    static func text(bytes: Int) -> String {
        let line = "Nel mezzo del cammin di nostra vita, mi ritrovai per una selva oscura; perché la diritta via era smarrita.\n"
        let repeats = bytes / line.utf8.count + 1
        return String(String(repeating: line, count: repeats).utf8.prefix(bytes))!
    }

    @Test func offWritesNothingAndTheDefaultCachesOnlyLargeInputs() throws {
        let root = try SharedCorpora.temporaryDirectory("token-cache-cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let big = root.appendingPathComponent("big.txt"), small = root.appendingPathComponent("small.txt")
        try Data(Self.text(bytes: 9 << 20).utf8).write(to: big)
        try Data(Self.text(bytes: 200_000).utf8).write(to: small)
        let xdg = root.appendingPathComponent("xdg"), environment = ["XDG_CACHE_HOME": xdg.path]
        let off = try Self.run(["corpus", "inspect", big.path, "--json", "--token-cache", "off"], environment: environment)
        #expect(off.status == 0, "\(off.stderr)")
        #expect(!FileManager.default.fileExists(atPath: xdg.path), "\(Self.entries(xdg))")
        let smallRun = try Self.run(["corpus", "inspect", small.path, "--json"], environment: environment)
        #expect(smallRun.status == 0)
        #expect(!FileManager.default.fileExists(atPath: xdg.path), "a small input was cached: \(Self.entries(xdg))")
        // The default: 9 MiB is cached under $XDG_CACHE_HOME/charrnn/tokens, and the cached run prints the same.
        let cold = try Self.run(["corpus", "inspect", big.path, "--json"], environment: environment)
        let files = Self.entries(xdg.appendingPathComponent("charrnn/tokens"))
        #expect(files.count == 1 && files.first?.hasSuffix(".tokens") == true, "\(Self.entries(xdg))")
        let warm = try Self.run(["corpus", "inspect", big.path, "--json"], environment: environment)
        #expect(cold.status == 0 && warm.status == 0)
        #expect(cold.stdout == off.stdout && warm.stdout == off.stdout)
        #expect(cold.stderr.isEmpty && warm.stderr.isEmpty, "\(cold.stderr)\(warm.stderr)")
    }

    @Test func aDirectoryCachesAnySizeAndStandardInputNever() throws {
        let root = try SharedCorpora.temporaryDirectory("token-cache-cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let corpus = root.appendingPathComponent("c.txt"), cache = root.appendingPathComponent("cache")
        try Data(Self.text(bytes: 50_000).utf8).write(to: corpus)
        let arguments = ["corpus", "inspect", corpus.path, "--unit", "byte", "--json", "--token-cache", cache.path]
        let first = try Self.run(arguments), second = try Self.run(arguments)
        #expect(first.status == 0 && second.status == 0, "\(first.stderr)")
        #expect(first.stdout == second.stdout)
        #expect(Self.entries(cache).count == 1)
        let piped = try Self.run(["corpus", "inspect", "-", "--json", "--token-cache", root.appendingPathComponent("stdin-cache").path],
                                 stdin: Data(Self.text(bytes: 5_000).utf8))
        #expect(piped.status == 0, "\(piped.stderr)")
        #expect(!FileManager.default.fileExists(atPath: root.appendingPathComponent("stdin-cache").path))
    }

    @Test func aCorruptCacheIsOneWarningAndTheSameResult() throws {
        let root = try SharedCorpora.temporaryDirectory("token-cache-cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let corpus = root.appendingPathComponent("c.txt"), cache = root.appendingPathComponent("cache")
        try Data(Self.text(bytes: 50_000).utf8).write(to: corpus)
        let arguments = ["corpus", "inspect", corpus.path, "--json", "--token-cache", cache.path]
        let first = try Self.run(arguments)
        let name = try #require(Self.entries(cache).first)
        let file = cache.appendingPathComponent(name)
        let handle = try FileHandle(forUpdating: file)
        try handle.truncate(atOffset: 5_000)
        try handle.close()
        let damaged = try Self.run(arguments)
        #expect(damaged.status == 0)
        #expect(damaged.stdout == first.stdout)
        #expect(damaged.stderr.hasPrefix("charrnn: warning: token cache ") && damaged.stderr.contains(name)
                && damaged.stderr.contains(": corrupt (5000 bytes, but ") && damaged.stderr.hasSuffix("(truncated?)); rebuilding it\n")
                && damaged.stderr.split(separator: "\n").count == 1, "\(damaged.stderr)")
        let again = try Self.run(arguments)
        #expect(again.stderr.isEmpty, "\(again.stderr)")
    }

    /// Two processes building the same cache at once (as MPI ranks starting together): both succeed with
    /// the same output, and one complete file is left, no temporary one.
    @Test func concurrentProcessesLeaveOneValidFile() throws {
        let root = try SharedCorpora.temporaryDirectory("token-cache-cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let corpus = root.appendingPathComponent("c.txt"), cache = root.appendingPathComponent("cache")
        try Data(Self.text(bytes: 3 << 20).utf8).write(to: corpus)
        let arguments = ["corpus", "inspect", corpus.path, "--json", "--token-cache", cache.path]
        var processes: [(Process, URL)] = []
        for k in 0..<3 {
            let process = Process()
            process.executableURL = try CorpusCommandTests.binary()
            process.arguments = arguments
            let out = root.appendingPathComponent("out\(k)")
            _ = FileManager.default.createFile(atPath: out.path, contents: nil)
            process.standardOutput = try FileHandle(forWritingTo: out)
            process.standardError = FileHandle.nullDevice
            processes.append((process, out))
        }
        for (process, _) in processes { try process.run() }
        for (process, _) in processes { process.waitUntilExit() }
        let outputs = try processes.map { try String(contentsOf: $0.1, encoding: .utf8) }
        #expect(processes.allSatisfy { $0.0.terminationStatus == 0 })
        #expect(Set(outputs).count == 1 && !(outputs.first ?? "").isEmpty)
        #expect(Self.entries(cache).count == 1 && Self.entries(cache).first?.hasSuffix(".tokens") == true, "\(Self.entries(cache))")
        let warm = try Self.run(arguments)
        #expect(warm.stdout == outputs.first && warm.stderr.isEmpty, "\(warm.stderr)")
    }

    @Test func badInputGivesTheSameErrorWithACache() throws {
        let root = try SharedCorpora.temporaryDirectory("token-cache-cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let invalid = root.appendingPathComponent("bad.txt"), cache = root.appendingPathComponent("cache")
        try Data(Array("some text ".utf8) + [0xC3, 0x28] + Array(" more".utf8)).write(to: invalid)
        for path in [invalid.path, root.appendingPathComponent("missing.txt").path] {
            let with = try Self.run(["corpus", "inspect", path, "--token-cache", cache.path])
            let without = try Self.run(["corpus", "inspect", path, "--token-cache", "off"])
            #expect(with.status == 1 && without.status == 1)
            #expect(with.stderr == without.stderr && with.stderr.hasPrefix("charrnn: error: \(path): "), "\(with.stderr)")
            #expect(with.stderr.split(separator: "\n").count == 1)
        }
        #expect(!FileManager.default.fileExists(atPath: cache.path))
        let empty = try Self.run(["corpus", "inspect", invalid.path, "--token-cache", ""])
        #expect(empty.status != 0 && empty.stderr.contains("--token-cache"), "\(empty.stderr)")
    }

    /// A run trained on a cold cache resumes on the mapped corpus (same fingerprint as without a cache).
    @Test func trainResumesOnTheMappedCorpus() throws {
        let root = try SharedCorpora.temporaryDirectory("token-cache-cli")
        defer { try? FileManager.default.removeItem(at: root) }
        let corpus = root.appendingPathComponent("c.txt"), cache = root.appendingPathComponent("cache")
        try Data(Self.text(bytes: 60_000).utf8).write(to: corpus)
        func train(_ out: String, _ extra: [String]) throws -> CorpusCommandTests.Run {
            try Self.run(["train", corpus.path, "--hidden", "8", "--layers", "1", "--embed", "4", "--batch", "4", "--bptt", "8",
                          "--eval-every", "0", "--quiet", "--out", root.appendingPathComponent(out).path] + extra)
        }
        func fingerprint(_ out: String) throws -> String? {
            let data = try Data(contentsOf: root.appendingPathComponent("\(out)/latest/config.json"))
            let object = try JSONSerialization.jsonObject(with: data) as? [String: Any]
            return (object?["corpus"] as? [String: Any])?["fingerprint"] as? String
        }
        let cold = try train("a", ["--max-steps", "2", "--token-cache", cache.path])
        #expect(cold.status == 0, "\(cold.stderr)")
        #expect(Self.entries(cache).count == 1)
        let resumed = try train("a", ["--max-steps", "4", "--resume", "--token-cache", cache.path])
        #expect(resumed.status == 0, "\(resumed.stderr)")
        let plain = try train("b", ["--max-steps", "2", "--token-cache", "off"])
        #expect(plain.status == 0, "\(plain.stderr)")
        let a = try fingerprint("a"), b = try fingerprint("b")
        #expect(a != nil && a == b)
    }
}
