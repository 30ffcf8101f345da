import CartTypes
import Foundation
import XCTest
@testable import CartGateway

/// The cluster secret file: creation, rotation, retirement and refusal of bad files.
final class KeyringTests: XCTestCase {
    private let now = UnixMillis(1_790_000_000_000)

    /// An operator creates the secret file: it holds one 32-byte key, only its owner can read
    /// it, and creating it again is refused rather than logging everyone out.
    func testCreatedSecretFileIsPrivateAndNeverOverwritten() throws {
        let path = try makeTemporaryDirectory(for: self) + "/cluster.keys"
        let created = try SecretKeyring.createFile(at: path)
        XCTAssertEqual(created.keyIDs, [1])
        let mode = try XCTUnwrap(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
        XCTAssertEqual(mode & 0o077, 0, "group/other permissions: \(String(mode, radix: 8))")
        let loaded = try SecretKeyring.load(path: path)
        XCTAssertEqual(loaded.currentKeyID, 1)
        XCTAssertEqual(loaded.serialized(), created.serialized())
        XCTAssertEqual(thrownError { () throws(KeyringError) in try SecretKeyring.createFile(at: path) }?.code, .fileExists)
        let keyLine = try XCTUnwrap(created.serialized().split(separator: "\n").first { $0.hasPrefix("key ") })
        let secretHex = keyLine.split(separator: " ")[2]
        XCTAssertEqual(secretHex.count, 64)
        XCTAssertFalse(created.description.contains(secretHex.prefix(8)), "description must not print secrets")
    }

    /// Rotation: after the file is rotated and reloaded, new tokens carry the new key id, old
    /// tokens still verify; once the old key is retired, old tokens are `unknownKey`.
    func testRotationKeepsOldTokensValidUntilTheKeyIsRetired() throws {
        let path = try makeTemporaryDirectory(for: self) + "/cluster.keys"
        let first = try SecretKeyring.createFile(at: path)
        let oldToken = try TokenSigner(keyring: first).sign(user: "alice", issuedAt: now)

        try SecretKeyring.load(path: path).rotated().write(to: path)
        let rotated = try SecretKeyring.load(path: path)
        XCTAssertEqual(rotated.keyIDs, [1, 2])
        XCTAssertEqual(rotated.currentKeyID, 2)
        let newToken = try TokenSigner(keyring: rotated).sign(user: "bob", issuedAt: now)
        let verifier = TokenVerifier(keyring: rotated)
        XCTAssertEqual(try verifier.verify(oldToken, now: now).keyID, 1)
        XCTAssertEqual(try verifier.verify(newToken, now: now).keyID, 2)

        let retired = try rotated.retiring(1)
        XCTAssertEqual(thrownError { () throws(TokenError) in try TokenVerifier(keyring: retired).verify(oldToken, now: now) }?.code, .unknownKey)
        XCTAssertEqual(try TokenVerifier(keyring: retired).verify(newToken, now: now).user, "bob")
        XCTAssertEqual(thrownError { () throws(KeyringError) in try retired.retiring(2) }?.code, .noCurrentKey)
    }

    /// Admin minting reads the secret file and yields a token the cluster accepts.
    func testAdminMintedTokenVerifies() throws {
        let path = try makeTemporaryDirectory(for: self) + "/cluster.keys"
        let keyring = try SecretKeyring.createFile(at: path)
        let token = try AdminTokenMinter.mint(secretFile: path, user: "ops", now: now, lifetimeMs: 60_000)
        XCTAssertEqual(try TokenVerifier(keyring: keyring).verify(token, now: now).user, "ops")
        XCTAssertThrowsError(try AdminTokenMinter.mint(secretFile: path + ".missing", user: "ops", now: now)) { error in
            XCTAssertEqual((error as? KeyringError)?.code, .unreadable)
        }
    }

    /// Damaged files are refused with a code saying what is wrong, never a crash.
    func testDamagedKeyFilesAreRefused() {
        let hex32 = String(repeating: "ab", count: 32)
        let cases: [(String, KeyringError.Code)] = [
            ("key 1 \(hex32)\n", .noCurrentKey),
            ("key 1 \(hex32)\ncurrent 2\n", .noCurrentKey),
            ("key 1 \(hex32)\nkey 1 \(hex32)\ncurrent 1\n", .duplicateKey),
            ("key 1 abcd\ncurrent 1\n", .keyTooShort),
            ("key 1 zz\ncurrent 1\n", .malformed),
            ("key one \(hex32)\ncurrent 1\n", .malformed),
            ("secret \(hex32)\n", .malformed),
            ("current 1\n", .malformed),
            ("key 1 \(hex32)\ncurrent 1\ncurrent 1\n", .malformed),
        ]
        for (text, expected) in cases {
            XCTAssertEqual(thrownError { () throws(KeyringError) in try SecretKeyring.parse(text) }?.code, expected, text)
        }
        XCTAssertEqual(try SecretKeyring.parse("# comment\n\nkey 3 \(hex32)\ncurrent 3\n").keyIDs, [3])
    }
}
