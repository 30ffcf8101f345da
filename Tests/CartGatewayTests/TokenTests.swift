import CartTLS
import CartTypes
import XCTest
@testable import CartGateway

/// Tokens: what a genuine one carries, and each way a bad one is refused with its own code.
final class TokenTests: XCTestCase {
    private let issuedAt = UnixMillis(1_790_000_000_000)
    private let lifetimeMs: UInt64 = 3_600_000

    private func keyring(_ id: KeyID = 1, byte: UInt8 = 0x11) throws -> SecretKeyring {
        try SecretKeyring(keys: [id: [UInt8](repeating: byte, count: 32)], current: id)
    }

    /// Alice logs in and later calls with her token: the node learns who she is and until when.
    func testGenuineTokenVerifiesToItsClaims() throws {
        let keys = try keyring()
        let token = try TokenSigner(keyring: keys).sign(user: "alice", issuedAt: issuedAt, lifetimeMs: lifetimeMs)
        let claims = try TokenVerifier(keyring: keys).verify(token, now: issuedAt.adding(milliseconds: 1_000))
        XCTAssertEqual(claims, TokenClaims(keyID: 1, user: "alice", issuedAt: issuedAt, expiresAt: issuedAt.adding(milliseconds: lifetimeMs)))
        XCTAssertLessThanOrEqual(token.utf8.count, TokenFormat.tokenTextBytesMax)
        XCTAssertNil(token.first { !($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_") }, "base64url only: \(token)")
    }

    /// A hello without a token, or with an empty one, is `missing`, not `malformed`.
    func testAbsentOrEmptyTokenIsMissing() throws {
        let verifier = TokenVerifier(keyring: try keyring())
        XCTAssertEqual(thrownError { () throws(TokenError) in try verifier.verify(nil, now: issuedAt) }?.code, .missing)
        XCTAssertEqual(thrownError { () throws(TokenError) in try verifier.verify("", now: issuedAt) }?.code, .missing)
    }

    /// Mallory flips one bit in every position of Alice's token in turn (including the user
    /// id, turning "alice" into someone else): every variant is refused, and none is accepted
    /// as a different user. Changes to the signed part are `forged`.
    func testEveryAlteredByteIsRefused() throws {
        let keys = try keyring()
        let verifier = TokenVerifier(keyring: keys)
        let token = try TokenSigner(keyring: keys).sign(user: "alice", issuedAt: issuedAt, lifetimeMs: lifetimeMs)
        let bytes = try XCTUnwrap(Base64URL.decode(token))
        var forgedCount = 0
        for index in bytes.indices {
            var altered = bytes
            altered[index] ^= 0x01
            let error = thrownError { () throws(TokenError) in try verifier.verify(Base64URL.encode(altered), now: issuedAt) }
            XCTAssertNotNil(error, "byte \(index) altered but accepted")
            if error?.code == .forged { forgedCount += 1 }
        }
        // Fields whose alteration changes the shape (version, key id, user length) fail
        // earlier, as malformed or unknown key; the timestamps, user id and MAC reach the MAC check.
        XCTAssertGreaterThanOrEqual(forgedCount, 8 + 8 + 5 + 32)
    }

    /// A token signed by another cluster's key under the same key id fails the MAC: `forged`.
    func testTokenSignedWithWrongSecretIsForged() throws {
        let theirs = try TokenSigner(keyring: keyring(byte: 0x22)).sign(user: "alice", issuedAt: issuedAt, lifetimeMs: lifetimeMs)
        let verifier = TokenVerifier(keyring: try keyring())
        let error = thrownError { () throws(TokenError) in try verifier.verify(theirs, now: issuedAt) }
        XCTAssertEqual(error?.code, .forged)
    }

    /// A token whose key id this node does not hold (retired, or never known) is `unknownKey`,
    /// and the message names the key.
    func testTokenWithUnknownKeyIDIsRefused() throws {
        let token = try TokenSigner(keyring: keyring(7)).sign(user: "alice", issuedAt: issuedAt, lifetimeMs: lifetimeMs)
        let verifier = TokenVerifier(keyring: try keyring(1))
        let error = thrownError { () throws(TokenError) in try verifier.verify(token, now: issuedAt) }
        XCTAssertEqual(error?.code, .unknownKey)
        XCTAssertTrue(error?.message.contains("k7") ?? false, error?.message ?? "")
    }

    /// A token is good until the millisecond before its expiry, and `expired` from then on;
    /// a cached verified token expires the same way.
    func testTokenExpiresExactlyAtItsExpiryTime() throws {
        let keys = try keyring()
        let verifier = TokenVerifier(keyring: keys)
        let token = try TokenSigner(keyring: keys).sign(user: "alice", issuedAt: issuedAt, lifetimeMs: lifetimeMs)
        let lastGoodMs = issuedAt.adding(milliseconds: lifetimeMs - 1)
        let claims = try verifier.verify(token, now: lastGoodMs)
        XCTAssertNoThrow(try claims.checkNotExpired(now: lastGoodMs))
        let expiry = issuedAt.adding(milliseconds: lifetimeMs)
        XCTAssertEqual(thrownError { () throws(TokenError) in try verifier.verify(token, now: expiry) }?.code, .expired)
        XCTAssertEqual(thrownError { () throws(TokenError) in try claims.checkNotExpired(now: expiry) }?.code, .expired)
    }

    /// Garbage of every kind is `malformed` and never crashes: not base64url, truncated,
    /// padded, too long, wrong version, inconsistent user length, user id not UTF-8.
    func testMalformedTokensAreRefusedAsMalformed() throws {
        let keys = try keyring()
        let verifier = TokenVerifier(keyring: keys)
        let token = try TokenSigner(keyring: keys).sign(user: "alice", issuedAt: issuedAt, lifetimeMs: lifetimeMs)
        let bytes = try XCTUnwrap(Base64URL.decode(token))
        var wrongVersion = bytes
        wrongVersion[0] = 2
        var wrongLength = bytes
        wrongLength[21] = 6
        var notUTF8 = bytes
        notUTF8[22] = 0xFF
        let samples: [String] = [
            "not a token!", "a", token + "=", String(token.dropLast(3)), String(repeating: "A", count: 10_000),
            Base64URL.encode(wrongVersion), Base64URL.encode(wrongLength), Base64URL.encode(notUTF8),
            Base64URL.encode([UInt8](repeating: 0, count: 10)), "ü" + token,
        ]
        for sample in samples {
            let error = thrownError { () throws(TokenError) in try verifier.verify(sample, now: issuedAt) }
            XCTAssertEqual(error?.code, .malformed, "\(sample.prefix(40)): \(String(describing: error))")
        }
    }

    /// The signer refuses an empty or over-long user id and a lifetime beyond the maximum.
    func testSignerRefusesInvalidRequests() throws {
        let signer = TokenSigner(keyring: try keyring())
        XCTAssertEqual(thrownError { () throws(TokenSigningError) in try signer.sign(user: "", issuedAt: issuedAt) }?.code, .invalidUser)
        let longUser = UserID(String(repeating: "u", count: UserID.bytesMax + 1))
        XCTAssertEqual(thrownError { () throws(TokenSigningError) in try signer.sign(user: longUser, issuedAt: issuedAt) }?.code, .invalidUser)
        XCTAssertEqual(
            thrownError { () throws(TokenSigningError) in try signer.sign(user: "a", issuedAt: issuedAt, lifetimeMs: TokenSigner.tokenLifetimeMsMax + 1) }?.code,
            .invalidLifetime)
        let longestUser = UserID(String(repeating: "u", count: UserID.bytesMax))
        let token = try signer.sign(user: longestUser, issuedAt: issuedAt)
        XCTAssertEqual(token.utf8.count, TokenFormat.tokenTextBytesMax)
    }

    /// Every error code reads as `token.*` and comes with a message, for the log and the client.
    func testErrorCodesAreStableAndDistinct() {
        let codes = TokenError.Code.allCases.map(\.rawValue)
        XCTAssertEqual(Set(codes).count, 5)
        XCTAssertEqual(codes, ["token.missing", "token.malformed", "token.forged", "token.expired", "token.unknown_key"])
    }
}
