import Foundation
import Synchronization

/// The signal that asked the process to stop (0: none yet). Written only by the handler.
private let receivedSignal = Atomic<Int32>(0)

/// SIGINT (Ctrl-C) and SIGTERM as a stop request: the first one sets a flag that a long-running
/// command polls (training finishes its step, saves `latest/` and exits); a second one ends the
/// process at once with the conventional status 128 + signal.
enum InterruptSignals {
    /// Installs the handlers for SIGINT and SIGTERM.
    static func install() {
        let handler: @convention(c) (Int32) -> Void = { signal in
            let (exchanged, _) = receivedSignal.compareExchange(expected: 0, desired: signal, ordering: .relaxed)
            if !exchanged { _exit(128 + signal) }
            let message: StaticString = "\ncharrnn: stopping after this step and saving latest/ (signal again to quit at once)\n"
            message.withUTF8Buffer { _ = write(STDERR_FILENO, $0.baseAddress, $0.count) }
        }
        signal(SIGINT, handler)
        signal(SIGTERM, handler)
        // A parent may have started us with these signals blocked (the mask is inherited): unblock
        // them on this thread, so they are delivered.
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGINT)
        sigaddset(&set, SIGTERM)
        pthread_sigmask(SIG_UNBLOCK, &set, nil)
    }

    /// The signal received, if any.
    static var received: Int32? {
        let value = receivedSignal.load(ordering: .relaxed)
        return value == 0 ? nil : value
    }
}
