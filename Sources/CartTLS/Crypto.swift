import COpenSSLShim

/// Hashing, MACs, key derivation and randomness from the system libcrypto, for the gateway
/// (tokens, password hashes) and storage (integrity tags).
public enum Crypto {
    public static let sha256DigestBytes = 32
    /// PBKDF2 iteration counts above this are refused: a request could otherwise pin a core.
    public static let pbkdf2IterationsMax = 10_000_000
    /// Largest derived key PBKDF2 produces here.
    public static let derivedKeyBytesMax = 1024
    /// Largest single request for random bytes.
    public static let randomBytesMax = 1 << 20

    public static func sha256(_ message: some Sequence<UInt8>) -> [UInt8] {
        Array(message).withUnsafeBytes { sha256($0) }
    }

    /// SHA-256 of memory already contiguous (a ByteBuffer's readable bytes) without copying it.
    public static func sha256(_ message: UnsafeRawBufferPointer) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: sha256DigestBytes)
        var digestBytes: UInt32 = 0
        let result = digest.withUnsafeMutableBufferPointer { output in
            EVP_Digest(message.baseAddress, message.count, output.baseAddress, &digestBytes, EVP_sha256(), nil)
        }
        precondition(result == 1 && digestBytes == UInt32(sha256DigestBytes), "EVP_Digest(SHA-256) failed")
        return digest
    }

    public static func hmacSHA256(key: some Sequence<UInt8>, message: some Sequence<UInt8>) -> [UInt8] {
        let key = Array(key)
        let message = Array(message)
        var mac = [UInt8](repeating: 0, count: sha256DigestBytes)
        var macBytes: UInt32 = 0
        let result = key.withUnsafeBytes { keyBytes in
            message.withUnsafeBytes { input in
                mac.withUnsafeMutableBufferPointer { output in
                    HMAC(EVP_sha256(), keyBytes.baseAddress, Int32(keyBytes.count),
                         input.baseAddress?.assumingMemoryBound(to: UInt8.self), input.count,
                         output.baseAddress, &macBytes)
                }
            }
        }
        precondition(result != nil && macBytes == UInt32(sha256DigestBytes), "HMAC-SHA256 failed")
        return mac
    }

    /// Checks `mac` against HMAC-SHA256(key, message) in time independent of where they differ.
    public static func verifyHMACSHA256(key: some Sequence<UInt8>, message: some Sequence<UInt8>, mac: some Sequence<UInt8>) -> Bool {
        constantTimeEqual(hmacSHA256(key: key, message: message), Array(mac))
    }

    /// Equality whose running time depends only on the lengths, never on the contents
    /// (`CRYPTO_memcmp`), so comparing secrets leaks nothing through timing.
    public static func constantTimeEqual(_ lhs: [UInt8], _ rhs: [UInt8]) -> Bool {
        guard lhs.count == rhs.count else { return false }
        guard !lhs.isEmpty else { return true }
        return lhs.withUnsafeBytes { a in
            rhs.withUnsafeBytes { b in CRYPTO_memcmp(a.baseAddress, b.baseAddress, a.count) == 0 }
        }
    }

    public static func pbkdf2HMACSHA256(
        password: some Sequence<UInt8>,
        salt: some Sequence<UInt8>,
        iterations: Int,
        derivedKeyBytes: Int
    ) throws(CryptoError) -> [UInt8] {
        guard (1...pbkdf2IterationsMax).contains(iterations) else {
            throw CryptoError(.invalidParameter, "PBKDF2 iterations \(iterations) outside 1...\(pbkdf2IterationsMax)")
        }
        guard (1...derivedKeyBytesMax).contains(derivedKeyBytes) else {
            throw CryptoError(.invalidParameter, "PBKDF2 key length \(derivedKeyBytes) outside 1...\(derivedKeyBytesMax)")
        }
        let password = Array(password)
        let salt = Array(salt)
        var key = [UInt8](repeating: 0, count: derivedKeyBytes)
        let result = password.withUnsafeBytes { passwordBytes in
            salt.withUnsafeBytes { saltBytes in
                key.withUnsafeMutableBufferPointer { output in
                    PKCS5_PBKDF2_HMAC(
                        passwordBytes.baseAddress?.assumingMemoryBound(to: CChar.self), Int32(passwordBytes.count),
                        saltBytes.baseAddress?.assumingMemoryBound(to: UInt8.self), Int32(saltBytes.count),
                        Int32(iterations), EVP_sha256(), Int32(derivedKeyBytes), output.baseAddress)
                }
            }
        }
        guard result == 1 else {
            throw CryptoError(.operationFailed, "PKCS5_PBKDF2_HMAC failed")
        }
        return key
    }

    /// Bytes from OpenSSL's CSPRNG, seeded by the operating system.
    public static func randomBytes(count: Int) throws(CryptoError) -> [UInt8] {
        guard (0...randomBytesMax).contains(count) else {
            throw CryptoError(.invalidParameter, "random byte count \(count) outside 0...\(randomBytesMax)")
        }
        var bytes = [UInt8](repeating: 0, count: count)
        guard count > 0 else { return bytes }
        let result = bytes.withUnsafeMutableBufferPointer { RAND_bytes($0.baseAddress, Int32(count)) }
        guard result == 1 else {
            throw CryptoError(.randomUnavailable, "RAND_bytes failed: the random generator is not seeded")
        }
        return bytes
    }
}

/// A failed crypto helper call, with a stable code and a human message.
public struct CryptoError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable, Hashable {
        case invalidParameter = "crypto.invalid_parameter"
        case operationFailed = "crypto.operation_failed"
        case randomUnavailable = "crypto.random_unavailable"
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public var description: String { "\(code.rawValue): \(message)" }
}
