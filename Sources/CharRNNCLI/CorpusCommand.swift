import ArgumentParser
import Foundation
import TextCorpus

/// `charrnn corpus …`: look at corpora, check segmentation, fetch well-known corpora.
struct CorpusCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "corpus",
        abstract: "Inspect, tokenize and fetch text corpora.",
        subcommands: [CorpusInspect.self, CorpusTokenize.self, CorpusGet.self, SynthCommand.self, CorpusBench.self]
    )
}

/// Prints `text` and a newline to standard output (checked: see `StandardOutput`).
func writeStandardOutput(_ text: String) throws {
    try StandardOutput.print(text)
}

/// A unit made readable on one line: control characters, separators, invisible format characters and
/// backslash escaped (`\n`, `\t`, `\r`, `\\`, `\u{XXXX}`), everything else as is.
func escapedUnit(_ unit: String) -> String {
    var out = ""
    let allInvisible = unit.unicodeScalars.allSatisfy {
        $0.properties.generalCategory == .format || $0.properties.generalCategory == .control
            || $0.properties.isWhitespace
    }
    for scalar in unit.unicodeScalars {
        switch scalar {
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        case "\r": out += "\\r"
        case "\\": out += "\\\\"
        default:
            let category = scalar.properties.generalCategory
            if category == .control || category == .lineSeparator || category == .paragraphSeparator
                || (allInvisible && (scalar.properties.isWhitespace || category == .format)) {
                out += "\\u{" + String(scalar.value, radix: 16, uppercase: true) + "}"
            } else {
                out.unicodeScalars.append(scalar)
            }
        }
    }
    return out
}
