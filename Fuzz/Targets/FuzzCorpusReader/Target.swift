// libFuzzer target: CorpusReader (plain, gzip and zip corpus files; UTF-8 validation across chunk
// boundaries) on a scratch file holding the fuzz input after its first byte. The first byte picks
// the options: bit 0 = replaceInvalid, bits 1–7 = chunkSize − 1 (1…128 bytes, so sequences are cut
// at every position).
// Properties: reading never crashes. For plain text (neither gzip nor zip magic) that is read
// without an error, the chunks joined are exactly the file's bytes (strict) or exactly what
// Swift's own decoder makes of them with U+FFFD for each maximal ill-formed subpart (replacing).
import Foundation
import FuzzSupport
import TextCorpus

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let all = ScratchFiles.input(data, size)
    guard let flags = all.first else { return 0 }
    let content = UnsafeRawBufferPointer(rebasing: all[1...])
    let options = CorpusReader.Options(replaceInvalid: flags & 1 != 0, chunkSize: Int(flags >> 1) + 1)
    let url = ScratchFiles.write(content, named: "corpus.txt")
    var output: [UInt8] = []
    do {
        let reader = try CorpusReader(paths: [url.path], options: options)
        _ = reader.estimatedDecodedBytes()
        try reader.read { chunk, _ in
            precondition(!chunk.isEmpty, "CorpusReader passed an empty chunk")
            output.append(contentsOf: chunk)
        }
    } catch {
        return 0
    }
    let bytes = [UInt8](content)
    let isGzip = bytes.starts(with: [0x1F, 0x8B]), isZip = bytes.starts(with: [0x50, 0x4B, 0x03, 0x04])
    guard !isGzip, !isZip else { return 0 }
    let expected = options.replaceInvalid ? Array(String(decoding: bytes, as: UTF8.self).utf8) : bytes
    precondition(output == expected, "CorpusReader output differs from the file's text (chunkSize \(options.chunkSize))")
    return 0
}
