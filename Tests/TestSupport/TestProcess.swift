import Foundation

/// Small helper processes the tests run: a tool whose exit status is all that matters, and gzip.
public enum TestProcess {
    /// Runs `executable arguments` with its output discarded; returns the exit status.
    @discardableResult
    public static func status(_ executable: URL, _ arguments: [String]) throws -> Int32 {
        let process = Process()
        process.executableURL = executable
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        return process.terminationStatus
    }

    /// `gzip -c -n` of `bytes` (one member), via the gzip tool.
    public static func gzip(_ bytes: [UInt8]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["gzip", "-c", "-n"]
        let input = Pipe(), output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        let writer = Thread { input.fileHandleForWriting.write(Data(bytes)); try? input.fileHandleForWriting.close() }
        writer.start()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return [UInt8](data)
    }

    /// `scripts/render_report.sh PAGE PNG SIZE`: renders an HTML page in headless Chromium (status 0;
    /// 77 when Chromium is not installed, 3 when the page logged console messages); returns the exit
    /// status and what the script wrote to standard error.
    public static func renderPage(_ page: URL, to png: URL, size: String) throws -> (status: Int32, message: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [SharedCorpora.projectRoot.appendingPathComponent("scripts/render_report.sh").path,
                             page.path, png.path, size]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = Pipe()
        try process.run()
        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, message)
    }
}
