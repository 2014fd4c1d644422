import ArgumentParser
import Foundation
import TextCorpus

/// `--token-cache DIR|off`, for every command that tokenizes a corpus from files (train, and eval's
/// encoding with a checkpoint's vocabulary).
struct TokenCacheArguments: ParsableArguments {
    @Option(name: .customLong("token-cache"),
            help: ArgumentHelp("Directory of tokenized corpora to map instead of re-reading, or 'off' (default: $XDG_CACHE_HOME/charrnn/tokens or ~/.cache/charrnn/tokens, for inputs of 8 MiB or more; a directory given here caches any size).",
                               valueName: "dir|off"))
    var tokenCacheOption: String?

    /// The token cache to load through: the one named by `--token-cache` (any corpus size), none for
    /// `off`, else the default directory for inputs of at least `TokenCache.defaultMinimumBytes`.
    var tokenCache: TokenCache? {
        switch tokenCacheOption {
        case "off"?: nil
        case let directory?: TokenCache(directory: URL(fileURLWithPath: directory))
        case nil: TokenCache.defaultDirectory().map { TokenCache(directory: $0, minimumBytes: TokenCache.defaultMinimumBytes) }
        }
    }

    func validate() throws {
        if tokenCacheOption?.isEmpty == true {
            throw ValidationError("--token-cache: give a directory or 'off'")
        }
    }
}
