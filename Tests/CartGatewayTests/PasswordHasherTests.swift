import XCTest
@testable import CartGateway

/// Password hashes: the stored format, verification, and damaged hashes.
final class PasswordHasherTests: XCTestCase {
    // Low iterations keep the tests fast; the format and logic are the same as the default's.
    private let hasher = try! PasswordHasher(iterations: 1_000)

    /// Registration stores `pbkdf2-sha256$iterations$salt$key`; the right password verifies,
    /// a wrong one (even one character off) does not.
    func testRightPasswordVerifiesAndWrongOneDoesNot() throws {
        let stored = try hasher.hash(password: "correct horse battery staple")
        let fields = stored.split(separator: "$")
        XCTAssertEqual(fields.count, 4)
        XCTAssertEqual(fields[0], "pbkdf2-sha256")
        XCTAssertEqual(fields[1], "1000")
        XCTAssertEqual(Base64URL.decode(String(fields[2]))?.count, PasswordHasher.saltBytes)
        XCTAssertEqual(Base64URL.decode(String(fields[3]))?.count, PasswordHasher.derivedKeyBytes)
        XCTAssertTrue(try hasher.verify(password: "correct horse battery staple", against: stored))
        XCTAssertFalse(try hasher.verify(password: "correct horse battery stapla", against: stored))
        XCTAssertFalse(try hasher.verify(password: "", against: stored))
    }

    /// Login for a user name nobody registered still runs the derivation, and fails.
    func testVerificationWithoutAUserAlwaysFails() {
        XCTAssertFalse(hasher.verifyWithoutUser(password: "anything"))
        XCTAssertFalse(hasher.verifyWithoutUser(password: "x" + String(repeating: "é", count: PasswordHasher.passwordBytesMax)), "cut mid-character")
    }

    /// Two users with the same password get different hashes: the salt is per hash.
    func testSamePasswordHashesDifferentlyEachTime() throws {
        XCTAssertNotEqual(try hasher.hash(password: "hunter2"), try hasher.hash(password: "hunter2"))
    }

    /// The iteration count is read from the stored hash, so raising the default later keeps
    /// old hashes verifying and marks them for rehashing.
    func testHashMadeWithFewerIterationsVerifiesAndNeedsRehash() throws {
        let old = try PasswordHasher(iterations: 500).hash(password: "pw")
        XCTAssertTrue(try hasher.verify(password: "pw", against: old))
        XCTAssertTrue(try hasher.needsRehash(old))
        XCTAssertFalse(try hasher.needsRehash(try hasher.hash(password: "pw")))
        XCTAssertEqual(PasswordHasher.iterationsDefault, 600_000)
    }

    /// A known vector pins the derivation: PBKDF2-HMAC-SHA256("password", "salt", 1) from RFC 7914 §11.
    func testDerivationMatchesTheRFCVector() throws {
        let salt = Base64URL.encode(Array("salt".utf8))
        let key = Base64URL.encode(hexBytes("120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b"))
        XCTAssertTrue(try hasher.verify(password: "password", against: "pbkdf2-sha256$1$\(salt)$\(key)"))
    }

    /// Damaged or foreign stored hashes are errors (the store is broken), not `false`.
    func testDamagedStoredHashesAreErrors() throws {
        let good = try hasher.hash(password: "pw").split(separator: "$").map(String.init)
        let cases: [(String, PasswordHashError.Code)] = [
            ("", .malformedHash),
            ("bcrypt$10$\(good[2])$\(good[3])", .unsupportedAlgorithm),
            ("pbkdf2-sha256$0$\(good[2])$\(good[3])", .malformedHash),
            ("pbkdf2-sha256$99999999999$\(good[2])$\(good[3])", .malformedHash),
            ("pbkdf2-sha256$1000$$\(good[3])", .malformedHash),
            ("pbkdf2-sha256$1000$\(good[2])$AAAA", .malformedHash),
            ("pbkdf2-sha256$1000$\(good[2])$\(good[3])$extra", .malformedHash),
            (String(repeating: "x", count: 1_000), .malformedHash),
        ]
        for (stored, expected) in cases {
            XCTAssertEqual(thrownError { () throws(PasswordHashError) in try hasher.verify(password: "pw", against: stored) }?.code, expected, stored)
        }
        let tooLong = String(repeating: "p", count: PasswordHasher.passwordBytesMax + 1)
        XCTAssertEqual(thrownError { () throws(PasswordHashError) in try hasher.hash(password: tooLong) }?.code, .passwordTooLong)
        XCTAssertEqual(thrownError { () throws(PasswordHashError) in try PasswordHasher(iterations: 0) }?.code, .invalidParameter)
    }

    private func hexBytes(_ hex: String) -> [UInt8] {
        var bytes = [UInt8]()
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            bytes.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return bytes
    }
}
