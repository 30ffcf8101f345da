import CartWire
import NIOCore

extension ServerConnectionHandler {
    func startStream(_ call: ServerCall,
                     handler: @escaping @Sendable (ByteBuffer, RPCCallContext, ServerStreamSink) async throws -> Void,
                     payload: ByteBuffer, context: RPCCallContext) {
        let bound = loopBound!
        let loopCall = NIOLoopBound(call, eventLoop: bound.eventLoop)
        let sink = ServerStreamSink(connection: bound, call: loopCall)
        call.task = Task {
            let result: Result<Void, RPCError>
            do {
                try await handler(payload, context, sink)
                result = .success(())
            } catch {
                result = .failure(RPCError.from(handlerError: error))
            }
            bound.eventLoop.execute { bound.value.finishStream(loopCall.value, result) }
        }
    }

    func finishStream(_ call: ServerCall, _ result: Result<Void, RPCError>) {
        guard end(call) else { return }
        switch result {
        case .success:
            var payload = ByteBuffer()
            try? StreamEnd(itemCount: call.itemsSent).encodeRPC(into: &payload)
            write(Frame(.streamEnd, stream: call.streamID, payload: payload))
        case .failure(let error):
            writeError(error, stream: call.streamID)
        }
        closeIfDrained()
    }

    /// A producer's items: written now as far as the caller's credit goes and the connection
    /// can take them; the rest are held (the only ones held for this stream) until credit
    /// frames arrive or the connection drains. The producer resumes once the last is written.
    func offerStreamItems(_ payloads: ArraySlice<ByteBuffer>, call: ServerCall, continuation: ServerCall.ItemContinuation) {
        guard calls[call.streamID] === call, phase != .closing else {
            continuation.resume(returning: .failure(RPCError(.cancelled, "the stream is over")))
            return
        }
        if let oversized = payloads.first(where: { !fitsInFrame($0) }) {
            continuation.resume(returning: .failure(RPCError(.resourceExhausted, "stream item of \(oversized.readableBytes) bytes exceeds frameBytesMax")))
            return
        }
        guard call.pendingItems == nil else {
            continuation.resume(returning: .failure(RPCError(.internal, "send called again before the previous send returned")))
            return
        }
        call.pendingItems = (payloads, continuation)
        writeHeldItems(call)
    }

    /// One item written at once on the loop (`RPCStreamWriter.trySend`): only while the
    /// stream is open, no producer's items wait, and credit and the connection allow it.
    /// It only adds the frame to the batch (flushed at the end of the turn): callers may hold
    /// locks of their own, so nothing here may flush, fail the connection or stop calls.
    func writeStreamItemNow(_ payload: () -> ByteBuffer?, call: ServerCall) -> Bool {
        guard calls[call.streamID] === call, phase != .closing, call.pendingItems == nil, call.credit > 0,
              context?.channel.isWritable == true, let payload = payload(),
              fitsInFrame(payload) else { return false }
        return writeItems([payload][...], call: call).isEmpty
    }

    /// Whether `payload` fits in one frame this server may send.
    func fitsInFrame(_ payload: ByteBuffer) -> Bool {
        payload.readableBytes + FrameHeader.fixedBytes <= configuration.frameBytesMax
    }

    /// The producer's task was cancelled while its items waited for credit.
    func abandonPendingItems(call: ServerCall) {
        call.stop(RPCError(.cancelled, "the producer was cancelled"))
    }

    func handleCredit(_ frame: Frame) {
        guard let call = calls[frame.streamID] else { return }  // the stream ended meanwhile
        guard call.method.kind == .serverStream, let credit = try? Credit.decodeRPC(from: frame.payload) else {
            failConnection(RPCError(.protocolViolation, "credit frame for a unary call or with a bad payload"))
            return
        }
        call.credit = call.credit.addingReportingOverflow(credit.count).overflow ? .max : call.credit + credit.count
        writeHeldItems(call)
    }

    /// The connection's outbound buffer drained below its low-water mark: the streams whose
    /// items waited for it go on.
    func resumeStreamsHeldByTheConnection() {
        for call in calls.values where call.pendingItems != nil { writeHeldItems(call) }
    }

    /// Writes what `call`'s producer left waiting, as far as credit and the connection allow,
    /// and resumes the producer once all of it is written.
    private func writeHeldItems(_ call: ServerCall) {
        guard let pending = call.pendingItems else { return }
        let rest = writeItems(pending.payloads, call: call)
        if rest.isEmpty {
            call.pendingItems = nil
            pending.continuation.resume(returning: .success(()))
        } else if rest.count < pending.payloads.count {
            // Only what is left: the slice would keep the written items' buffers alive too.
            call.pendingItems = (Array(rest)[...], pending.continuation)
        }
    }

    /// Writes from the front of `payloads` while credit lasts and the connection is writable;
    /// returns what is left. Credit bounds what the caller has room for, not what this server
    /// buffers: a caller may grant any credit and then stop reading its socket, so items also
    /// wait while the channel's outbound buffer is over its high-water mark (as unary answers
    /// do, through `BackPressureHandler`), and memory per connection stays bounded by that mark
    /// plus one producer batch per stream.
    private func writeItems(_ payloads: ArraySlice<ByteBuffer>, call: ServerCall) -> ArraySlice<ByteBuffer> {
        var rest = payloads
        while call.credit > 0, context?.channel.isWritable == true, let payload = rest.popFirst() {
            call.credit -= 1
            call.itemsSent += 1
            write(Frame(.streamItem, stream: call.streamID, payload: payload))
        }
        return rest
    }
}
