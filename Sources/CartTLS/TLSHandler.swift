import NIOCore

/// Runs TLS (system OpenSSL over memory BIOs) between the socket and the handlers above it:
/// ciphertext below, plaintext above, in both the client and the server role.
///
/// - The handshake starts when the channel becomes active and must finish within
///   `handshakeTimeoutMs`; on success `TLSHandshakeCompleted` is fired with the verified peer.
/// - Reads: every socket read is decrypted at once and passed on, so no ciphertext is held
///   back; how much is read is governed by the channel's own read/autoRead backpressure.
/// - Writes are queued until `flush`, then encrypted together into as few socket writes as
///   possible; very large writes are emitted in slices so ciphertext never piles up here.
///   Unflushed plaintext beyond `unflushedPlaintextBytesMax` is encrypted and passed down
///   unflushed, so the channel's writability reflects everything written and callers that
///   respect `channelWritabilityChanged` are throttled correctly.
/// - `close` sends close_notify and waits up to `closeNotifyTimeoutMs` for the peer's; a peer's
///   close_notify is answered and the channel closed. A close without one is reported as
///   `TLSError.Code.uncleanShutdown`, since the stream may have been truncated.
/// - Every failure is a `TLSError` fired through `errorCaught`, after which the channel closes.
public final class TLSHandler: ChannelDuplexHandler {
    public typealias InboundIn = ByteBuffer
    public typealias InboundOut = ByteBuffer
    public typealias OutboundIn = ByteBuffer
    public typealias OutboundOut = ByteBuffer

    public enum Role: Sendable {
        case client
        case server
    }

    /// Plaintext handed to one `SSL_write`: large writes are encrypted in slices of this size.
    static let plaintextSliceBytesMax = 64 * 1024
    /// Ciphertext gathered during one flush before it is handed to the channel.
    static let ciphertextWriteBytesMax = 256 * 1024
    /// One buffer of ciphertext handed to the channel. ByteBuffer capacities round up to a
    /// power of two, so a buffer just over 64 KiB would take 128 KiB; the channel gathers
    /// consecutive buffers into one writev anyway.
    static let ciphertextBufferBytesMax = 64 * 1024
    /// Unflushed plaintext held for coalescing; beyond this it is encrypted and passed on.
    static let unflushedPlaintextBytesMax = 64 * 1024
    /// Plaintext decrypted into one buffer before it is passed on.
    static let plaintextReadBytesMax = 64 * 1024
    /// Plaintext that may be queued while the handshake runs; the channel reports itself
    /// writable during the handshake, so this bound is what keeps an eager writer in check.
    public static let pendingWriteBytesBeforeHandshakeMax = 4 * 1024 * 1024

    private enum State {
        case idle
        case handshaking
        case active
        /// We sent close_notify (`close(mode: .output)` or `.all`); reads still flow.
        case closing
        case closed
    }

    private struct PendingWrite {
        var data: ByteBuffer
        var promise: EventLoopPromise<Void>?
    }

    private let tlsContext: TLSContext
    private let role: Role
    private let expectedPeerName: String?
    private var connection: TLSConnection?
    private var setupError: TLSError?
    private var state: State = .idle
    private var pendingWrites = CircularBuffer<PendingWrite>()
    private var pendingWriteBytes = 0
    private var flushRequestedDuringHandshake = false
    private var isEncrypting = false
    private var flushRequestedWhileEncrypting = false
    private var receivedCloseNotify = false
    private var handshakeTimeout: Scheduled<Void>?
    private var closeNotifyTimeout: Scheduled<Void>?
    private var closePromise: EventLoopPromise<Void>?

    /// The verified peer, once the handshake has completed.
    public private(set) var peerIdentity: PeerIdentity?

    /// - Parameter expectedPeerName: a DNS name or IP literal the peer's certificate must carry
    ///   in its subjectAltName. Clients should always pass the server's name; `nil` checks
    ///   only that the certificate chains to a trusted CA.
    public init(context: TLSContext, role: Role, expectedPeerName: String? = nil) {
        self.tlsContext = context
        self.role = role
        self.expectedPeerName = expectedPeerName
    }

    // MARK: Lifecycle

    public func handlerAdded(context: ChannelHandlerContext) {
        do {
            connection = try TLSConnection(
                context: tlsContext,
                role: role == .client ? .client : .server,
                expectedPeerName: expectedPeerName
            )
        } catch {
            setupError = error
        }
        if context.channel.isActive {
            startHandshake(context: context)
        }
    }

    public func handlerRemoved(context: ChannelHandlerContext) {
        cancelTimers()
        failPendingWrites(TLSError(.closed, "the TLS handler was removed"))
    }

    public func channelActive(context: ChannelHandlerContext) {
        context.fireChannelActive()
        startHandshake(context: context)
    }

    public func channelInactive(context: ChannelHandlerContext) {
        cancelTimers()
        let previous = state
        state = .closed
        failPendingWrites(TLSError(.closed, "the connection closed"))
        switch previous {
        case .idle, .handshaking:
            context.fireErrorCaught(TLSError(.handshakeFailed, "the connection closed during the TLS handshake"))
        case .active where !receivedCloseNotify:
            context.fireErrorCaught(TLSError(.uncleanShutdown, "the connection closed without a TLS close_notify"))
        case .active, .closing, .closed:
            break
        }
        closePromise?.succeed()
        closePromise = nil
        context.fireChannelInactive()
    }

    // MARK: Inbound

    public func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var ciphertext = unwrapInboundIn(data)
        guard let connection, state == .handshaking || state == .active || state == .closing else {
            return  // after a failure or close nothing more is decrypted
        }
        connection.receiveCiphertext(&ciphertext)
        if state == .handshaking {
            advanceHandshake(context: context, connection: connection)
        } else {
            decryptAvailable(context: context, connection: connection)
        }
    }

    public func channelReadComplete(context: ChannelHandlerContext) {
        context.fireChannelReadComplete()
    }

    // MARK: Outbound

    public func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let data = unwrapOutboundIn(data)
        switch state {
        case .idle, .handshaking:
            guard pendingWriteBytes + data.readableBytes <= TLSHandler.pendingWriteBytesBeforeHandshakeMax else {
                // Refusing this write alone would leave a hole in the stream if later, smaller
                // writes went on: the connection fails instead.
                let error = TLSError(.writeBufferFull, "more than \(TLSHandler.pendingWriteBytesBeforeHandshakeMax) bytes written before the TLS handshake completed")
                promise?.fail(error)
                fail(context: context, error: error)
                return
            }
            queue(data, promise: promise)
        case .active:
            queue(data, promise: promise)
            if pendingWriteBytes >= TLSHandler.unflushedPlaintextBytesMax {
                // Hand the ciphertext to the channel unflushed: the channel counts it towards
                // its writability, which is how a writer that never flushes is slowed down.
                encryptPendingWrites(context: context, flush: false)
            }
        case .closing, .closed:
            promise?.fail(TLSError(.closed, "write after the TLS session was closed"))
        }
    }

    private func queue(_ data: ByteBuffer, promise: EventLoopPromise<Void>?) {
        pendingWriteBytes += data.readableBytes
        pendingWrites.append(PendingWrite(data: data, promise: promise))
    }

    public func flush(context: ChannelHandlerContext) {
        switch state {
        case .idle, .handshaking:
            flushRequestedDuringHandshake = true
        case .active:
            encryptPendingWrites(context: context)
        case .closing, .closed:
            break
        }
    }

    public func close(context: ChannelHandlerContext, mode: CloseMode, promise: EventLoopPromise<Void>?) {
        if mode == .input {
            context.close(mode: .input, promise: promise)
            return
        }
        switch state {
        case .active:
            sendCloseNotify(context: context)
            if mode == .output {
                context.close(mode: .output, promise: promise)
            } else {
                awaitPeerCloseNotify(context: context, promise: promise)
            }
        case .closing where mode == .all:
            if let closePromise {
                closePromise.futureResult.cascade(to: promise)
            } else {
                awaitPeerCloseNotify(context: context, promise: promise)
            }
        case .idle, .handshaking, .closing, .closed:
            state = .closed
            cancelTimers()
            failPendingWrites(TLSError(.closed, "the connection was closed"))
            context.close(mode: mode, promise: promise)
        }
    }

    // MARK: Handshake

    private func startHandshake(context: ChannelHandlerContext) {
        guard state == .idle else { return }
        guard let connection else {
            fail(context: context, error: setupError ?? TLSError(.resourceExhausted, "no TLS session"))
            return
        }
        state = .handshaking
        let timeoutMs = tlsContext.configuration.handshakeTimeoutMs
        handshakeTimeout = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(timeoutMs)) {
            self.fail(context: context, error: TLSError(.handshakeTimeout, "the TLS handshake did not complete within \(timeoutMs) ms"))
        }
        advanceHandshake(context: context, connection: connection)
    }

    private func advanceHandshake(context: ChannelHandlerContext, connection: TLSConnection) {
        switch connection.handshake() {
        case .wantsMoreData:
            emitCiphertext(context: context, promise: nil)
            context.flush()
            context.read()  // the handshake needs the peer's answer even when autoRead is off
        case .failed(let error):
            fail(context: context, error: error)
        case .complete:
            emitCiphertext(context: context, promise: nil)
            context.flush()
            completeHandshake(context: context, connection: connection)
        }
    }

    private func completeHandshake(context: ChannelHandlerContext, connection: TLSConnection) {
        state = .active
        handshakeTimeout?.cancel()
        handshakeTimeout = nil
        let peer = connection.peerIdentity()
        peerIdentity = peer
        context.fireUserInboundEventTriggered(TLSHandshakeCompleted(
            peer: peer,
            protocolVersion: connection.negotiatedProtocol,
            cipherSuite: connection.negotiatedCipherSuite
        ))
        if flushRequestedDuringHandshake && state == .active {
            flushRequestedDuringHandshake = false
            encryptPendingWrites(context: context)
        }
        // Application data may have arrived in the same read as the peer's Finished.
        decryptAvailable(context: context, connection: connection)
    }

    // MARK: Records

    private func decryptAvailable(context: ChannelHandlerContext, connection: TLSConnection) {
        while state == .active || state == .closing {
            var plaintext = context.channel.allocator.buffer(capacity: TLSHandler.plaintextReadBytesMax)
            let outcome = connection.readPlaintext(into: &plaintext, bytesMax: TLSHandler.plaintextReadBytesMax)
            if plaintext.readableBytes > 0 {
                context.fireChannelRead(wrapInboundOut(plaintext))
            }
            switch outcome {
            case .bufferFull:
                continue
            case .wantsMoreData:
                // Post-handshake messages (key updates) may have produced an answer.
                if connection.pendingCiphertextBytes > 0 {
                    emitCiphertext(context: context, promise: nil)
                    context.flush()
                }
                return
            case .closeNotify:
                answerPeerCloseNotify(context: context)
                return
            case .failed(let error):
                fail(context: context, error: error)
                return
            }
        }
    }

    private func encryptPendingWrites(context: ChannelHandlerContext, flush: Bool = true) {
        guard let connection else { return }
        // Handing ciphertext to the channel can re-enter this handler (a writer reacting to
        // channelWritabilityChanged). The outer loop below picks up anything queued meanwhile,
        // so a nested call only notes the flush: encrypting out of order would corrupt the stream.
        guard !isEncrypting else {
            flushRequestedWhileEncrypting = flushRequestedWhileEncrypting || flush
            return
        }
        isEncrypting = true
        defer { isEncrypting = false }
        var flushNow = flush
        while true {
            repeat {
                guard encryptQueuedWrites(context: context, connection: connection) else { return }
            } while !pendingWrites.isEmpty && state == .active  // queued while the channel ran our write
            flushNow = flushNow || flushRequestedWhileEncrypting
            flushRequestedWhileEncrypting = false
            guard flushNow else { return }
            context.flush()
            flushNow = false
            // The flush itself can wake a writer (writability, a completed write's promise) that
            // writes and flushes while we are still here: go round again for it.
            guard flushRequestedWhileEncrypting || (!pendingWrites.isEmpty && state == .active) else { return }
        }
    }

    /// Encrypts every queued write and hands the ciphertext to the channel; the writes'
    /// promises complete with the last socket write. Returns false if the connection failed.
    private func encryptQueuedWrites(context: ChannelHandlerContext, connection: TLSConnection) -> Bool {
        var completion: EventLoopPromise<Void>?
        while state == .active, let write = pendingWrites.popFirst() {
            pendingWriteBytes -= write.data.readableBytes
            do {
                try encrypt(write.data, context: context, connection: connection)
            } catch {
                write.promise?.fail(error)
                completion?.fail(error)
                if state == .active {
                    fail(context: context, error: error)
                }  // otherwise a re-entrant close already ended the session
                return false
            }
            if let promise = write.promise {
                if let completion { completion.futureResult.cascade(to: promise) } else { completion = promise }
            }
        }
        emitCiphertext(context: context, promise: completion)
        return true
    }

    private func encrypt(_ data: ByteBuffer, context: ChannelHandlerContext, connection: TLSConnection) throws(TLSError) {
        var remaining = data
        while remaining.readableBytes > 0 {
            let sliceBytes = min(remaining.readableBytes, TLSHandler.plaintextSliceBytesMax)
            let slice = remaining.readSlice(length: sliceBytes)!
            let result: Result<Void, TLSError> = slice.withUnsafeReadableBytes { bytes in
                Result { () throws(TLSError) in try connection.writePlaintext(bytes) }
            }
            try result.get()
            if connection.pendingCiphertextBytes >= TLSHandler.ciphertextWriteBytesMax {
                emitCiphertext(context: context, promise: nil)
                guard state == .active else {
                    throw TLSError(.closed, "the connection closed while this write was being sent")
                }
            }
        }
    }

    /// Hands everything OpenSSL produced to the channel, in buffers of at most
    /// `ciphertextBufferBytesMax` (an empty write when there is nothing, so that `promise`
    /// still completes in order). The promise rides on the last buffer.
    private func emitCiphertext(context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        guard let connection else {
            promise?.fail(TLSError(.closed, "no TLS session"))
            return
        }
        var pending = connection.pendingCiphertextBytes
        if pending == 0 && promise == nil { return }
        repeat {
            let bytes = min(pending, TLSHandler.ciphertextBufferBytesMax)
            var ciphertext = context.channel.allocator.buffer(capacity: bytes)
            connection.drainCiphertext(into: &ciphertext, bytesMax: bytes)
            pending -= bytes
            context.write(wrapOutboundOut(ciphertext), promise: pending == 0 ? promise : nil)
        } while pending > 0
    }

    // MARK: Closing

    private func sendCloseNotify(context: ChannelHandlerContext) {
        // Unflushed writes are failed, as a plain channel fails them on close.
        failPendingWrites(TLSError(.closed, "the connection was closed before these writes were flushed"))
        state = .closing
        connection?.shutdown()
        emitCiphertext(context: context, promise: nil)
        context.flush()
    }

    private func awaitPeerCloseNotify(context: ChannelHandlerContext, promise: EventLoopPromise<Void>?) {
        // Sending close_notify may have failed its flush (the peer reset the connection) and
        // closed the channel synchronously; channelInactive has then already run, and a promise
        // stored now would never be completed.
        guard state != .closed else {
            promise?.succeed()
            return
        }
        closePromise = promise ?? context.eventLoop.makePromise()
        let timeoutMs = tlsContext.configuration.closeNotifyTimeoutMs
        closeNotifyTimeout = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(timeoutMs)) {
            self.closeChannel(context: context)
        }
        context.read()  // the peer's close_notify must be read even when autoRead is off
    }

    private func answerPeerCloseNotify(context: ChannelHandlerContext) {
        receivedCloseNotify = true
        if state == .active {
            sendCloseNotify(context: context)
        }
        closeChannel(context: context)
    }

    private func closeChannel(context: ChannelHandlerContext) {
        guard state != .closed else { return }
        state = .closed
        cancelTimers()
        let promise = closePromise
        closePromise = nil
        context.close(mode: .all, promise: promise)
    }

    private func fail(context: ChannelHandlerContext, error: TLSError) {
        guard state != .closed else { return }
        // Send the alert OpenSSL queued, so the peer learns why.
        if connection?.pendingCiphertextBytes ?? 0 > 0 {
            emitCiphertext(context: context, promise: nil)
            context.flush()
        }
        failPendingWrites(error)
        context.fireErrorCaught(error)
        closeChannel(context: context)
    }

    private func failPendingWrites(_ error: TLSError) {
        pendingWriteBytes = 0
        while let write = pendingWrites.popFirst() {
            write.promise?.fail(error)
        }
    }

    private func cancelTimers() {
        handshakeTimeout?.cancel()
        handshakeTimeout = nil
        closeNotifyTimeout?.cancel()
        closeNotifyTimeout = nil
    }
}

@available(*, unavailable)
extension TLSHandler: Sendable {}
