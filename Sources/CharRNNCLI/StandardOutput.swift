import CharRNN
import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Checked writes to standard output and best-effort writes to standard error, used by every
/// command instead of `print` and `FileHandle.write` (which lose errors or end in a fatal error
/// with a backtrace when the output is full or closed).
///
/// - A failed write to standard output throws `CheckpointError.cannotWrite("standard output", reason)`,
///   which `CLIErrors.reporting` turns into one line, e.g.
///   `charrnn: error: standard output: cannot write: No space left on device`, and exit status 1.
/// - A reader that went away (EPIPE: `charrnn generate … | head -c 100`) ends the process quietly
///   at once, as Unix tools do: by SIGPIPE (the shell reports status 141).
/// - Standard error has nowhere to report its own failures: they are ignored.
enum StandardOutput {
    /// Makes sure descriptors 0, 1 and 2 are open before anything else is, so that a file opened later
    /// never takes a closed one's number (and receives what was meant for the terminal). A closed
    /// standard input or error becomes /dev/null; a closed standard output becomes /dev/null opened
    /// read-only, so every write to it still fails ("Bad file descriptor") and is reported.
    ///
    /// Also checks, at exit, what was printed through C's buffered `stdout` (ArgumentParser's help,
    /// usage and version text): a failed flush is reported in one line and the exit status becomes 1.
    static func reserveStandardDescriptors() {
        atexit {
            if fflush(nil) != 0 {  // C output streams: only stdout is buffered here
                let code = errno
                if code == EPIPE { StandardOutput.endQuietlyForClosedReader() }
                StandardOutput.writeError("charrnn: error: standard output: cannot write: \(String(cString: strerror(code)))\n")
                _exit(1)
            }
        }
        for (descriptor, flags) in [(STDIN_FILENO, O_RDONLY), (STDOUT_FILENO, O_RDONLY), (STDERR_FILENO, O_WRONLY)]
        where fcntl(descriptor, F_GETFD) == -1 && errno == EBADF {
            let opened = open("/dev/null", flags)
            if opened >= 0 && opened != descriptor {
                dup2(opened, descriptor)
                close(opened)
            }
        }
    }

    /// Writes `text` and `terminator` to standard output, unbuffered.
    static func print(_ text: String = "", terminator: String = "\n") throws {
        try write(bytes: Array((text + terminator).utf8))
    }

    /// Writes raw bytes to standard output, unbuffered: all of them or an error.
    static func write(bytes: [UInt8]) throws {
        try bytes.withUnsafeBytes { try write(descriptor: STDOUT_FILENO, $0) }
    }

    /// Writes `text` to standard error; failures are ignored (there is nowhere left to report them).
    static func writeError(_ text: String) {
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { buffer in
            guard var address = buffer.baseAddress else { return }
            var remaining = buffer.count
            while remaining > 0 {
                let wrote = Glibc.write(STDERR_FILENO, address, remaining)
                if wrote < 0 && errno == EINTR { continue }
                if wrote <= 0 { return }
                address += wrote
                remaining -= wrote
            }
        }
    }

    /// Writes all of `buffer` to `descriptor` (standard output), retrying short writes and EINTR.
    static func write(descriptor: Int32, _ buffer: UnsafeRawBufferPointer) throws {
        guard var address = buffer.baseAddress else { return }
        var remaining = buffer.count
        while remaining > 0 {
            let wrote = Glibc.write(descriptor, address, remaining)
            if wrote < 0 {
                let code = errno
                if code == EINTR { continue }
                if code == EPIPE { endQuietlyForClosedReader() }
                throw CheckpointError.cannotWrite("standard output", String(cString: strerror(code)))
            }
            if wrote == 0 { throw CheckpointError.cannotWrite("standard output", "the device accepted no data") }
            address += wrote
            remaining -= wrote
        }
    }

    /// The reader of standard output is gone: end as a Unix tool does, by SIGPIPE, with no message.
    static func endQuietlyForClosedReader() -> Never {
        signal(SIGPIPE, SIG_DFL)
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGPIPE)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
        raise(SIGPIPE)
        _exit(128 + SIGPIPE)  // not reached unless the signal could not end the process
    }
}
