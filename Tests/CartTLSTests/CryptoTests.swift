import CartTLS
import XCTest

/// The crypto helpers against published test vectors (FIPS 180-2, RFC 4231, RFC 7914 and the
/// RFC 6070 cases recomputed for SHA-256), plus the edges callers rely on.
final class CryptoTests: XCTestCase {
    func hex(_ bytes: [UInt8]) -> String {
        bytes.map { String(format: "%02x", $0) }.joined()
    }

    func testSHA256MatchesFIPS180Vectors() {
        XCTAssertEqual(hex(Crypto.sha256(Array("abc".utf8))), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")
        XCTAssertEqual(hex(Crypto.sha256([])), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855")
    }

    // RFC 4231 test cases 1, 2 and 6 (a key longer than the block size is hashed first).
    func testHMACSHA256MatchesRFC4231Vectors() {
        XCTAssertEqual(
            hex(Crypto.hmacSHA256(key: [UInt8](repeating: 0x0b, count: 20), message: Array("Hi There".utf8))),
            "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        XCTAssertEqual(
            hex(Crypto.hmacSHA256(key: Array("Jefe".utf8), message: Array("what do ya want for nothing?".utf8))),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")
        XCTAssertEqual(
            hex(Crypto.hmacSHA256(
                key: [UInt8](repeating: 0xaa, count: 131),
                message: Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8))),
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    // A token's MAC verifies; flipping any single bit of it, or truncating it, does not.
    func testHMACVerificationRejectsAnyAlteredOrTruncatedTag() {
        let key = Array("gateway token key".utf8)
        let message = Array("user=42;cart=7;exp=1700000000".utf8)
        let tag = Crypto.hmacSHA256(key: key, message: message)
        XCTAssertTrue(Crypto.verifyHMACSHA256(key: key, message: message, mac: tag))
        for bit in 0..<(tag.count * 8) {
            var altered = tag
            altered[bit / 8] ^= UInt8(1) << UInt8(bit % 8)
            XCTAssertFalse(Crypto.verifyHMACSHA256(key: key, message: message, mac: altered), "bit \(bit)")
        }
        XCTAssertFalse(Crypto.verifyHMACSHA256(key: key, message: message, mac: tag.dropLast()))
        XCTAssertFalse(Crypto.verifyHMACSHA256(key: key, message: message, mac: []))
    }

    func testConstantTimeEqualComparesContentAndLength() {
        XCTAssertTrue(Crypto.constantTimeEqual([], []))
        XCTAssertTrue(Crypto.constantTimeEqual([1, 2, 3], [1, 2, 3]))
        XCTAssertFalse(Crypto.constantTimeEqual([1, 2, 3], [1, 2, 4]))
        XCTAssertFalse(Crypto.constantTimeEqual([1, 2, 3], [1, 2]))
    }

    // PBKDF2-HMAC-SHA256: the RFC 6070 inputs (published SHA-256 outputs) and RFC 7914 §11.
    func testPBKDF2HMACSHA256MatchesPublishedVectors() throws {
        let password = Array("password".utf8), salt = Array("salt".utf8)
        XCTAssertEqual(hex(try Crypto.pbkdf2HMACSHA256(password: password, salt: salt, iterations: 1, derivedKeyBytes: 32)),
                       "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b")
        XCTAssertEqual(hex(try Crypto.pbkdf2HMACSHA256(password: password, salt: salt, iterations: 2, derivedKeyBytes: 32)),
                       "ae4d0c95af6b46d32d0adff928f06dd02a303f8ef3c251dfd6e2d85a95474c43")
        XCTAssertEqual(hex(try Crypto.pbkdf2HMACSHA256(password: password, salt: salt, iterations: 4096, derivedKeyBytes: 32)),
                       "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a")
        XCTAssertEqual(
            hex(try Crypto.pbkdf2HMACSHA256(
                password: Array("passwordPASSWORDpassword".utf8), salt: Array("saltSALTsaltSALTsaltSALTsaltSALTsalt".utf8),
                iterations: 4096, derivedKeyBytes: 40)),
            "348c89dbcbd32b2f32d814b8116e84cf2b17347ebc1800181c4e2a1fb8dd53e1c635518c7dac47e9")
        XCTAssertEqual(
            hex(try Crypto.pbkdf2HMACSHA256(password: Array("passwd".utf8), salt: salt, iterations: 1, derivedKeyBytes: 64)),
            "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783")
    }

    // Parameters from outside (a stored password record) are checked, not trusted.
    func testPBKDF2RefusesOutOfRangeParameters() {
        XCTAssertThrowsError(try Crypto.pbkdf2HMACSHA256(password: [1], salt: [2], iterations: 0, derivedKeyBytes: 32)) {
            XCTAssertEqual(($0 as? CryptoError)?.code, .invalidParameter)
        }
        XCTAssertThrowsError(try Crypto.pbkdf2HMACSHA256(password: [1], salt: [2], iterations: Crypto.pbkdf2IterationsMax + 1, derivedKeyBytes: 32))
        XCTAssertThrowsError(try Crypto.pbkdf2HMACSHA256(password: [1], salt: [2], iterations: 1, derivedKeyBytes: 0))
        XCTAssertThrowsError(try Crypto.pbkdf2HMACSHA256(password: [1], salt: [2], iterations: 1, derivedKeyBytes: Crypto.derivedKeyBytesMax + 1))
    }

    // Random bytes have the requested length and two 32-byte draws differ (a collision
    // would mean a broken generator: the chance is 2^-256).
    func testRandomBytesAreFreshAndSized() throws {
        XCTAssertEqual(try Crypto.randomBytes(count: 0), [])
        let first = try Crypto.randomBytes(count: 32), second = try Crypto.randomBytes(count: 32)
        XCTAssertEqual(first.count, 32)
        XCTAssertNotEqual(first, second)
        XCTAssertThrowsError(try Crypto.randomBytes(count: -1))
        XCTAssertThrowsError(try Crypto.randomBytes(count: Crypto.randomBytesMax + 1))
    }
}
