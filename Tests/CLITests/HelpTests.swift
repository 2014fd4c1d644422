import Testing
@testable import CharRNNCLI

@Suite struct HelpTests {
    @Test func rootHelpNamesTheTool() {
        let help = CharRNNCommand.helpMessage()
        #expect(help.contains("USAGE: charrnn"))
        #expect(help.contains("Character-level recurrent language models"))
    }
}
