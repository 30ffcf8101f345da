import XCTest
@testable import CartStorage

final class CRC32CTests: XCTestCase {
    /// The CRC-32C examples of RFC 3720 (iSCSI) appendix B.4 and the common "123456789" check value.
    func testMatchesTheIscsiTestVectors() {
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0, count: 32)), 0x8A91_36AA)
        XCTAssertEqual(CRC32C.checksum([UInt8](repeating: 0xFF, count: 32)), 0x62A8_AB43)
        XCTAssertEqual(CRC32C.checksum((0..<32).map { UInt8($0) }), 0x46DD_794E)
        XCTAssertEqual(CRC32C.checksum((0..<32).reversed().map { UInt8($0) }), 0x113F_DB5C)
        XCTAssertEqual(CRC32C.checksum(Array("123456789".utf8)), 0xE306_9283)
        XCTAssertEqual(CRC32C.checksum([]), 0)
    }

    /// Records are checksummed in two pieces (length, then the rest), so chaining must equal
    /// one pass for every split point and length, including the slice-by-8 tail handling.
    func testChainingPiecesEqualsOnePassForEverySplit() {
        var random = SeededRandom(seed: 7)
        let bytes = (0..<67).map { _ in UInt8.random(in: 0...255, using: &random) }
        for length in 0...bytes.count {
            let whole = CRC32C.checksum(Array(bytes[0..<length]))
            for split in 0...length {
                let chained = bytes.withUnsafeBytes { raw in
                    CRC32C.update(CRC32C.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<split])),
                                  UnsafeRawBufferPointer(rebasing: raw[split..<length]))
                }
                XCTAssertEqual(chained, whole, "length \(length) split \(split)")
            }
        }
    }
}
