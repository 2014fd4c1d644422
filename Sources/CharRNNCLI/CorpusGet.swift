import ArgumentParser
import Foundation
import TextCorpus

/// `charrnn corpus get NAME`: fetch a well-known corpus from the catalog and verify its checksum.
struct CorpusGet: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get",
        abstract: "Fetch a well-known corpus (download, or copy from a mirror) and verify its SHA-256.",
        discussion: "Without --mirror, $\(CorpusFetcher.mirrorVariable) names the default mirror directory; with neither, the file is downloaded with curl. The file is written under a temporary name and renamed into place only after its size and SHA-256 match the catalog. Zip archives are kept as they are (charrnn reads them directly: PATH.zip or PATH.zip:MEMBER); --unpack also writes their members as plain files into the output directory, each renamed into place only after its CRC-32 checks out."
    )

    @Argument(help: "Corpus name (see --list).")
    var name: String?

    @Option(help: "Copy from this directory instead of downloading.")
    var mirror: String?

    @Option(help: "Read the catalog from this JSON file (the format of corpora/catalog.json) instead of the built-in one.")
    var catalog: String?

    @Option(help: "Directory to write into.")
    var output: String = "corpora"

    @Flag(help: "Fetch again even when a verified copy exists.")
    var force = false

    @Flag(help: "Also write the members of a zip archive as plain files (kept when already present and intact).")
    var unpack = false

    @Flag(help: "List the catalog and exit.")
    var list = false

    func validate() throws {
        if name == nil && !list { throw ValidationError("give a corpus NAME or --list") }
    }

    func run() throws {
        try CLIErrors.reporting {
            let catalog = try self.catalog.map { try CorpusCatalog.load(from: URL(fileURLWithPath: $0)) } ?? CorpusCatalog.builtIn
            if list {
                for entry in catalog.corpora {
                    try writeStandardOutput("\(entry.name.rightPadded(to: 18)) \(CorpusInspect.grouped(entry.size).leftPadded(to: 12)) bytes  \(entry.licence)")
                    try writeStandardOutput("\(String(repeating: " ", count: 19))\(entry.url)")
                }
                return
            }
            let entry = try catalog.entry(named: name!)
            let result = try CorpusFetcher.fetch(entry, into: URL(fileURLWithPath: output),
                                                 mirror: mirror.map { URL(fileURLWithPath: $0) }, force: force,
                                                 showProgress: isatty(STDERR_FILENO) != 0)
            if entry.sha256 == nil {
                CLIErrors.printWarning("\(entry.name): the catalog has no SHA-256 for this file; checked its size only (sha256 \(result.sha256))")
            }
            let verb = result.fetched ? "fetched from \(result.source)" : "already present"
            try writeStandardOutput("\(result.url.path): \(verb), sha256 \(result.sha256)")
            guard entry.archive == "zip" else {
                if unpack { CLIErrors.printWarning("\(entry.name): not an archive; nothing to unpack") }
                return
            }
            guard unpack else {
                try writeStandardOutput("\(result.url.path): a zip archive; charrnn reads it directly (or use --unpack for plain files)")
                return
            }
            let members = try ZipArchive(path: result.url.path).unpack(into: URL(fileURLWithPath: output), force: force)
            for member in members {
                let verb = member.written ? "unpacked" : "already unpacked"
                try writeStandardOutput("\(member.url.path): \(verb), \(CorpusInspect.grouped(member.size)) bytes")
            }
        }
    }
}
