import Foundation
import Testing
import TestSupport
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Issue 11, class 3 (special files) and class 9 (malformed input silently accepted), tested on the built
/// binary. Every child gets a deadline: one that is still running then is killed and the test fails, so a
/// regression (a FIFO opened twice, a FIFO in a directory opened at all) shows as a failure, not a hang.
@Suite struct SpecialFileInputTests {
    struct Run {
        var status: Int32
        var stdout: String
        var stderr: String
        var timedOut: Bool
    }

    /// Runs `executable` with `arguments`, standard input from `stdin` (bytes written by a thread, then end
    /// of file) or /dev/null, and kills it after `timeout` seconds.
    static func spawn(_ executable: URL, _ arguments: [String], stdin: [UInt8]? = nil,
                      timeout: TimeInterval = 30) throws -> Run {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        let scratch = try SharedCorpora.temporaryDirectory("charrnn-special-run")
        defer { try? FileManager.default.removeItem(at: scratch) }
        let outURL = scratch.appendingPathComponent("stdout"), errURL = scratch.appendingPathComponent("stderr")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let out = try FileHandle(forWritingTo: outURL), err = try FileHandle(forWritingTo: errURL)
        process.standardOutput = out
        process.standardError = err
        let input = Pipe()
        process.standardInput = stdin == nil ? FileHandle.nullDevice : input
        try process.run()
        if let stdin {
            let writer = Thread {
                signal(SIGPIPE, SIG_IGN)
                input.fileHandleForWriting.write(Data(stdin))
                try? input.fileHandleForWriting.close()
            }
            writer.start()
        }
        let deadline = Date().addingTimeInterval(timeout)
        while process.isRunning && Date() < deadline { usleep(10_000) }
        let timedOut = process.isRunning
        if timedOut {
            kill(process.processIdentifier, SIGKILL)
            if stdin != nil { try? input.fileHandleForReading.close() }
        }
        process.waitUntilExit()
        try out.close()
        try err.close()
        return Run(status: process.terminationStatus,
                   stdout: String(decoding: try Data(contentsOf: outURL), as: UTF8.self),
                   stderr: String(decoding: try Data(contentsOf: errURL), as: UTF8.self), timedOut: timedOut)
    }

    static func charrnn(_ arguments: [String], stdin: [UInt8]? = nil, timeout: TimeInterval = 30) throws -> Run {
        try spawn(try CorpusCommandTests.binary(), arguments, stdin: stdin, timeout: timeout)
    }

    /// `bash -c script` with `$CHARRNN` set to the binary (for process substitution).
    static func bash(_ script: String, timeout: TimeInterval = 30) throws -> Run {
        let binary = try CorpusCommandTests.binary().path
        return try spawn(URL(fileURLWithPath: "/bin/bash"), ["-c", "CHARRNN='\(binary)'; " + script], timeout: timeout)
    }

    static let text: [UInt8] = Array(String(repeating: "Zwölf Boxkämpfer jagen Viktor quer über den Sylter Deich.\n", count: 400).utf8)

    static func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        try TestProcess.gzip(bytes)
    }

    /// The JSON report of `corpus inspect`, without `sources` (which names the path).
    static func report(_ run: Run, sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        #expect(!run.timedOut, "timed out", sourceLocation: sourceLocation)
        #expect(run.status == 0, "status \(run.status): \(run.stderr)", sourceLocation: sourceLocation)
        var object = try #require(try JSONSerialization.jsonObject(with: Data(run.stdout.utf8)) as? [String: Any],
                                  sourceLocation: sourceLocation)
        object["sources"] = nil
        return object
    }

    static func int(_ object: [String: Any], _ key: String) -> Int? { (object[key] as? NSNumber)?.intValue }

    /// Writes `bytes` into the FIFO at `path` from a thread once a reader has opened it (the writer's open
    /// never blocks: it retries `O_NONBLOCK` opens and gives up after `timeout` seconds).
    static func feedFIFO(_ path: String, _ bytes: [UInt8], timeout: TimeInterval = 30) -> Thread {
        let thread = Thread {
            let deadline = Date().addingTimeInterval(timeout)
            var descriptor: Int32 = -1
            while descriptor < 0 && Date() < deadline {
                descriptor = open(path, O_WRONLY | O_NONBLOCK)
                if descriptor < 0 { usleep(5_000) }
            }
            guard descriptor >= 0 else { return }
            let flags = fcntl(descriptor, F_GETFL)
            _ = fcntl(descriptor, F_SETFL, flags & ~O_NONBLOCK)
            signal(SIGPIPE, SIG_IGN)
            var done = 0
            bytes.withUnsafeBytes { buffer in
                while done < buffer.count {
                    let got = write(descriptor, buffer.baseAddress! + done, buffer.count - done)
                    if got <= 0 { break }
                    done += got
                }
            }
            close(descriptor)
        }
        thread.start()
        return thread
    }

    /// Binds an AF_UNIX socket at `path` (the socket file stays after the descriptor is closed).
    static func bindSocket(_ path: String) throws {
        #if canImport(Glibc)
        let descriptor = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = socket(AF_UNIX, SOCK_STREAM, 0)
        #endif
        try #require(descriptor >= 0)
        defer { close(descriptor) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        try #require(bytes.count < MemoryLayout.size(ofValue: address.sun_path))
        withUnsafeMutableBytes(of: &address.sun_path) { raw in
            raw.copyBytes(from: bytes)
            raw[bytes.count] = 0
        }
        let status = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        try #require(status == 0, "bind \(path): \(String(cString: strerror(errno)))")
    }

    // MARK: Class 3: pipes, FIFOs, stdin and process substitution are read completely, exactly once

    @Test func streamsAreReadCompletely() throws {
        let dir = try SharedCorpora.temporaryDirectory("charrnn-special")
        defer { try? FileManager.default.removeItem(at: dir) }
        let plain = dir.appendingPathComponent("f.txt").path
        try Data(Self.text).write(to: URL(fileURLWithPath: plain))
        let gz = try Self.gzip(Self.text)
        let gzPath = dir.appendingPathComponent("f.txt.gz").path
        try Data(gz).write(to: URL(fileURLWithPath: gzPath))

        let reference = try Self.report(try Self.charrnn(["corpus", "inspect", "--json", plain]))
        #expect(Self.int(reference, "bytes") == Self.text.count)
        #expect(Self.int(reference, "stored_bytes") == Self.text.count)
        func expectSameText(_ run: Run, gzip: Bool, stored: Int, _ label: String) throws {
            let object = try Self.report(run)
            for key in ["bytes", "units", "distinct_units", "vocabulary_size"] {
                #expect(Self.int(object, key) == Self.int(reference, key), "\(label): \(key)")
            }
            #expect((object["top_units"] as? NSArray) == (reference["top_units"] as? NSArray), "\(label): top units")
            #expect(Self.int(object, "gzip_files") == (gzip ? 1 : 0), "\(label)")
            #expect(Self.int(object, "stored_bytes") == stored, "\(label): stored bytes")
        }

        // Process substitution: /dev/fd/N of a pipe (the first bytes used to be lost to a second open).
        try expectSameText(try Self.bash("\"$CHARRNN\" corpus inspect --json <(cat '\(plain)')"),
                           gzip: false, stored: Self.text.count, "<(cat plain)")
        try expectSameText(try Self.bash("\"$CHARRNN\" corpus inspect --json <(cat '\(gzPath)')"),
                           gzip: true, stored: gz.count, "<(cat gzip)")
        // Standard input as -, and as the path /dev/stdin (a pipe reached by name).
        try expectSameText(try Self.charrnn(["corpus", "inspect", "--json", "-"], stdin: Self.text),
                           gzip: false, stored: Self.text.count, "- plain")
        try expectSameText(try Self.charrnn(["corpus", "inspect", "--json", "-"], stdin: gz),
                           gzip: true, stored: gz.count, "- gzip")
        try expectSameText(try Self.charrnn(["corpus", "inspect", "--json", "/dev/stdin"], stdin: gz),
                           gzip: true, stored: gz.count, "/dev/stdin gzip")
        // A named FIFO, written by a thread of this process: plain, then gzip.
        let fifo = dir.appendingPathComponent("p.txt").path
        try #require(mkfifo(fifo, 0o600) == 0)
        _ = Self.feedFIFO(fifo, Self.text)
        try expectSameText(try Self.charrnn(["corpus", "inspect", "--json", fifo]), gzip: false,
                           stored: Self.text.count, "FIFO plain")
        _ = Self.feedFIFO(fifo, gz)
        try expectSameText(try Self.charrnn(["corpus", "inspect", "--json", fifo]), gzip: true,
                           stored: gz.count, "FIFO gzip")
        // Tiny streams (shorter than any magic) are text too.
        let tiny = try Self.report(try Self.charrnn(["corpus", "inspect", "--json", "-"], stdin: Array("a\n".utf8)))
        #expect(Self.int(tiny, "bytes") == 2)
    }

    // MARK: Class 3: devices, sockets, non-regular directory entries and zip archives on streams

    @Test func specialFilesAreRefusedOrSkippedByName() throws {
        let dir = try SharedCorpora.temporaryDirectory("charrnn-special")
        defer { try? FileManager.default.removeItem(at: dir) }
        func expectRefused(_ run: Run, _ fragments: [String], sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(!run.timedOut, "timed out", sourceLocation: sourceLocation)
            #expect(run.status == 1, "status \(run.status): \(run.stderr)", sourceLocation: sourceLocation)
            #expect(run.stdout.isEmpty, sourceLocation: sourceLocation)
            #expect(run.stderr.hasPrefix("charrnn: error: "), "\(run.stderr)", sourceLocation: sourceLocation)
            #expect(run.stderr.split(separator: "\n").count == 1, "\(run.stderr)", sourceLocation: sourceLocation)
            for fragment in fragments {
                #expect(run.stderr.contains(fragment), "\(run.stderr) lacks \(fragment)", sourceLocation: sourceLocation)
            }
        }
        // Character devices: /dev/null (empty) and /dev/zero (endless) alike.
        expectRefused(try Self.charrnn(["corpus", "inspect", "/dev/null"]), ["/dev/null", "character device"])
        expectRefused(try Self.charrnn(["corpus", "inspect", "/dev/zero"], timeout: 20), ["/dev/zero", "character device"])
        // A socket file.
        let socketPath = dir.appendingPathComponent("s.sock").path
        try Self.bindSocket(socketPath)
        expectRefused(try Self.charrnn(["corpus", "inspect", socketPath]), [socketPath, "is a socket"])
        // The same as a split file, and in train (before any run directory is made).
        let good = dir.appendingPathComponent("good.txt")
        try Data(Self.text).write(to: good)
        expectRefused(try Self.charrnn(["corpus", "inspect", good.path, "--valid-file", "/dev/null"]),
                      ["/dev/null", "character device"])

        // A directory holding a FIFO named x.txt (no writer: opening it would block) and a socket:
        // both skipped with a warning naming them, the text file read.
        let corpus = dir.appendingPathComponent("corpus")
        try FileManager.default.createDirectory(at: corpus, withIntermediateDirectories: true)
        try Data(Self.text).write(to: corpus.appendingPathComponent("a.txt"))
        let fifo = corpus.appendingPathComponent("x.txt").path
        try #require(mkfifo(fifo, 0o600) == 0)
        try Self.bindSocket(corpus.appendingPathComponent("y.txt").path)
        let walked = try Self.charrnn(["corpus", "inspect", "--json", corpus.path], timeout: 30)
        let object = try Self.report(walked)
        #expect(Self.int(object, "bytes") == Self.text.count)
        #expect(Self.int(object, "files") == 1)
        #expect(walked.stderr.contains("warning: \(fifo): skipped (a FIFO"), "\(walked.stderr)")
        #expect(walked.stderr.contains("y.txt: skipped (a socket"), "\(walked.stderr)")
        #expect(walked.stderr.split(separator: "\n").count == 2, "each warning once: \(walked.stderr)")
        // A directory with nothing but special entries has no text files.
        let onlyFIFO = dir.appendingPathComponent("only")
        try FileManager.default.createDirectory(at: onlyFIFO, withIntermediateDirectories: true)
        try #require(mkfifo(onlyFIFO.appendingPathComponent("z.txt").path, 0o600) == 0)
        let empty = try Self.charrnn(["corpus", "inspect", onlyFIFO.path])
        #expect(!empty.timedOut)
        #expect(empty.status == 1)
        #expect(empty.stderr.contains("no text or gzip files"), "\(empty.stderr)")

        // Zip archives are read from the end: on a pipe, stdin or a FIFO they are refused.
        let zip = ZipFixture.archive([ZipFixture.Entry(name: "a.txt", data: Array("zip text\n".utf8))])
        let zipPath = dir.appendingPathComponent("a.zip").path
        try Data(zip).write(to: URL(fileURLWithPath: zipPath))
        let message = "zip archives must be regular files"
        expectRefused(try Self.charrnn(["corpus", "inspect", "-"], stdin: zip), ["<stdin>", message])
        expectRefused(try Self.bash("\"$CHARRNN\" corpus inspect <(cat '\(zipPath)')"), ["/dev/fd/", message])
        expectRefused(try Self.bash("\"$CHARRNN\" corpus inspect <(cat '\(zipPath)'):a.txt"), ["/dev/fd/", message])
        // The regular file itself still reads.
        let fromFile = try Self.report(try Self.charrnn(["corpus", "inspect", "--json", zipPath]))
        #expect(Self.int(fromFile, "zip_members") == 1)
    }

    // MARK: Class 9: what follows the last gzip member

    @Test func bytesAfterTheLastGzipMember() throws {
        let dir = try SharedCorpora.temporaryDirectory("charrnn-special")
        defer { try? FileManager.default.removeItem(at: dir) }
        let gz = try Self.gzip(Self.text)
        let second = try Self.gzip(Array("second member\n".utf8))
        func write(_ name: String, _ bytes: [UInt8]) throws -> String {
            let path = dir.appendingPathComponent(name).path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return path
        }
        func expectTrailing(_ run: Run, _ name: String, offset: Int, sourceLocation: SourceLocation = #_sourceLocation) {
            #expect(!run.timedOut, sourceLocation: sourceLocation)
            #expect(run.status == 1, "\(run.stderr)", sourceLocation: sourceLocation)
            #expect(run.stdout.isEmpty, sourceLocation: sourceLocation)
            #expect(run.stderr == "charrnn: error: \(name): trailing data after the last gzip member at compressed"
                    + " byte offset \(offset) (neither another gzip member nor zero padding)\n",
                    "\(run.stderr)", sourceLocation: sourceLocation)
        }
        // Text appended to a gzip file: an error naming the offset where it starts.
        let garbage = try write("garbage.gz", gz + Array("garbage".utf8))
        expectTrailing(try Self.charrnn(["corpus", "inspect", garbage]), garbage, offset: gz.count)
        // One stray byte (half a gzip magic), after two members.
        let stray = try write("stray.gz", gz + second + [0x1F])
        expectTrailing(try Self.charrnn(["corpus", "inspect", stray]), stray, offset: gz.count + second.count)
        // Zero padding, then a non-zero byte: the offset is that of the first non-zero byte.
        let late = try write("late.gz", gz + [UInt8](repeating: 0, count: 300_000) + [0x41])
        expectTrailing(try Self.charrnn(["corpus", "inspect", late]), late, offset: gz.count + 300_000)
        // The same on standard input.
        expectTrailing(try Self.charrnn(["corpus", "inspect", "-"], stdin: gz + [0x0A]), "<stdin>", offset: gz.count)

        // Zero padding alone (as tape blocks leave): read, with one warning that counts the bytes.
        let padded = try write("padded.gz", gz + second + [UInt8](repeating: 0, count: 512))
        let run = try Self.charrnn(["corpus", "inspect", "--json", padded])
        let object = try Self.report(run)
        #expect(Self.int(object, "bytes") == Self.text.count + "second member\n".utf8.count)
        #expect(run.stderr == "charrnn: warning: \(padded): 512 zero bytes after the last gzip member (padding) ignored\n")
        // Multi-member without anything after: no warning at all.
        let clean = try Self.charrnn(["corpus", "inspect", "--json", try write("clean.gz", gz + second)])
        #expect(clean.status == 0)
        #expect(clean.stderr.isEmpty, "\(clean.stderr)")
    }

    // MARK: Class 9: text and zip, per format what is an error and what a warning

    @Test func textAndZipOddities() throws {
        let dir = try SharedCorpora.temporaryDirectory("charrnn-special")
        defer { try? FileManager.default.removeItem(at: dir) }
        func write(_ name: String, _ bytes: [UInt8]) throws -> String {
            let path = dir.appendingPathComponent(name).path
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            return path
        }
        // A NUL byte far past the sniffed start (a file padded with zeros after a crash): binary, an error
        // with its offset, plain or gzip, with or without --replace-invalid.
        let nulAt = Self.text.count + 10_000
        let padded = Self.text + Array(repeating: UInt8(ascii: "x"), count: 10_000) + [0, 0, 0]
        let plainNUL = try write("nul.txt", padded)
        let gzipNUL = try write("nul.txt.gz", try Self.gzip(padded))
        for (path, extra) in [(plainNUL, [String]()), (gzipNUL, []), (plainNUL, ["--replace-invalid"])] {
            let run = try Self.charrnn(["corpus", "inspect", path] + extra)
            #expect(run.status == 1, "\(path): \(run.stderr)")
            #expect(run.stderr == "charrnn: error: \(path): binary data, neither gzip nor UTF-8 text (NUL byte at byte offset \(nulAt))\n",
                    "\(run.stderr)")
        }
        // A byte order mark: read as U+FEFF (one more unit), with a warning.
        let bom = try write("bom.txt", [0xEF, 0xBB, 0xBF] + Self.text)
        let bomRun = try Self.charrnn(["corpus", "inspect", "--json", bom])
        let bomReport = try Self.report(bomRun)
        #expect(Self.int(bomReport, "bytes") == Self.text.count + 3)
        #expect(bomRun.stderr == "charrnn: warning: \(bom): starts with a UTF-8 byte order mark (U+FEFF), read as a character\n")
        // Bytes after a zip archive's end record: read, with a warning; two members of one name: the first,
        // with a warning; a clean archive: no warning.
        let entries = [ZipFixture.Entry(name: "a.txt", data: Array("first\n".utf8)),
                       ZipFixture.Entry(name: "a.txt", data: Array("second\n".utf8))]
        let zip = ZipFixture.archive(entries)
        let tailed = try write("tailed.zip", zip + Array("junk".utf8))
        let tailedRun = try Self.charrnn(["corpus", "inspect", "--json", tailed])
        let tailedReport = try Self.report(tailedRun)
        #expect(Self.int(tailedReport, "zip_members") == 2)
        #expect(tailedRun.stderr == "charrnn: warning: \(tailed): 4 bytes after the end of the zip archive (its end record) ignored\n")
        let twice = try write("twice.zip", zip)
        let memberRun = try Self.charrnn(["corpus", "inspect", "--json", "\(twice):a.txt"])
        let memberReport = try Self.report(memberRun)
        #expect(Self.int(memberReport, "bytes") == "first\n".utf8.count)
        #expect(memberRun.stderr == "charrnn: warning: \(twice): 2 members are named 'a.txt'; the first is read\n")
        let clean = try write("clean.zip", ZipFixture.archive([entries[0]]))
        let cleanRun = try Self.charrnn(["corpus", "inspect", "--json", "\(clean):a.txt"])
        #expect(cleanRun.status == 0)
        #expect(cleanRun.stderr.isEmpty, "\(cleanRun.stderr)")
    }

    // MARK: Class 3: --prime-file is opened once too

    @Test func primeFileFromPipesAndFIFOs() throws {
        let (root, _, out) = try TrainEvalGenerateCommandTests.trainedRun()
        defer { try? FileManager.default.removeItem(at: root) }
        let prime = Array("abc (def) [ghi] ".utf8)
        let primePath = root.appendingPathComponent("prime.txt").path
        try Data(prime).write(to: URL(fileURLWithPath: primePath))
        let base = ["generate", out, "--length", "40", "--seed", "5", "--threads", "1"]
        let reference = try Self.charrnn(base + ["--prime-file", primePath])
        #expect(reference.status == 0, "\(reference.stderr)")
        #expect(reference.stdout.hasPrefix("abc (def) [ghi] "), "\(reference.stdout)")
        #expect(reference.stdout.count > prime.count)

        // Process substitution and a FIFO give the same prime, so the same sample.
        let substituted = try Self.bash("\"$CHARRNN\" \(base.map { "'\($0)'" }.joined(separator: " ")) --prime-file <(cat '\(primePath)')")
        #expect(!substituted.timedOut)
        #expect(substituted.status == 0, "\(substituted.stderr)")
        #expect(substituted.stdout == reference.stdout)
        let fifo = root.appendingPathComponent("prime.fifo").path
        try #require(mkfifo(fifo, 0o600) == 0)
        _ = Self.feedFIFO(fifo, prime)
        let fromFIFO = try Self.charrnn(base + ["--prime-file", fifo])
        #expect(!fromFIFO.timedOut)
        #expect(fromFIFO.stdout == reference.stdout, "\(fromFIFO.stderr)")

        // A directory, a device and a socket are refused with the flag and the path named.
        let socketPath = root.appendingPathComponent("p.sock").path
        try Self.bindSocket(socketPath)
        for (path, fragment) in [(root.path, "is a directory"), ("/dev/zero", "is a character device"),
                                 (socketPath, "is a socket")] {
            let run = try Self.charrnn(base + ["--prime-file", path], timeout: 20)
            #expect(!run.timedOut, "\(path)")
            #expect(run.status == 1, "\(path): \(run.stderr)")
            #expect(run.stdout.isEmpty)
            #expect(run.stderr.hasPrefix("charrnn: error: --prime-file \(path): "), "\(run.stderr)")
            #expect(run.stderr.contains(fragment), "\(run.stderr)")
            #expect(run.stderr.split(separator: "\n").count == 1)
        }
    }
}
