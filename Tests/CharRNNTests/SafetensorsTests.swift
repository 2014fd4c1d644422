import Foundation
import Testing
import TestSupport
@testable import CharRNN

@Suite struct SafetensorsTests {
    let sample = SafetensorsFile(
        tensors: [SafetensorsTensor(name: "encoder.weight", shape: [2, 3], floats: [1, -2, 3.5, 0, .pi, -0.0]),
                  SafetensorsTensor(name: "decoder.bias", shape: [2], floats: [7, 8])],
        metadata: ["format": "charrnn", "version": "1"])

    /// Builds a file from a hand-written header and buffer.
    func handMade(_ header: String, buffer: [UInt8]) -> Data {
        var data = Data()
        withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array(header.utf8))
        data.append(contentsOf: buffer)
        return data
    }

    @Test func roundTripPreservesTensorsAndMetadata() throws {
        let data = sample.serialized()
        let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        #expect(headerLength % 8 == 0)
        let parsed = try SafetensorsFile.parse(data, path: "x")
        #expect(parsed == sample)
        #expect(parsed.tensor("encoder.weight")?.floats == [1, -2, 3.5, 0, .pi, -0.0])
        #expect(parsed.metadata["version"] == "1")
    }

    @Test func headerIsTheDocumentedJSON() throws {
        let data = sample.serialized()
        let headerLength = data.prefix(8).enumerated().reduce(0) { $0 | Int($1.element) << (8 * $1.offset) }
        let object = try JSONSerialization.jsonObject(with: data.subdata(in: 8..<(8 + headerLength))) as! [String: Any]
        let entry = object["decoder.bias"] as! [String: Any]
        #expect(entry["dtype"] as? String == "F32")
        #expect(entry["shape"] as? [Int] == [2])
        #expect(entry["data_offsets"] as? [Int] == [24, 32])
    }

    @Test func truncatedFileIsRejected() {
        let data = sample.serialized()
        #expect(throws: CheckpointError.self) { try SafetensorsFile.parse(data.prefix(data.count - 1), path: "m") }
        #expect(throws: CheckpointError.self) { try SafetensorsFile.parse(data.prefix(5), path: "m") }
        #expect(throws: CheckpointError.self) { try SafetensorsFile.parse(data.prefix(20), path: "m") }
    }

    @Test(arguments: [
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}"#, 8, "overlaps"),
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}"#, 8, "gap"),
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}"#, 8, "cover"),
        (#"{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}"#, 4, "needs 8"),
        (#"{"a":{"dtype":"X9","shape":[1],"data_offsets":[0,4]}}"#, 4, "dtype"),
        (#"{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,40]}}"#, 4, "exceed"),
        (#"[1,2]"#, 0, "'{'"),
        (#"{"a":"#, 0, "JSON"),
        (#"{"__metadata__":{"k":1}}"#, 0, "not a string"),
    ])
    func invalidHeadersAreRejectedWithTheReason(header: String, bufferSize: Int, reason: String) {
        let data = handMade(header, buffer: [UInt8](repeating: 0, count: bufferSize))
        do {
            _ = try SafetensorsFile.parse(data, path: "bad.safetensors")
            Issue.record("accepted an invalid file")
        } catch {
            #expect("\(error)".contains(reason), "\(error)")
            #expect("\(error)".hasPrefix("bad.safetensors: "))
        }
    }

    @Test func oversizedHeaderLengthIsRejectedBeforeReading() {
        var data = Data()
        withUnsafeBytes(of: UInt64(200_000_000).littleEndian) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array("{}".utf8))
        #expect(throws: CheckpointError.self) { try SafetensorsFile.parse(data, path: "big") }
    }

    @Test func writeIsAtomicAndLeavesNoTemporaryFiles() throws {
        let directory = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let url = directory.appendingPathComponent("model.safetensors")
        try sample.write(to: url)
        try sample.write(to: url)
        #expect(try SafetensorsFile.read(from: url) == sample)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory.path) == ["model.safetensors"])
    }

    @Test func missingFileIsNamed() {
        #expect(throws: CheckpointError.missing("/nonexistent/model.safetensors")) {
            try SafetensorsFile.read(from: URL(fileURLWithPath: "/nonexistent/model.safetensors"))
        }
    }
}

@Suite struct AtomicDirectoryTests {
    @Test func replacingADirectorySwapsItWhole() throws {
        let root = try SharedCorpora.temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: root) }
        let target = root.appendingPathComponent("best")
        for generation in 1...3 {
            let staged = root.appendingPathComponent(".staged-\(generation)")
            try FileManager.default.createDirectory(at: staged, withIntermediateDirectories: true)
            try Data("\(generation)".utf8).write(to: staged.appendingPathComponent("a"))
            try AtomicFile.replaceDirectory(at: target, with: staged)
            #expect(String(decoding: try Data(contentsOf: target.appendingPathComponent("a")), as: UTF8.self) == "\(generation)")
        }
        #expect(try FileManager.default.contentsOfDirectory(atPath: root.path) == ["best"])
    }
}
