import Testing
@testable import CharRNN

/// Stream shards and the single-process communicator (the MPI one runs in CLITests/MPITrainingTests).
@Suite struct CommunicatorTests {
    @Test(arguments: [(6, 2), (7, 3), (50, 4), (5, 5), (3, 1)])
    func shardsCoverTheBatchInContiguousNearlyEqualBlocks(streams: Int, ranks: Int) {
        let blocks = StreamShard.blocks(globalStreams: streams, ranks: ranks)
        #expect(blocks.count == ranks)
        #expect(blocks.first?.lowerBound == 0 && blocks.last?.upperBound == streams)
        for (a, b) in zip(blocks, blocks.dropFirst()) { #expect(a.upperBound == b.lowerBound) }
        let sizes = blocks.map(\.count)
        #expect(sizes.max()! - sizes.min()! <= 1)
        for rank in 0..<ranks {
            #expect(StreamShard(globalStreams: streams, rank: rank, ranks: ranks).streams == blocks[rank])
        }
    }

    @Test func sliceTakesTheBlocksColumnsOfEveryStep() {
        // T = 2, B = 5, ids[t·5 + b] = 10·t + b.
        let ids: [Int32] = [0, 1, 2, 3, 4, 10, 11, 12, 13, 14]
        #expect(StreamShard(globalStreams: 5, rank: 1, ranks: 2).slice(ids) == [2, 3, 4, 12, 13, 14])
        #expect(StreamShard(globalStreams: 5, rank: 0, ranks: 2).slice(ids) == [0, 1, 10, 11])
        #expect(StreamShard(globalStreams: 5, rank: 0, ranks: 1).slice(ids) == ids)
    }

    @Test func singleProcessIsTheIdentity() throws {
        let world = SingleProcess()
        #expect(world.rank == 0 && world.size == 1 && world.isRoot)
        var values: [Float] = [1.5, -2, 3]
        try values.withUnsafeMutableBufferPointer { try world.allreduceSum($0) }
        #expect(values == [1.5, -2, 3])
        #expect(try world.sum([2.5, 4]) == [2.5, 4])
        #expect(try world.any(true) && !world.any(false))
        #expect(try world.allgather(42) == [42])
        #expect(try values.withUnsafeBufferPointer { try world.gather($0, counts: [3], root: 0) } == values)
        #expect(throws: CommunicatorError.self) { try values.withUnsafeBufferPointer { try world.gather($0, counts: [2], root: 0) } }
        #expect(try AllreduceTiming.secondsPerAllreduce(world, count: 1000) == 0)
        #expect(throws: CommunicatorError.self) { try AllreduceTiming.secondsPerAllreduce(world, count: 0) }
        // The reducer over one process leaves the gradients as backward left them.
        try values.withUnsafeMutableBufferPointer { buffer in
            let reducer = GradientReducer(communicator: world, gradients: buffer)
            reducer.ready(0..<2)
            reducer.ready(2..<3)
            try reducer.finish()
            #expect(reducer.steps == 1)
        }
        #expect(values == [1.5, -2, 3])
    }

    @Test func divergedRanksAreNamedOnOneLine() {
        let one = TrainingError.ranksDiverged(step: 40, ranks: [2]).description
        #expect(one == "weights differ across MPI ranks at step 40: rank 2 disagrees with rank 0; stopped, the last saved checkpoint is intact")
        #expect(TrainingError.ranksDiverged(step: 1, ranks: [1, 3]).description.contains("ranks 1, 3 disagree with rank 0"))
    }
}
