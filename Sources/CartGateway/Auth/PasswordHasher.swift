import CartTLS

/// Stores passwords as salted PBKDF2-HMAC-SHA256 hashes in a self-describing text form:
///
///     pbkdf2-sha256$<iterations>$<salt, base64url>$<derived key, base64url>
///
/// The algorithm and iteration count travel with each hash, so the default can be raised
/// later: old hashes still verify, and `needsRehash` says when to replace one at next login.
public struct PasswordHasher: Sendable {
    public static let algorithm = "pbkdf2-sha256"
    /// OWASP's 2023 recommendation for PBKDF2-HMAC-SHA256.
    public static let iterationsDefault = 600_000
    public static let saltBytes = 16
    public static let derivedKeyBytes = 32
    /// Longer passwords are refused: PBKDF2 hashes the password on every iteration.
    public static let passwordBytesMax = 1024
    /// Longer stored hashes are refused before parsing.
    public static let encodedBytesMax = 256

    public let iterations: Int

    public init(iterations: Int = iterationsDefault) throws(PasswordHashError) {
        guard (1...Crypto.pbkdf2IterationsMax).contains(iterations) else {
            throw PasswordHashError(.invalidParameter, "iterations \(iterations) outside 1...\(Crypto.pbkdf2IterationsMax)")
        }
        self.iterations = iterations
    }

    /// A new hash of `password` with a fresh random salt.
    public func hash(password: String) throws(PasswordHashError) -> String {
        try Self.checkLength(password)
        let salt: [UInt8]
        do {
            salt = try Crypto.randomBytes(count: Self.saltBytes)
        } catch {
            throw PasswordHashError(.randomUnavailable, error.message)
        }
        let key = try Self.derive(password, salt: salt, iterations: iterations)
        return "\(Self.algorithm)$\(iterations)$\(Base64URL.encode(salt))$\(Base64URL.encode(key))"
    }

    /// Whether `password` matches `encoded`; compares in constant time. A wrong password is
    /// `false`; a stored hash that cannot be read is an error (the store is damaged).
    public func verify(password: String, against encoded: String) throws(PasswordHashError) -> Bool {
        let stored = try StoredHash(parsing: encoded)
        guard password.utf8.count <= Self.passwordBytesMax else { return false }
        let key = try Self.derive(password, salt: stored.salt, iterations: stored.iterations)
        return Crypto.constantTimeEqual(key, stored.key)
    }

    /// Spends the time of a real verification and returns false: login for a user that does
    /// not exist calls this, so the answer's timing does not reveal which user names exist.
    public func verifyWithoutUser(password: String) -> Bool {
        let salt = [UInt8](repeating: 0, count: Self.saltBytes)
        _ = try? Crypto.pbkdf2HMACSHA256(
            password: password.utf8.prefix(Self.passwordBytesMax), salt: salt, iterations: iterations, derivedKeyBytes: Self.derivedKeyBytes)
        return false
    }

    /// Whether `encoded` was made with weaker settings than this hasher's.
    public func needsRehash(_ encoded: String) throws(PasswordHashError) -> Bool {
        try StoredHash(parsing: encoded).iterations < iterations
    }

    private static func checkLength(_ password: String) throws(PasswordHashError) {
        guard password.utf8.count <= passwordBytesMax else {
            throw PasswordHashError(.passwordTooLong, "password is \(password.utf8.count) bytes; at most \(passwordBytesMax) are accepted")
        }
    }

    private static func derive(_ password: String, salt: [UInt8], iterations: Int) throws(PasswordHashError) -> [UInt8] {
        do {
            return try Crypto.pbkdf2HMACSHA256(
                password: password.utf8, salt: salt, iterations: iterations, derivedKeyBytes: derivedKeyBytes)
        } catch {
            throw PasswordHashError(.invalidParameter, error.message)
        }
    }
}

/// The fields of an encoded password hash.
struct StoredHash {
    let iterations: Int
    let salt: [UInt8]
    let key: [UInt8]

    init(parsing encoded: String) throws(PasswordHashError) {
        guard encoded.utf8.count <= PasswordHasher.encodedBytesMax else {
            throw PasswordHashError(.malformedHash, "stored hash is longer than \(PasswordHasher.encodedBytesMax) bytes")
        }
        let fields = encoded.split(separator: "$", omittingEmptySubsequences: false)
        guard fields.count == 4 else {
            throw PasswordHashError(.malformedHash, "stored hash has \(fields.count) `$`-separated fields, expected 4")
        }
        guard fields[0] == PasswordHasher.algorithm else {
            throw PasswordHashError(.unsupportedAlgorithm, "stored hash uses `\(fields[0])`; only `\(PasswordHasher.algorithm)` is supported")
        }
        guard let iterations = Int(fields[1]), (1...Crypto.pbkdf2IterationsMax).contains(iterations) else {
            throw PasswordHashError(.malformedHash, "stored hash iteration count `\(fields[1])` is not in 1...\(Crypto.pbkdf2IterationsMax)")
        }
        guard let salt = Base64URL.decode(fields[2].utf8), !salt.isEmpty,
              let key = Base64URL.decode(fields[3].utf8), key.count == PasswordHasher.derivedKeyBytes else {
            throw PasswordHashError(.malformedHash, "stored hash salt or key is not base64url of the expected length")
        }
        self.iterations = iterations
        self.salt = salt
        self.key = key
    }
}

public struct PasswordHashError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case malformedHash = "password.malformed_hash"
        case unsupportedAlgorithm = "password.unsupported_algorithm"
        case passwordTooLong = "password.too_long"
        case invalidParameter = "password.invalid_parameter"
        case randomUnavailable = "password.random_unavailable"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
