/// Durations and cadences as a user writes them on the command line.
public enum DurationText {
    /// Seconds in `text`: a number of seconds (`90`) or a number with a unit (`90s`, `20m`, `1.5h`);
    /// the result is finite and > 0. Throws `TrainingError.invalidOptions` naming `option`.
    public static func seconds(_ text: String, option: String) throws -> Double {
        let units: [Character: Double] = ["s": 1, "m": 60, "h": 3600]
        var number = Substring(text)
        var scale = 1.0
        if let last = text.last, let unit = units[last] { number = text.dropLast(); scale = unit }
        guard let value = Double(number), value > 0, value.isFinite, (value * scale).isFinite else {
            throw TrainingError.invalidOptions("\(option): expected seconds or a duration like 90s, 20m, 2h; got '\(text)'")
        }
        return value * scale
    }

    /// A checkpoint cadence: a step count (digits only, ≥ 0) or a duration with a unit (600s, 10m,
    /// 1h), as (steps, seconds); a duration gives steps 0. Throws naming `option`.
    public static func cadence(_ text: String, option: String) throws -> (steps: Int, seconds: Double?) {
        if let steps = Int(text) {
            guard steps >= 0 else { throw TrainingError.invalidOptions("\(option) must be ≥ 0 steps, got \(steps)") }
            return (steps, nil)
        }
        guard let last = text.last, "smh".contains(last) else {
            throw TrainingError.invalidOptions("\(option): expected a number of steps or a duration like 600s, 10m, 1h; got '\(text)'")
        }
        return (0, try seconds(text, option: option))
    }
}
