import CartRPC
import CartClient
import XCTest

/// Parsing of what people type and of what servers say.
final class ClientValueTests: XCTestCase {
    func testEndpointListAcceptsHostPortListsAndRefusesGarbage() throws {
        XCTAssertEqual(try Endpoint.parseList("127.0.0.1:7401, localhost:7402,,[::1]:7403"),
                       [Endpoint(host: "127.0.0.1", port: 7401), Endpoint(host: "localhost", port: 7402),
                        Endpoint(host: "::1", port: 7403)])
        XCTAssertEqual(Endpoint(host: "::1", port: 7403).description, "[::1]:7403")
        for bad in ["", "7401", "host:", "host:0", "host:70000", ":7401", "host:port"] {
            XCTAssertThrowsError(try Endpoint.parseList(bad), bad) { error in
                XCTAssertEqual((error as? CartClientError)?.code, .invalidArgument, bad)
            }
        }
    }

    func testServerMessagesLoseTheDomainPrefixButKeepItsCode() {
        let truncated = CartClientError(.init(.failedPrecondition, "[27] history truncated: oldest retained event is #258"))
        XCTAssertEqual(truncated.domainCode, 27)
        XCTAssertTrue(truncated.isHistoryTruncated)
        XCTAssertEqual(truncated.message, "history truncated: oldest retained event is #258")
        let plain = CartClientError(.init(.unauthenticated, "token refused: expired"))
        XCTAssertNil(plain.domainCode)
        XCTAssertEqual(plain.description, "token refused: expired")
        let bracketed = CartClientError(.init(.invalidArgument, "[x] not a code"))
        XCTAssertNil(bracketed.domainCode)
        XCTAssertEqual(bracketed.message, "[x] not a code")
    }
}
