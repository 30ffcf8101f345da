import CartRPC
import CartTestSupport
import CartWire
import NIOCore
import XCTest

/// The task-free unary call of `RPCClient`: it goes out only on a connection that is ready,
/// and answers (or fails) through its callback.
final class StartCallIfReadyTests: XCTestCase {
    // Story: before any connection exists the client says "not ready" and sends nothing; once
    // an async call has connected, the callback call is answered with the decoded reply, and a
    // method the server does not know comes back as a typed error through the same callback.
    func testACallGoesOutOnlyOnAReadyConnectionAndAnswersThroughItsCallback() async throws {
        let bed = try TestBed()
        let server = try await bed.startServer()
        let client = bed.client(server)
        let refused = client.startCallIfReady(.echo, bytes("too early")) { _ in XCTFail("nothing was sent") }
        XCTAssertFalse(refused, "no connection yet")
        _ = try await client.call(.echo, bytes("connect"), timeout: .seconds(5))

        let reply = try await within(10, "the echo callback") {
            try await withCheckedThrowingContinuation { continuation in
                let sent = client.startCallIfReady(.ping, Ping(nonce: 7), timeout: .seconds(5)) { result in
                    continuation.resume(with: result)
                }
                if !sent { continuation.resume(throwing: TestFailure("the connection was not ready")) }
            }
        }
        XCTAssertEqual(reply.nonce, 7)

        let failure = try await within(10, "the unknown-method callback") {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<ByteBuffer, RPCError>, Never>) in
                let sent = client.startCallIfReady(TestMethods.missing, bytes("?"), timeout: .seconds(5)) { continuation.resume(returning: $0) }
                if !sent { continuation.resume(returning: .failure(RPCError(.internal, "not sent"))) }
            }
        }
        guard case .failure(let error) = failure else { return XCTFail("an unknown method must fail") }
        XCTAssertEqual(error.code, .unknownMethod)
        await client.shutdown()
        await server.shutdown()
    }
}
