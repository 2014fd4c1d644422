import Foundation
import Testing
import TestSupport
@testable import CharRNNCLI

/// `charrnn gradients --noise-scale` run as the built binary.
@Suite struct NoiseScaleCommandTests {
    @Test func noiseScaleOfACheckpointAsJSON() throws {
        let fixture = try #require(DiagnosticsCommandTests.fixture)
        let run = try DiagnosticsCommandTests.run(["gradients", fixture.checkpoint.path, "--corpus", fixture.text.path,
                                                   "--noise-scale", "--batch", "4", "--noise-group", "2",
                                                   "--length", "20", "--windows", "3", "--json"])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        #expect(object["streams"] as? Int == 4 && object["group_streams"] as? Int == 2 && object["windows"] as? Int == 3)
        let small = try #require(object["small_batch_squared_norm"] as? Double)
        let large = try #require(object["large_batch_squared_norm"] as? Double)
        #expect(small > 0 && large > 0)
        if let noise = object["noise_scale_streams"] as? Double { #expect(noise.isFinite && noise > 0) }
    }

    @Test func badNoiseOptionsGetOneLine() throws {
        let fixture = try #require(DiagnosticsCommandTests.fixture)
        for (arguments, fragment) in [(["--noise-scale", "--batch", "1"], "--batch"),
                                      (["--noise-scale", "--batch", "4", "--noise-group", "3"], "--noise-group"),
                                      (["--noise-group", "2", "--batch", "4"], "--noise-scale")] {
            let run = try DiagnosticsCommandTests.run(["gradients", fixture.checkpoint.path, "--corpus", fixture.text.path] + arguments)
            #expect(run.status != 0 && run.stdout.isEmpty)
            #expect(run.stderr.split(separator: "\n").count == 1 && run.stderr.contains(fragment), "\(run.stderr)")
        }
    }
}
