import Testing
@testable import TextCorpus

@Suite struct ICUInfoTests {
    @Test func versionIsMajorDotMinor() {
        let parts = ICUInfo.version.split(separator: ".")
        #expect(parts.count == 2)
        #expect(Int(parts[0]).map { $0 >= 60 } == true)
    }
}
