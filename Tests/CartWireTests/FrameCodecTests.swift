import CartWire
import NIOCore
import NIOEmbedded
import XCTest

final class FrameCodecTests: XCTestCase {
    private func request(stream: UInt32 = 7, payload: [UInt8] = [1, 2, 3], deadlineMs: UInt64? = 1500) -> Frame {
        Frame(.request, stream: StreamID(stream), method: .echo, deadlineMs: deadlineMs,
              payload: ByteBuffer(bytes: payload))
    }

    // A request written by the encoder handler comes out of the decoder handler unchanged,
    // deadline and all, and the pipeline is left with nothing buffered.
    func testRequestRoundTripsThroughEncoderAndDecoderHandlers() throws {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(FrameDecoder()))
        try channel.pipeline.syncOperations.addHandler(MessageToByteHandler(FrameEncoder()))

        let frame = request()
        try channel.writeOutbound(frame)
        let bytes = try XCTUnwrap(channel.readOutbound(as: ByteBuffer.self))
        XCTAssertEqual(bytes.readableBytes, 4 + 10 + 8 + 3)

        try channel.writeInbound(bytes)
        XCTAssertEqual(try channel.readInbound(as: Frame.self), frame)
        XCTAssertTrue(try channel.finish().isClean)
    }

    // TCP may deliver a frame one byte at a time: the decoder must wait for the whole frame
    // and then deliver it exactly once, and must handle two frames arriving in one read.
    func testFrameSplitAcrossEveryByteBoundaryIsReassembled() throws {
        let frames = [request(stream: 1), Frame(.ping, stream: .connection, payload: ByteBuffer(bytes: [9]))]
        var wire = ByteBuffer()
        for frame in frames { try FrameCodec.encode(frame, into: &wire) }

        for split in 0...wire.readableBytes {
            let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
            try channel.writeInbound(wire.getSlice(at: 0, length: split)!)
            try channel.writeInbound(wire.getSlice(at: split, length: wire.readableBytes - split)!)
            XCTAssertEqual(try channel.readInbound(as: Frame.self), frames[0], "split at \(split)")
            XCTAssertEqual(try channel.readInbound(as: Frame.self), frames[1], "split at \(split)")
            XCTAssertNil(try channel.readInbound(as: Frame.self))
            XCTAssertTrue(try channel.finish().isClean)
        }
    }

    // A peer announcing a frame above frameBytesMax is refused as soon as the four length
    // bytes arrive: nothing of the body has been sent, so nothing is buffered for it.
    func testOversizedLengthPrefixFailsBeforeBodyArrives() throws {
        let limits = FrameLimits(frameBytesMax: 1024)
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder(limits: limits)))
        var prefix = ByteBuffer()
        prefix.writeInteger(UInt32(1025))
        XCTAssertThrowsError(try channel.writeInbound(prefix)) { error in
            XCTAssertEqual((error as? FrameError)?.kind, .frameTooLarge)
            XCTAssertEqual((error as? FrameError)?.errorCode, .frameTooLarge)
        }
        _ = try? channel.finish()
    }

    // The largest legal frame passes; one byte more fails, on both the write and read side.
    func testFrameExactlyAtLimitIsAcceptedAndOneByteMoreIsRefused() throws {
        let limits = FrameLimits(frameBytesMax: 64)
        let fits = Frame(.response, stream: 3, payload: ByteBuffer(repeating: 0xab, count: 64 - 10))
        var wire = try FrameCodec.encode(fits, limits: limits)
        XCTAssertEqual(try FrameCodec.decode(from: &wire, limits: limits), fits)

        let tooBig = Frame(.response, stream: 3, payload: ByteBuffer(repeating: 0xab, count: 64 - 9))
        XCTAssertThrowsError(try FrameCodec.encode(tooBig, limits: limits)) { error in
            XCTAssertEqual((error as? FrameError)?.kind, .frameTooLarge)
        }
    }

    // The connection closing in the middle of a frame is reported, not silently dropped.
    func testConnectionClosedMidFrameReportsTruncation() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(FrameDecoder()))
        let wire = try FrameCodec.encode(request())
        try channel.writeInbound(wire.getSlice(at: 0, length: wire.readableBytes - 1)!)
        XCTAssertThrowsError(try channel.finish()) { error in
            XCTAssertEqual((error as? FrameError)?.kind, .truncated)
        }
    }

    // Header rules: connection frames on stream 0, stream frames elsewhere, method ids only
    // on requests, deadlines only on requests, no undefined flags or versions or types.
    func testHeaderRulesRejectInconsistentFrames() throws {
        let cases: [(String, [UInt8], FrameError.Kind)] = [
            ("ping on stream 5", [1, 10, 0, 0, 0, 0, 0, 5, 0, 0], .invalidStreamID),
            ("request on stream 0", [1, 3, 0, 0, 0, 0, 0, 0, 0, 1], .invalidStreamID),
            ("request without method", [1, 3, 0, 0, 0, 0, 0, 1, 0, 0], .invalidMethodID),
            ("response with method", [1, 4, 0, 0, 0, 0, 0, 1, 0, 1], .invalidMethodID),
            ("deadline on response", [1, 4, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9], .invalidFlags),
            ("undefined flag", [1, 4, 0x80, 0, 0, 0, 0, 1, 0, 0], .invalidFlags),
            ("noReply on response", [1, 4, 0, 2, 0, 0, 0, 1, 0, 0], .invalidFlags),
            ("noReply on stream item", [1, 6, 0, 2, 0, 0, 0, 1, 0, 0], .invalidFlags),
            ("version 2", [2, 4, 0, 0, 0, 0, 0, 1, 0, 0], .unsupportedVersion),
            ("frame type 0", [1, 0, 0, 0, 0, 0, 0, 1, 0, 0], .unknownFrameType),
            ("frame type 13", [1, 13, 0, 0, 0, 0, 0, 1, 0, 0], .unknownFrameType),
            ("deadline flag, no deadline", [1, 3, 0, 1, 0, 0, 0, 1, 0, 1], .frameTooShort),
        ]
        for (story, header, expected) in cases {
            var wire = ByteBuffer()
            wire.writeInteger(UInt32(header.count))
            wire.writeBytes(header)
            XCTAssertThrowsError(try FrameCodec.decode(from: &wire), story) { error in
                XCTAssertEqual((error as? FrameError)?.kind, expected, story)
            }
        }
    }

    // Writing is held to the same rules as reading, so a peer never sends a frame it would
    // itself reject.
    func testEncoderRefusesFramesTheDecoderWouldReject() {
        let bad = [
            Frame(.hello, stream: 1),
            Frame(.request, stream: 1),
            Frame(.response, stream: 1, deadlineMs: 5),
        ]
        for frame in bad {
            XCTAssertThrowsError(try FrameCodec.encode(frame), "\(frame.header)")
        }
    }
}
