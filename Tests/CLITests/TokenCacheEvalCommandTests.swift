import Foundation
import Testing
import TestSupport

/// `eval --token-cache` and fine-tuning: a corpus encoded with a checkpoint's vocabulary goes through the
/// token cache too, and scores the same from it.
@Suite struct TokenCacheEvalCommandTests {
    @Test func evalCachesTheEncodingAndScoresTheSame() throws {
        let root = try SharedCorpora.temporaryDirectory("token-cache-eval")
        defer { try? FileManager.default.removeItem(at: root) }
        let corpus = root.appendingPathComponent("c.txt"), other = root.appendingPathComponent("other.txt")
        let cache = root.appendingPathComponent("cache"), run = root.appendingPathComponent("run")
        try Data(TokenCacheCommandTests.text(bytes: 40_000).utf8).write(to: corpus)
        // Another text with units the model never saw (they score as <unk>).
        try Data((TokenCacheCommandTests.text(bytes: 20_000) + "ÆØÅ 😀\n").utf8).write(to: other)
        let trained = try TokenCacheCommandTests.run([
            "train", corpus.path, "--hidden", "8", "--layers", "1", "--embed", "4", "--batch", "4", "--bptt", "8",
            "--eval-every", "0", "--quiet", "--max-steps", "2", "--token-cache", "off", "--out", run.path])
        #expect(trained.status == 0, "\(trained.stderr)")
        func eval(_ extra: [String]) throws -> CorpusCommandTests.Run {
            try TokenCacheCommandTests.run(["eval", run.path, other.path, "--json"] + extra)
        }
        let plain = try eval(["--token-cache", "off"])
        #expect(plain.status == 0, "\(plain.stderr)")
        #expect(TokenCacheCommandTests.entries(cache).isEmpty)
        let cold = try eval(["--token-cache", cache.path])
        let files = TokenCacheCommandTests.entries(cache)
        #expect(files.count == 1 && files.first?.hasSuffix(".tokens") == true, "\(files)")
        let warm = try eval(["--token-cache", cache.path])
        #expect(cold.status == 0 && warm.status == 0, "\(cold.stderr) \(warm.stderr)")
        #expect(TokenCacheCommandTests.entries(cache) == files)
        #expect(cold.stdout == plain.stdout && warm.stdout == plain.stdout)
        // "ÆØÅ 😀" has four units outside the vocabulary (the space is in it).
        #expect(plain.stdout.contains("\"unknown_units\":4"), "\(plain.stdout)")
        // The test split by the checkpoint's fractions is its own encoding (other fractions, other key).
        let split = try eval(["--split", "test", "--token-cache", cache.path])
        #expect(split.status == 0, "\(split.stderr)")
        #expect(TokenCacheCommandTests.entries(cache).count == 2)
        // Fine-tuning reads the new corpus with the checkpoint's vocabulary: that encoding is cached as well.
        let fineCache = root.appendingPathComponent("fine-cache")
        let fine = try TokenCacheCommandTests.run([
            "train", other.path, "--init-from", run.path, "--eval-every", "0", "--quiet", "--max-steps", "1",
            "--token-cache", fineCache.path, "--out", root.appendingPathComponent("fine").path])
        #expect(fine.status == 0, "\(fine.stderr)")
        #expect(TokenCacheCommandTests.entries(fineCache).filter { $0.hasSuffix(".tokens") }.count == 1)
        let bad = try eval(["--token-cache", ""])
        #expect(bad.status != 0 && bad.stderr.contains("--token-cache") && bad.stderr.split(separator: "\n").count == 1,
                "\(bad.stderr)")
    }
}
