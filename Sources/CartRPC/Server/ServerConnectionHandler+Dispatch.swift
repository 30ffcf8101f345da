import CartWire
import NIOCore

extension ServerConnectionHandler {
    func handleRequest(_ frame: Frame) {
        let stream = frame.streamID
        guard stream > highestStreamID else {
            failConnection(RPCError(.protocolViolation, "stream id \(stream) is not above \(highestStreamID)"))
            return
        }
        highestStreamID = stream
        requestSinceTick = true
        // A noReply request gets no answer at all, refusals included (the caller chose to
        // tolerate its loss); everything else about it is checked like any request.
        let quiet = frame.noReply
        guard phase == .open else {
            answerError(RPCError(.unavailable, "the server is shutting down", retryAfterMs: 100), stream: stream, quiet: quiet)
            return
        }
        guard let entry = registry[frame.methodID] else {
            answerError(RPCError(.unknownMethod, "no method with id \(frame.methodID.rawValue)"), stream: stream, quiet: quiet)
            return
        }
        guard calls.count < configuration.inflightRequestsPerConnectionMax else {
            answerError(RPCError(.resourceExhausted,
                                 "\(configuration.inflightRequestsPerConnectionMax) calls already in progress on this connection",
                                 retryAfterMs: 10), stream: stream, quiet: quiet)
            return
        }
        var deadline: NIODeadline?
        if let deadlineMs = frame.deadlineMs {
            guard deadlineMs > 0 else {
                answerError(RPCError(.deadlineExceeded, "the deadline passed before the request arrived"), stream: stream, quiet: quiet)
                return
            }
            deadline = .now() + .milliseconds(Int64(clamping: deadlineMs))
        }
        let context = RPCCallContext(method: entry.method, streamID: stream, deadline: deadline, noReply: quiet,
                                     connection: connectionInfo!)
        switch entry.handler {
        case .eventLoop(let handler):
            do throws(RPCError) {
                let response = try handler(frame.payload, context)
                if !quiet { writeResponse(response, stream: stream) }
            } catch {
                answerError(error, stream: stream, quiet: quiet)
            }
        case .stream where quiet:
            failConnection(RPCError(.protocolViolation, "noReply request for the server-stream method \(entry.method.name)"))
        case .eventLoopFuture(let handler):
            let call = NIOLoopBound(track(stream, entry.method, deadline: deadline, noReply: quiet), eventLoop: context.eventLoop)
            let bound = loopBound!
            handler(frame.payload, context).hop(to: context.eventLoop).whenComplete { result in
                bound.value.finishUnary(call.value, result.mapError(RPCError.from(handlerError:)))
            }
        case .async(let handler):
            let call = track(stream, entry.method, deadline: deadline, noReply: quiet)
            let bound = loopBound!
            let loopCall = NIOLoopBound(call, eventLoop: context.eventLoop)
            let payload = Self.detached(frame.payload)
            call.task = Task {
                let result: Result<ByteBuffer, RPCError>
                do {
                    result = .success(try await handler(payload, context))
                } catch {
                    result = .failure(RPCError.from(handlerError: error))
                }
                bound.eventLoop.execute { bound.value.finishUnary(loopCall.value, result) }
            }
        case .stream(let handler):
            let call = track(stream, entry.method, deadline: deadline)
            startStream(call, handler: handler, payload: Self.detached(frame.payload), context: context)
        }
    }

    /// A request payload in storage of its own, for a call that outlives this read (a task).
    /// The frame's payload is a slice of the read buffer, which may hold other frames too, up
    /// to `frameBytesMax`: a watch running for hours must not keep that buffer alive.
    static func detached(_ payload: ByteBuffer) -> ByteBuffer {
        var copy = ByteBufferAllocator().buffer(capacity: payload.readableBytes)
        copy.writeImmutableBuffer(payload)
        return copy
    }

    /// Writes `error` on `stream` unless the request asked for no reply.
    private func answerError(_ error: RPCError, stream: StreamID, quiet: Bool) {
        guard quiet else { return writeError(error, stream: stream) }
        // The sender of a one-way request never learns it was refused; say so here, once
        // (not while draining: refusing everything then is the point).
        guard phase == .open, !quietRefusalLogged else { return }
        quietRefusalLogged = true
        logger.warning("refused a one-way request; further refusals on this connection are not logged",
                       metadata: ["error": "\(error)"])
    }

    /// Records a call that outlives this read and arms its deadline.
    private func track(_ stream: StreamID, _ method: MethodDescriptor, deadline: NIODeadline?,
                       noReply: Bool = false) -> ServerCall {
        let call = ServerCall(streamID: stream, method: method, credit: configuration.streamCreditInitial)
        call.noReply = noReply
        calls[stream] = call
        if let deadline, let bound = loopBound {
            let loopCall = NIOLoopBound(call, eventLoop: bound.eventLoop)
            call.deadlineTimer = bound.eventLoop.scheduleTask(deadline: deadline) {
                bound.value.deadlineExpired(loopCall.value)
            }
        }
        return call
    }

    /// Removes `call` if it is still in progress; false if it already ended (cancelled, past
    /// its deadline, connection lost), in which case its answer is dropped.
    func end(_ call: ServerCall) -> Bool {
        guard calls[call.streamID] === call else { return false }
        calls[call.streamID] = nil
        call.deadlineTimer?.cancel()
        call.deadlineTimer = nil
        return true
    }

    func finishUnary(_ call: ServerCall, _ result: Result<ByteBuffer, RPCError>) {
        guard end(call) else { return }
        if call.noReply { return closeIfDrained() }
        switch result {
        case .success(let payload): writeResponse(payload, stream: call.streamID)
        case .failure(let error): writeError(error, stream: call.streamID)
        }
        closeIfDrained()
    }

    func writeResponse(_ payload: ByteBuffer, stream: StreamID) {
        guard fitsInFrame(payload) else {
            writeError(RPCError(.resourceExhausted, "response of \(payload.readableBytes) bytes exceeds frameBytesMax"), stream: stream)
            return
        }
        write(Frame(.response, stream: stream, payload: payload))
    }

    func deadlineExpired(_ call: ServerCall) {
        guard end(call) else { return }
        let error = RPCError(.deadlineExceeded, "the call's deadline passed")
        call.stop(error)
        answerError(error, stream: call.streamID, quiet: call.noReply)
        closeIfDrained()
    }

    func handleCancel(_ stream: StreamID) {
        guard let call = calls[stream], end(call) else { return }
        let error = RPCError(.cancelled, "the caller cancelled the call")
        call.stop(error)
        answerError(error, stream: stream, quiet: call.noReply)
        closeIfDrained()
    }
}
