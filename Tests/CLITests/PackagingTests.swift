import Foundation
import Testing
import TestSupport
@testable import CharRNNCLI

/// What packaging builds from the binary: the man page's source (the help dump that
/// swift-argument-parser's `generate-manual` plugin renders) and the shell completion scripts.
@Suite struct PackagingTests {
    typealias CLI = CorpusCommandTests

    static let subcommands = ["corpus", "report", "bench", "train", "eval", "generate", "gradients", "experiment",
                              "export", "import"]

    @Test func helpDumpDescribesEveryCommand() throws {
        let run = try CLI.run(["--experimental-dump-help"])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let command = try #require(object["command"] as? [String: Any])
        #expect(command["commandName"] as? String == "charrnn")
        let children = try #require(command["subcommands"] as? [[String: Any]])
        let names = children.compactMap { $0["commandName"] as? String }
        for name in Self.subcommands { #expect(names.contains(name), "the help dump lacks \(name)") }
        let train = try #require(children.first { $0["commandName"] as? String == "train" })
        let arguments = try #require(train["arguments"] as? [[String: Any]])
        let flags = arguments.flatMap { ($0["names"] as? [[String: Any]] ?? []).compactMap { $0["name"] as? String } }
        for flag in ["resume", "init-from", "config", "patience", "valid-file", "json"] {
            #expect(flags.contains(flag), "train's dump lacks --\(flag)")
        }
    }

    @Test(arguments: ["bash", "zsh", "fish"])
    func completionScriptsNameTheCommands(shell: String) throws {
        let run = try CLI.run(["--generate-completion-script", shell])
        #expect(run.status == 0, "\(run.stderr)")
        for name in Self.subcommands { #expect(run.stdout.contains(name), "\(shell) completion lacks \(name)") }
        #expect(run.stdout.contains("init-from"))
        // The bash script must at least parse.
        if shell == "bash", FileManager.default.isExecutableFile(atPath: "/bin/bash") {
            let root = try SharedCorpora.temporaryDirectory("charrnn-completion")
            defer { try? FileManager.default.removeItem(at: root) }
            let script = root.appendingPathComponent("charrnn.bash")
            try Data(run.stdout.utf8).write(to: script)
            let check = Process()
            check.executableURL = URL(fileURLWithPath: "/bin/bash")
            check.arguments = ["-n", script.path]
            try check.run()
            check.waitUntilExit()
            #expect(check.terminationStatus == 0)
        }
    }
}
