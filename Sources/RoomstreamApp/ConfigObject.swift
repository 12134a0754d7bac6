import Foundation

/// A JSON object being read as configuration, with the dotted path for error messages.
struct ConfigObject {
    let values: [String: Any]
    let path: String

    init(_ value: Any, path: String) throws(ConfigurationError) {
        guard let values = value as? [String: Any] else {
            throw ConfigurationError(field: path, problem: "must be a JSON object")
        }
        self.values = values
        self.path = path
    }

    func field(_ key: String) -> String { path.isEmpty ? key : "\(path).\(key)" }

    /// Every key not in `keys`, each as a problem.
    func unknownKeyProblems(_ keys: Set<String>) -> [ConfigurationError] {
        values.keys.sorted().filter { !keys.contains($0) }.map {
            ConfigurationError(field: field($0), problem: "unknown key (known: \(keys.sorted().joined(separator: ", ")))")
        }
    }

    func only(_ keys: Set<String>) throws(ConfigurationError) {
        for key in values.keys.sorted() where !keys.contains(key) {
            throw ConfigurationError(field: field(key), problem: "unknown key (known: \(keys.sorted().joined(separator: ", ")))")
        }
    }

    func object(_ key: String) throws(ConfigurationError) -> ConfigObject? {
        guard let value = values[key] else { return nil }
        return try ConfigObject(value, path: field(key))
    }

    func strings(_ key: String) throws(ConfigurationError) -> [String]? {
        guard let value = values[key] else { return nil }
        guard let strings = value as? [String], (value as? [Any])?.count == strings.count else {
            throw ConfigurationError(field: field(key), problem: "must be an array of strings, got \(describe(value))")
        }
        return strings
    }

    func bool(_ key: String) throws(ConfigurationError) -> Bool? {
        guard let value = values[key] else { return nil }
        guard isJSONBoolean(value), let flag = value as? Bool else {
            throw ConfigurationError(field: field(key), problem: "must be true or false, got \(describe(value))")
        }
        return flag
    }

    func string(_ key: String) throws(ConfigurationError) -> String? {
        guard let value = values[key] else { return nil }
        guard let string = value as? String else {
            throw ConfigurationError(field: field(key), problem: "must be a string, got \(describe(value))")
        }
        return string
    }

    func number(_ key: String) throws(ConfigurationError) -> Double? {
        guard let value = values[key] else { return nil }
        guard let number = value as? NSNumber, !isJSONBoolean(value) else {
            throw ConfigurationError(field: field(key), problem: "must be a number, got \(describe(value))")
        }
        return number.doubleValue
    }

    func integer(_ key: String, in range: ClosedRange<Int>) throws(ConfigurationError) -> Int? {
        guard let value = try number(key) else { return nil }
        guard value.rounded() == value, value >= Double(range.lowerBound), value <= Double(range.upperBound) else {
            throw ConfigurationError(field: field(key), problem: "must be an integer from \(range.lowerBound) to \(range.upperBound), got \(describe(values[key] as Any))")
        }
        return Int(value)
    }

    /// A token bucket: `perSecond` absent or 0 turns it off; the burst defaults to two seconds'
    /// worth (at least 1) and may not be below 1 (no request could ever pass).
    func rateLimit(perSecond perSecondKey: String, burst burstKey: String) throws(ConfigurationError) -> RateLimit? {
        let perSecond = try number(perSecondKey) ?? 0
        guard perSecond >= 0, perSecond <= 1_000_000 else {
            throw ConfigurationError(field: field(perSecondKey), problem: "must be from 0 (off) to 1000000, got \(perSecond)")
        }
        let burst = try number(burstKey)
        if let burst, burst < 1 || burst > 10_000_000 {
            throw ConfigurationError(field: field(burstKey), problem: "must be from 1 to 10000000, got \(burst)")
        }
        guard perSecond > 0 else {
            if burst != nil { throw ConfigurationError(field: field(burstKey), problem: "needs \(field(perSecondKey)) above 0") }
            return nil
        }
        return RateLimit(perSecond: perSecond, burst: burst ?? max(1, (2 * perSecond).rounded(.up)))
    }

    /// A timeout in seconds: positive, at most a day, fractions allowed (tests use short ones).
    func seconds(_ key: String) throws(ConfigurationError) -> Duration? {
        guard let value = try number(key) else { return nil }
        guard value > 0, value <= 86_400 else {
            throw ConfigurationError(field: field(key), problem: "must be a number of seconds above 0 and at most 86400, got \(describe(values[key] as Any))")
        }
        return .milliseconds(Int((value * 1000).rounded()))
    }

    private func describe(_ value: Any) -> String {
        if value is NSNull { return "null" }
        if let string = value as? String { return "\"\(string)\"" }
        if value is [Any] { return "an array" }
        if value is [String: Any] { return "an object" }
        if let number = value as? NSNumber {
            if isJSONBoolean(value) { return number.boolValue ? "true" : "false" }
            return number.stringValue
        }
        return "\(value)"
    }
}

/// JSONSerialization gives `true`/`false` as NSNumber's boolean subclass, which also casts to
/// Int and Double; its dynamic type is the only reliable tell.
func isJSONBoolean(_ value: Any) -> Bool {
    type(of: value) == jsonBooleanType
}

private let jsonBooleanType: Any.Type = type(of: NSNumber(value: true))
