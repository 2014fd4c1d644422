import ArgumentParser
import Foundation

/// Shared error reporting for every `charrnn` command.
///
/// Library errors (for example `CorpusError`) become one line on standard error,
/// `charrnn: error: <description>`, and exit status 1, with no stack trace and no usage text. Usage mistakes
/// that ArgumentParser detects itself (unknown option, bad value, `ValidationError` thrown from `validate()`)
/// keep ArgumentParser's own message and exit status 64.
///
/// Output goes through `StandardOutput`: a failed write to standard output throws
/// `CheckpointError.cannotWrite("standard output", reason)`, reported here like any library error; a
/// reader that went away ends the process quietly by SIGPIPE; messages here go to standard error
/// best effort (a full or closed standard error is ignored, never a crash).
///
/// Use it by wrapping the body of `run()`:
///
///     mutating func run() throws {
///         try CLIErrors.reporting {
///             let corpus = try TokenCorpus.load(paths: paths)
///             …
///         }
///     }
enum CLIErrors {
    /// Runs `body`; any error other than ArgumentParser's own is printed as one line and becomes `ExitCode(1)`.
    static func reporting<T>(_ body: () throws -> T) throws -> T {
        do {
            return try body()
        } catch let error as ExitCode {
            throw error
        } catch let error as CleanExit {
            throw error
        } catch let error as ValidationError {
            throw error
        } catch {
            printError(message(for: error))
            throw ExitCode.failure
        }
    }

    /// The one-line text for an error: its `LocalizedError.errorDescription` when it has one, else its
    /// `description` (every `CorpusError` is one line already),
    /// with line breaks folded into spaces.
    static func message(for error: any Error) -> String {
        let text: String
        if let localized = error as? LocalizedError, let description = localized.errorDescription {
            text = description
        } else {
            text = String(describing: error)
        }
        return text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }

    /// Writes `charrnn: error: <message>` and a newline to standard error.
    static func printError(_ message: String) {
        StandardOutput.writeError("charrnn: error: \(message)\n")
    }

    /// Writes `charrnn: warning: <message>` and a newline to standard error.
    static func printWarning(_ message: String) {
        StandardOutput.writeError("charrnn: warning: \(message)\n")
    }
}
