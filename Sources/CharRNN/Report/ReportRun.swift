import Foundation

/// A problem building a report.
public enum ReportError: Error, Equatable, CustomStringConvertible {
    case notADirectory(String)
    case missingMetrics(directory: String)
    case unreadable(path: String, reason: String)
    case malformed(path: String, reason: String)
    case noRuns
    case writeFailed(path: String, reason: String)

    public var description: String {
        switch self {
        case .notADirectory(let path): "\(path) is not a run directory (no such directory)"
        case .missingMetrics(let directory):
            "\(directory) has no metrics.jsonl: a run directory needs metrics.jsonl to be reported"
        case .unreadable(let path, let reason): "cannot read \(path): \(reason)"
        case .malformed(let path, let reason): "\(path): \(reason)"
        case .noRuns: "no run directories given"
        case .writeFailed(let path, let reason): "cannot write \(path): \(reason)"
        }
    }
}

/// Everything the report reads from one run directory.
///
/// | file | required | schema |
/// | --- | --- | --- |
/// | `metrics.jsonl` | yes | one ``MetricsRecord`` per line |
/// | `config.json` | no | any JSON; shown as a flattened key → value table |
/// | `gradient-flow.json` | no | ``GradientFlowResult`` |
/// | `long-range.json` | no | ``LongRangeReport`` (or one bare ``LongRangeResult``) |
/// | `cells.html` | no | the page of `charrnn inspect-cells` (linked, not read) |
public struct ReportRun: Sendable {
    /// Display name: the directory's name.
    public var name: String
    public var directory: URL
    public var metrics: [MetricsRecord]
    /// `config.json` flattened to dotted keys (`model.hidden`), values as compact JSON text; nil when absent.
    public var config: [(key: String, value: String)]?
    public var gradientFlow: GradientFlowResult?
    public var longRange: LongRangeReport?
    /// `cells.html` in the run directory (from `charrnn inspect-cells --out`), when present.
    public var cellsPage: URL?

    public init(name: String, directory: URL, metrics: [MetricsRecord], config: [(key: String, value: String)]? = nil,
                gradientFlow: GradientFlowResult? = nil, longRange: LongRangeReport? = nil) {
        self.name = name; self.directory = directory; self.metrics = metrics; self.config = config
        self.gradientFlow = gradientFlow; self.longRange = longRange
    }

    /// Reads a run directory; throws ``ReportError`` naming the directory or file at fault.
    public static func load(_ directory: URL) throws -> ReportRun {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory.path, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw ReportError.notADirectory(directory.path)
        }
        let metricsURL = directory.appendingPathComponent("metrics.jsonl")
        guard FileManager.default.fileExists(atPath: metricsURL.path) else {
            throw ReportError.missingMetrics(directory: directory.path)
        }
        let metrics: [MetricsRecord]
        do {
            metrics = try MetricsRecord.parseLines(try read(metricsURL))
        } catch let error as MetricsError {
            throw ReportError.malformed(path: metricsURL.path, reason: error.description)
        }
        var run = ReportRun(name: directory.standardizedFileURL.lastPathComponent, directory: directory, metrics: metrics)
        let configURL = directory.appendingPathComponent("config.json")
        if FileManager.default.fileExists(atPath: configURL.path) {
            do {
                let object = try JSONSerialization.jsonObject(with: Data(try read(configURL).utf8), options: [.fragmentsAllowed])
                run.config = flatten(object)
            } catch let error as ReportError { throw error } catch {
                throw ReportError.malformed(path: configURL.path, reason: "not valid JSON")
            }
        }
        let flowURL = directory.appendingPathComponent("gradient-flow.json")
        if FileManager.default.fileExists(atPath: flowURL.path) {
            do { run.gradientFlow = try GradientFlowResult.decode(Data(try read(flowURL).utf8)) }
            catch let error as ReportError { throw error }
            catch { throw ReportError.malformed(path: flowURL.path, reason: "not a gradient-flow result (\(describe(error)))") }
        }
        let cellsURL = directory.appendingPathComponent("cells.html")
        if FileManager.default.fileExists(atPath: cellsURL.path) { run.cellsPage = cellsURL }
        let longURL = directory.appendingPathComponent("long-range.json")
        if FileManager.default.fileExists(atPath: longURL.path) {
            do { run.longRange = try LongRangeReport.decode(Data(try read(longURL).utf8)) }
            catch let error as ReportError { throw error }
            catch { throw ReportError.malformed(path: longURL.path, reason: "not a long-range result (\(describe(error)))") }
        }
        return run
    }

    private static func read(_ url: URL) throws -> String {
        do {
            let data = try Data(contentsOf: url)
            guard let text = String(data: data, encoding: .utf8) else {
                throw ReportError.malformed(path: url.path, reason: "not UTF-8")
            }
            return text
        } catch let error as ReportError { throw error } catch {
            throw ReportError.unreadable(path: url.path, reason: error.localizedDescription)
        }
    }

    private static func describe(_ error: any Error) -> String {
        switch error as? DecodingError {
        case .keyNotFound(let key, _)?: "missing key \(key.stringValue)"
        case .typeMismatch(_, let context)?, .valueNotFound(_, let context)?, .dataCorrupted(let context)?:
            "bad value at \(context.codingPath.map(\.stringValue).joined(separator: "."))"
        default: "invalid JSON"
        }
    }

    /// Flattens any JSON value into (dotted key, compact JSON text) rows; object keys sorted,
    /// arrays of scalars kept whole, arrays containing objects indexed (`layers.0.hidden`).
    static func flatten(_ value: Any, prefix: String = "") -> [(key: String, value: String)] {
        if let object = value as? [String: Any] {
            if object.isEmpty { return [(prefix.isEmpty ? "(root)" : prefix, "{}")] }
            return object.keys.sorted().flatMap { key in
                flatten(object[key]!, prefix: prefix.isEmpty ? key : "\(prefix).\(key)")
            }
        }
        if let array = value as? [Any], array.contains(where: { $0 is [String: Any] || $0 is [Any] }) {
            return array.enumerated().flatMap { flatten($0.element, prefix: "\(prefix).\($0.offset)") }
        }
        return [(prefix.isEmpty ? "(root)" : prefix, compactJSON(value))]
    }

    static func compactJSON(_ value: Any) -> String {
        if let string = value as? String { return string }
        if value is NSNull { return "null" }
        if let data = try? JSONSerialization.data(withJSONObject: value, options: [.fragmentsAllowed, .sortedKeys, .withoutEscapingSlashes]) {
            return String(decoding: data, as: UTF8.self)
        }
        return "\(value)"
    }
}
