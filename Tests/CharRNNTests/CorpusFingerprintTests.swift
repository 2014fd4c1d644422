import Testing
import TextCorpus
@testable import CharRNN

/// The resume fingerprint is the same from `TokenIDs` (stored width, fast path) as from any other sequence.
@Suite struct CorpusFingerprintTests {
    @Test(arguments: [150, 40_000, 3_000_000])
    func tokenIDsAndArraysGiveTheSameFingerprint(bound: Int) {
        var generator = SystemRandomNumberGenerator()
        let values = (0..<4_000).map { _ in Int32.random(in: 0..<Int32(bound), using: &generator) }
        let ids = TokenIDs(values)
        #expect(CorpusDescription.fingerprint(of: ids) == CorpusDescription.fingerprint(of: values))
        #expect(CorpusDescription.fingerprint(of: ids[10..<3_000]) == CorpusDescription.fingerprint(of: Array(values[10..<3_000])))
        #expect(CorpusDescription.fingerprint(of: ids) != CorpusDescription.fingerprint(of: values.dropLast()))
    }
}
