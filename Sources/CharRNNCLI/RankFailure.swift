import ArgumentParser
import CharRNN
import Foundation

/// How a command that runs on several MPI ranks reports a failure: the failing rank prints one line,
/// `charrnn: rank N: <message>`, and ends the whole job with MPI_Abort (exit status 1), so no rank
/// waits forever in a collective its peer will never join. mpirun then adds its own MPI_ABORT
/// notice (`mpirun -q` hides it).
///
/// An error every rank meets at once (a missing corpus file) would print N copies of the same
/// line: ranks other than 0 wait two seconds before printing, and rank 0's abort (SIGTERM, then SIGKILL from mpirun) normally ends
/// them first, so such an error is printed once; an error of one rank alone is still printed.
enum RankFailure {
    /// Seconds ranks other than 0 wait before reporting an error.
    static let nonRootDelay = 2.0

    /// Runs `body`. In a job of one process errors pass through unchanged (`CLIErrors` reports them).
    static func reporting<T>(_ communicator: any Communicator, _ body: () throws -> T) throws -> T {
        if communicator.size == 1 { return try body() }
        do {
            return try body()
        } catch let error as ExitCode {
            throw error  // e.g. interrupted: every rank agreed to stop at the same step
        } catch {
            report(CLIErrors.message(for: error), rank: communicator.rank)
            communicator.abort(code: 1)
        }
    }

    /// The communicator of this process; when mpirun started it but MPI cannot be loaded, reports
    /// the reason with the launcher's rank number and exits with status 1.
    static func communicator() throws -> any Communicator {
        do {
            return try Communicators.fromEnvironment()
        } catch {
            let rank = ProcessInfo.processInfo.environment["OMPI_COMM_WORLD_RANK"].flatMap { Int($0) } ?? 0
            report(CLIErrors.message(for: error), rank: rank)
            throw ExitCode.failure
        }
    }

    static func report(_ message: String, rank: Int) {
        if rank != 0 { Thread.sleep(forTimeInterval: nonRootDelay) }
        StandardOutput.writeError("charrnn: rank \(rank): \(message)\n")
    }
}
