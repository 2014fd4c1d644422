// libFuzzer target: ZipArchive (central directory, zip64) and ZipMemberStream (stored and deflated
// members, CRC and size checks) on a scratch file holding the fuzz input.
// Property: never crashes or hangs; a member never yields more bytes than its declared size.
import Foundation
import FuzzSupport
import TextCorpus

@_cdecl("LLVMFuzzerTestOneInput")
public func testOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let url = ScratchFiles.write(ScratchFiles.input(data, size), named: "archive.zip")
    guard let archive = try? ZipArchive(path: url.path) else { return 0 }
    var buffer = [UInt8](repeating: 0, count: 4096)
    for member in archive.members.prefix(8) where !member.isDirectory {
        guard let stream = try? ZipMemberStream(archivePath: url.path, member: member) else { continue }
        var total: UInt64 = 0
        // At most 1 MiB per member: a tiny input may declare a huge member (a zip bomb is legal).
        while total < 1 << 20 {
            guard let got = try? buffer.withUnsafeMutableBytes({ try stream.read(into: $0) }), got > 0 else { break }
            total += UInt64(got)
            precondition(total <= member.uncompressedSize, "member \(member.name) yields more than its declared size")
        }
    }
    return 0
}
