/// An Encoder that encodes nothing and records every coding key that has no integer value
/// (and is not an enum payload's `_0`, `_1`, …). The wire's binary encoding numbers fields
/// by `CodingKey.intValue`, so every domain type must pass this audit.
final class IntegerKeyAudit {
    private(set) var violations: Set<String> = []

    func audit(_ value: some Encodable) -> Set<String> {
        try? value.encode(to: AuditEncoder(audit: self, codingPath: []))
        return violations
    }

    fileprivate func check(_ key: some CodingKey, in path: [any CodingKey]) {
        let positional = key.stringValue.hasPrefix("_") && Int(key.stringValue.dropFirst()) != nil
        if key.intValue == nil && !positional {
            violations.insert((path.map(\.stringValue) + [key.stringValue]).joined(separator: "."))
        }
    }
}

private struct AuditEncoder: Encoder {
    let audit: IntegerKeyAudit
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        KeyedEncodingContainer(KeyedAudit<Key>(audit: audit, codingPath: codingPath))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer { UnkeyedAudit(audit: audit, codingPath: codingPath) }

    func singleValueContainer() -> any SingleValueEncodingContainer { SingleAudit(audit: audit, codingPath: codingPath) }
}

private struct KeyedAudit<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let audit: IntegerKeyAudit
    let codingPath: [any CodingKey]

    mutating func encodeNil(forKey key: Key) throws { audit.check(key, in: codingPath) }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        audit.check(key, in: codingPath)
        try descend(into: value, audit: audit, codingPath: codingPath + [key])
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type, forKey key: Key)
        -> KeyedEncodingContainer<NestedKey> {
        audit.check(key, in: codingPath)
        return KeyedEncodingContainer(KeyedAudit<NestedKey>(audit: audit, codingPath: codingPath + [key]))
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        audit.check(key, in: codingPath)
        return UnkeyedAudit(audit: audit, codingPath: codingPath + [key])
    }

    mutating func superEncoder() -> any Encoder { AuditEncoder(audit: audit, codingPath: codingPath) }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        audit.check(key, in: codingPath)
        return AuditEncoder(audit: audit, codingPath: codingPath + [key])
    }
}

private struct UnkeyedAudit: UnkeyedEncodingContainer {
    let audit: IntegerKeyAudit
    let codingPath: [any CodingKey]
    var count = 0

    mutating func encodeNil() throws { count += 1 }

    mutating func encode<T: Encodable>(_ value: T) throws {
        count += 1
        try descend(into: value, audit: audit, codingPath: codingPath)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy keyType: NestedKey.Type) -> KeyedEncodingContainer<NestedKey> {
        KeyedEncodingContainer(KeyedAudit<NestedKey>(audit: audit, codingPath: codingPath))
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer { UnkeyedAudit(audit: audit, codingPath: codingPath) }

    mutating func superEncoder() -> any Encoder { AuditEncoder(audit: audit, codingPath: codingPath) }
}

private struct SingleAudit: SingleValueEncodingContainer {
    let audit: IntegerKeyAudit
    let codingPath: [any CodingKey]

    mutating func encodeNil() throws {}
    mutating func encode<T: Encodable>(_ value: T) throws {
        try descend(into: value, audit: audit, codingPath: codingPath)
    }
}

/// Primitives have no keys; everything else is walked.
private func descend(into value: some Encodable, audit: IntegerKeyAudit, codingPath: [any CodingKey]) throws {
    if value is any BinaryInteger || value is String || value is Bool || value is Double || value is Float { return }
    try value.encode(to: AuditEncoder(audit: audit, codingPath: codingPath))
}
