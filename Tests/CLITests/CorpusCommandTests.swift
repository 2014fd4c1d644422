import Foundation
import Testing
import TestSupport
@testable import CharRNNCLI

/// Runs the built `charrnn` binary (next to the test bundle) and checks output, stderr and exit status.
@Suite struct CorpusCommandTests {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
    }

    static func binary() throws -> URL {
        var candidates: [URL] = []
        let argument0 = URL(fileURLWithPath: ProcessInfo.processInfo.arguments[0]).resolvingSymlinksInPath()
        var folder = argument0.deletingLastPathComponent()
        // On Linux the test binary sits in .build/<config>/ ; on macOS inside a .xctest bundle.
        for _ in 0..<4 {
            candidates.append(folder.appendingPathComponent("charrnn"))
            folder = folder.deletingLastPathComponent()
        }
        candidates.append(Bundle.main.bundleURL.appendingPathComponent("charrnn"))
        guard let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0.path) }) else {
            throw CocoaError(.fileNoSuchFile, userInfo: [NSFilePathErrorKey: candidates.map(\.path).joined(separator: ", ")])
        }
        return found
    }

    static func run(_ arguments: [String], stdin: Data? = nil, environment: [String: String] = [:],
                    directory: URL? = nil) throws -> Run {
        let process = Process()
        process.executableURL = try binary()
        process.arguments = arguments
        var env = ProcessInfo.processInfo.environment
        env.removeValue(forKey: "CHARRNN_CORPUS_MIRROR")
        for (key, value) in environment { env[key] = value }
        process.environment = env
        if let directory { process.currentDirectoryURL = directory }
        // Output goes to temporary files: no pipe can fill up and block the child.
        let scratch = try SharedCorpora.temporaryDirectory("charrnn-cli")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        let input = Pipe()
        process.standardOutput = out
        process.standardError = err
        process.standardInput = input
        try process.run()
        if let stdin { input.fileHandleForWriting.write(stdin) }
        try input.fileHandleForWriting.close()
        process.waitUntilExit()
        try out.close()
        try err.close()
        let outData = try Data(contentsOf: outURL), errData = try Data(contentsOf: errURL)
        return Run(status: process.terminationStatus, stdout: String(decoding: outData, as: UTF8.self),
                   stderr: String(decoding: errData, as: UTF8.self))
    }

    static let sample = SharedCorpora.projectRoot.appendingPathComponent("corpora/multiscript-sample.txt")

    @Test func inspectJSONHasTheDocumentedKeys() throws {
        let run = try Self.run(["corpus", "inspect", Self.sample.path, "--json", "--top", "5"])
        #expect(run.status == 0, "\(run.stderr)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any])
        let bytes = try FileManager.default.attributesOfItem(atPath: Self.sample.path)[.size] as? NSNumber
        #expect((object["bytes"] as? NSNumber)?.intValue == bytes?.intValue)
        let units = try #require((object["units"] as? NSNumber)?.intValue)
        #expect(units > 1000 && units < bytes!.intValue)
        #expect((object["vocabulary_size"] as? NSNumber).map { $0.intValue > 100 } == true)
        #expect((object["top_units"] as? [Any])?.count == 5)
        let splits = try #require(object["splits"] as? [String: Int])
        #expect(splits["train"]! + splits["validation"]! + splits["test"]! == units)
        #expect(run.stdout.split(separator: "\n").count == 1)
    }

    @Test func inspectTableAndStdin() throws {
        let run = try Self.run(["corpus", "inspect", "-", "--unit", "codepoint", "--normalize", "none"],
                               stdin: Data("città\n".utf8))
        #expect(run.status == 0)
        #expect(run.stdout.contains("units         6 codepoints"))
        #expect(run.stdout.contains("<stdin>"))
    }

    @Test func tokenizeJSONComposesCombiningAccents() throws {
        let run = try Self.run(["corpus", "tokenize", "-", "--format", "json"], stdin: Data("perche\u{301} 🇮🇹\n".utf8))
        #expect(run.status == 0)
        let units = try JSONDecoder().decode([String].self, from: Data(run.stdout.utf8))
        #expect(units.map { $0.unicodeScalars.map(\.value) }
            == [[0x70], [0x65], [0x72], [0x63], [0x68], [0xE9], [0x20], [0x1F1EE, 0x1F1F9], [0x0A]])
    }

    @Test func tokenizeLinesEscapes() throws {
        let run = try Self.run(["corpus", "tokenize", "-", "--unit", "word"], stdin: Data("a b\\c\t\r\n".utf8))
        #expect(run.status == 0)
        #expect(run.stdout == "a\n\\u{20}\nb\n\\\\\nc\n\\t\n\\r\\n\n")
    }

    // MARK: Bad input: one line on stderr naming the file, exit 1, nothing on stdout.

    func expectFailure(_ arguments: [String], contains fragments: [String], stdin: Data? = nil,
                       sourceLocation: SourceLocation = #_sourceLocation) throws {
        let run = try Self.run(arguments, stdin: stdin)
        #expect(run.status == 1, "\(arguments): status \(run.status), stderr \(run.stderr)", sourceLocation: sourceLocation)
        #expect(run.stdout.isEmpty, sourceLocation: sourceLocation)
        let lines = run.stderr.split(separator: "\n", omittingEmptySubsequences: false)
        #expect(lines.count == 2 && lines[1].isEmpty, "\(run.stderr)", sourceLocation: sourceLocation)
        #expect(run.stderr.hasPrefix("charrnn: error: "), "\(run.stderr)", sourceLocation: sourceLocation)
        for fragment in fragments {
            #expect(run.stderr.contains(fragment), "\(run.stderr) lacks \(fragment)", sourceLocation: sourceLocation)
        }
    }

    @Test func badInputs() throws {
        let dir = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        func file(_ name: String, _ bytes: [UInt8]) throws -> String {
            let url = dir.appendingPathComponent(name)
            try Data(bytes).write(to: url)
            return url.path
        }
        let text = Array(String(repeating: "Nel mezzo del cammin di nostra vita, città e più.\n", count: 400).utf8)
        let gz = try gzip(text)

        try expectFailure(["corpus", "inspect", "/nonexistent/x.txt"], contains: ["/nonexistent/x.txt: no such file or directory"])
        let emptyDir = dir.appendingPathComponent("nothing")
        try FileManager.default.createDirectory(at: emptyDir, withIntermediateDirectories: true)
        _ = try file("nothing/blob", [0, 1, 2, 0xFF])
        try expectFailure(["corpus", "inspect", emptyDir.path], contains: [emptyDir.path, "no text or gzip files"])
        let empty = try file("empty.txt", [])
        try expectFailure(["corpus", "inspect", empty], contains: [empty, "empty corpus"])
        let truncated = try file("truncated.gz", Array(gz.prefix(gz.count - 20)))
        try expectFailure(["corpus", "inspect", truncated], contains: [truncated, "truncated gzip", "offset"])
        var badCRC = gz
        badCRC[badCRC.count - 6] ^= 0x55
        let corrupt = try file("corrupt.gz", badCRC)
        try expectFailure(["corpus", "inspect", corrupt], contains: [corrupt, "corrupt gzip", "incorrect data check"])
        let binary = try file("binary.dat", [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 0x0D])
        try expectFailure(["corpus", "inspect", binary], contains: [binary, "neither gzip nor UTF-8", "offset 8"])
        var invalid = text
        invalid[15_001] = 0xC0
        let bad = try file("invalid.txt", invalid)
        try expectFailure(["corpus", "inspect", bad], contains: [bad, "invalid UTF-8", "byte offset 15001"])
        try expectFailure(["corpus", "tokenize", bad], contains: [bad, "invalid UTF-8"])
        let replaced = try Self.run(["corpus", "inspect", bad, "--json", "--replace-invalid"])
        #expect(replaced.status == 0)
        #expect(replaced.stdout.contains("\"invalid_bytes\":1"))
        #expect(replaced.stdout.contains("\"replacements\":1"))
        try expectFailure(["corpus", "inspect", empty, "--validation-fraction", "0.7", "--test-fraction", "0.5"],
                          contains: [empty])
    }

    @Test func usageErrorsAreOneLineWithStatusOne() throws {
        let run = try Self.run(["corpus", "inspect", "x", "--unit", "syllable"])
        #expect(run.status == 1)
        #expect(run.stderr.contains("syllable"))
        #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)")
    }

    // MARK: corpus get

    @Test func getFromMirrorVerifiesAndIsAtomic() throws {
        guard let mirror = SharedCorpora.directory, SharedCorpora.url("tinyshakespeare.txt") != nil else { return }
        let out = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        let first = try Self.run(["corpus", "get", "tiny-shakespeare", "--mirror", mirror.path, "--output", out.path])
        #expect(first.status == 0, "\(first.stderr)")
        #expect(first.stdout.contains("sha256 86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"))
        let copied = out.appendingPathComponent("tinyshakespeare.txt")
        #expect(try Data(contentsOf: copied) == Data(contentsOf: mirror.appendingPathComponent("tinyshakespeare.txt")))
        // Again, through the environment variable: already there.
        let second = try Self.run(["corpus", "get", "tiny-shakespeare", "--output", out.path],
                                  environment: ["CHARRNN_CORPUS_MIRROR": mirror.path])
        #expect(second.status == 0)
        #expect(second.stdout.contains("already present"))
        // A mirror with a damaged copy: checksum error, no file left behind.
        let badMirror = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: badMirror) }
        var damaged = try Data(contentsOf: copied)
        damaged[1000] ^= 0x20
        try damaged.write(to: badMirror.appendingPathComponent("tinyshakespeare.txt"))
        let fresh = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: fresh) }
        try expectFailureIn(["corpus", "get", "tiny-shakespeare", "--mirror", badMirror.path, "--output", fresh.path],
                            contains: ["SHA-256 mismatch", "expected 86c4e6aa"])
        #expect(try FileManager.default.contentsOfDirectory(atPath: fresh.path).isEmpty)
    }

    func expectFailureIn(_ arguments: [String], contains: [String]) throws {
        try expectFailure(arguments, contains: contains)
    }

    @Test func getErrors() throws {
        let out = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: out) }
        try expectFailure(["corpus", "get", "no-such-corpus", "--output", out.path],
                          contains: ["no-such-corpus: not in the corpus catalog", "tiny-shakespeare"])
        try expectFailure(["corpus", "get", "enwik8", "--mirror", out.path, "--output", out.path],
                          contains: ["enwik8.zip", "not in the mirror directory"])
        let list = try Self.run(["corpus", "get", "--list"])
        #expect(list.status == 0)
        for name in ["tiny-shakespeare", "enwik8", "text8", "wikitext-2-raw"] { #expect(list.stdout.contains(name)) }
    }

    @Test func helpListsTheCorpusCommands() {
        let help = CorpusCommand.helpMessage()
        for name in ["inspect", "tokenize", "get"] { #expect(help.contains(name)) }
        #expect(!help.contains("bench"))   // hidden
        #expect(CharRNNCommand.helpMessage().contains("corpus"))
    }

    func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        let dir = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("x")
        try Data(bytes).write(to: url)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-n", url.path]
        try process.run()
        process.waitUntilExit()
        return [UInt8](try Data(contentsOf: dir.appendingPathComponent("x.gz")))
    }
}
