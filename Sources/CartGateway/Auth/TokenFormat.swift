import CartTLS
import CartTypes

/// The byte layout of a token, before base64url. All integers big-endian.
///
/// | offset | bytes | field |
/// |---|---|---|
/// | 0 | 1 | format version, `1` |
/// | 1 | 4 | key id |
/// | 5 | 8 | issued at, Unix ms |
/// | 13 | 8 | expires at, Unix ms |
/// | 21 | 1 | user id length `n`, 1...`UserID.bytesMax` |
/// | 22 | n | user id, UTF-8 |
/// | 22+n | 32 | HMAC-SHA256(key, bytes 0..<22+n) |
///
/// The MAC covers the version and key id too, so neither can be swapped without detection.
enum TokenFormat {
    static let version: UInt8 = 1
    static let headerBytes = 22
    static let macBytes = Crypto.sha256DigestBytes
    static let tokenBytesMax = headerBytes + UserID.bytesMax + macBytes
    /// The longest token text accepted; longer input is refused before decoding it.
    static let tokenTextBytesMax = (tokenBytesMax * 4 + 2) / 3

    /// The bytes the MAC covers.
    static func body(_ claims: TokenClaims) -> [UInt8] {
        let user = Array(claims.user.rawValue.utf8)
        precondition(!user.isEmpty && user.count <= UserID.bytesMax, "user id length checked by the signer")
        var bytes = [UInt8]()
        bytes.reserveCapacity(headerBytes + user.count + macBytes)
        bytes.append(version)
        appendBigEndian(UInt64(claims.keyID.rawValue), bytes: 4, to: &bytes)
        appendBigEndian(claims.issuedAt.rawValue, bytes: 8, to: &bytes)
        appendBigEndian(claims.expiresAt.rawValue, bytes: 8, to: &bytes)
        bytes.append(UInt8(user.count))
        bytes.append(contentsOf: user)
        return bytes
    }

    /// Splits token bytes into claims, the signed body and the MAC, or explains why it cannot.
    static func parse(_ bytes: [UInt8]) throws(TokenError) -> (claims: TokenClaims, body: ArraySlice<UInt8>, mac: ArraySlice<UInt8>) {
        guard bytes.count >= headerBytes + 1 + macBytes else {
            throw TokenError(.malformed, "token is \(bytes.count) bytes, shorter than any valid token")
        }
        guard bytes[0] == version else {
            throw TokenError(.malformed, "token format version \(bytes[0]) is not supported (expected \(version))")
        }
        let userBytes = Int(bytes[21])
        guard (1...UserID.bytesMax).contains(userBytes), bytes.count == headerBytes + userBytes + macBytes else {
            throw TokenError(.malformed, "token length \(bytes.count) does not match its user id length \(userBytes)")
        }
        let userSlice = bytes[headerBytes..<headerBytes + userBytes]
        // Decoding replaces invalid sequences, so a round trip that changes the bytes means
        // they were not UTF-8.
        let user = String(decoding: userSlice, as: UTF8.self)
        guard user.utf8.elementsEqual(userSlice) else {
            throw TokenError(.malformed, "token user id is not valid UTF-8")
        }
        let claims = TokenClaims(
            keyID: KeyID(UInt32(readBigEndian(bytes, at: 1, bytes: 4))),
            user: UserID(user),
            issuedAt: UnixMillis(readBigEndian(bytes, at: 5, bytes: 8)),
            expiresAt: UnixMillis(readBigEndian(bytes, at: 13, bytes: 8)))
        let macStart = headerBytes + userBytes
        return (claims, bytes[..<macStart], bytes[macStart...])
    }

    private static func appendBigEndian(_ value: UInt64, bytes count: Int, to bytes: inout [UInt8]) {
        for shift in stride(from: (count - 1) * 8, through: 0, by: -8) {
            bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift)))
        }
    }

    private static func readBigEndian(_ bytes: [UInt8], at offset: Int, bytes count: Int) -> UInt64 {
        var value: UInt64 = 0
        for index in offset..<offset + count { value = value << 8 | UInt64(bytes[index]) }
        return value
    }
}
