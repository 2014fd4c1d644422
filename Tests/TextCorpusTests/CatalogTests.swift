import Foundation
import Testing
import TestSupport
@testable import TextCorpus

@Suite struct CatalogTests {
    @Test func sha256KnownAnswers() {
        #expect(SHA256.hex([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
        #expect(SHA256.hex(Array("abc".utf8)) == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        #expect(SHA256.hex(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))
            == "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1")
        // Streaming in odd pieces equals one shot.
        let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var hash = SHA256()
        var start = 0
        for piece in [1, 63, 64, 65, 127, 1000, 3] {
            hash.update(Array(bytes[start..<(start + piece)]))
            start += piece
        }
        hash.update(Array(bytes[start...]))
        #expect(hash.finalizeHex() == SHA256.hex(bytes))
    }

    @Test func shippedCatalogEqualsBuiltIn() throws {
        let url = SharedCorpora.projectRoot.appendingPathComponent("corpora/catalog.json")
        let shipped = try JSONDecoder().decode(CorpusCatalog.self, from: Data(contentsOf: url))
        #expect(shipped == CorpusCatalog.builtIn)
        #expect(shipped.corpora.map(\.name) == ["tiny-shakespeare", "enwik8", "text8", "wikitext-2-raw"])
        for entry in shipped.corpora {
            #expect(entry.size > 0)
            if let sha = entry.sha256 { #expect(sha.count == 64 && sha.allSatisfy(\.isHexDigit)) }
        }
    }

    @Test func tinyShakespeareMirrorMatchesCatalog() throws {
        guard let url = SharedCorpora.url("tinyshakespeare.txt") else { return }
        let entry = try CorpusCatalog.builtIn.entry(named: "tiny-shakespeare")
        let (size, sha) = try CorpusFetcher.digest(of: url)
        #expect(size == entry.size)
        #expect(sha == entry.sha256)
    }
}
