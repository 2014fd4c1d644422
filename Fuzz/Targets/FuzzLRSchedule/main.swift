// Hands control to libFuzzer, which calls LLVMFuzzerTestOneInput (Target.swift) for every input.
import CFuzzDriver
import Foundation

exit(charrnn_fuzz_main(CommandLine.argc, CommandLine.unsafeArgv))
