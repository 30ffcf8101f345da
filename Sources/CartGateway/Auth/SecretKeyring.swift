import CartTLS
import Foundation

/// The cluster's token keys: several by key id, one of them current (it signs new tokens),
/// the others only verify, so a key can rotate without logging everyone out.
///
/// Rotation: `rotated()` adds a key and makes it current; copy the file to every node and
/// reload; after the longest token lifetime has passed, `retiring(_:)` the old key.
///
/// File format (text, UTF-8, `#` starts a comment line, written with mode 0600):
///
///     # SharedCart token keys
///     key 1 3f9a…(64 hex digits)
///     key 2 b0c4…
///     current 2
public struct SecretKeyring: Sendable, CustomStringConvertible {
    public static let secretBytes = 32
    /// Shorter secrets are refused on load: an HMAC key is only as strong as its length.
    public static let secretBytesMin = 16
    public static let keysMax = 64
    public static let fileBytesMax = 64 * 1024

    public let currentKeyID: KeyID
    private let secrets: [KeyID: [UInt8]]

    public init(keys: [KeyID: [UInt8]], current: KeyID) throws(KeyringError) {
        guard !keys.isEmpty, keys.count <= Self.keysMax else {
            throw KeyringError(.malformed, "a keyring holds 1...\(Self.keysMax) keys, got \(keys.count)")
        }
        if let (id, secret) = keys.first(where: { $0.value.count < Self.secretBytesMin }) {
            throw KeyringError(.keyTooShort, "key \(id) is \(secret.count) bytes; at least \(Self.secretBytesMin) are required")
        }
        guard keys[current] != nil else {
            throw KeyringError(.noCurrentKey, "current key \(current) is not among the keys \(keys.keys.sorted())")
        }
        secrets = keys
        currentKeyID = current
    }

    public var keyIDs: [KeyID] { secrets.keys.sorted() }

    var currentSecret: [UInt8] { secrets[currentKeyID]! }

    func secret(for id: KeyID) -> [UInt8]? { secrets[id] }

    /// Never prints secrets.
    public var description: String { "SecretKeyring(keys: \(keyIDs), current: \(currentKeyID))" }

    /// A keyring with one fresh random key, id 1.
    public static func generate() throws(KeyringError) -> SecretKeyring {
        try SecretKeyring(keys: [KeyID(1): randomSecret()], current: KeyID(1))
    }

    /// This keyring plus a fresh random key with the next id, which becomes current.
    public func rotated() throws(KeyringError) -> SecretKeyring {
        let next = KeyID(keyIDs.last!.rawValue + 1)
        var keys = secrets
        keys[next] = try Self.randomSecret()
        return try SecretKeyring(keys: keys, current: next)
    }

    /// This keyring without `id`; tokens it signed stop verifying. The current key stays.
    public func retiring(_ id: KeyID) throws(KeyringError) -> SecretKeyring {
        guard id != currentKeyID else {
            throw KeyringError(.noCurrentKey, "key \(id) is current; rotate before retiring it")
        }
        var keys = secrets
        keys[id] = nil
        return try SecretKeyring(keys: keys, current: currentKeyID)
    }

    private static func randomSecret() throws(KeyringError) -> [UInt8] {
        do {
            return try Crypto.randomBytes(count: secretBytes)
        } catch {
            throw KeyringError(.randomUnavailable, error.message)
        }
    }
}

/// A keyring that could not be built, read or written.
public struct KeyringError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case malformed = "keyring.malformed"
        case keyTooShort = "keyring.key_too_short"
        case duplicateKey = "keyring.duplicate_key"
        case noCurrentKey = "keyring.no_current_key"
        case unreadable = "keyring.unreadable"
        case unwritable = "keyring.unwritable"
        case fileExists = "keyring.file_exists"
        case randomUnavailable = "keyring.random_unavailable"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
