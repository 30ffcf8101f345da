import CartWire
import NIOCore

/// The stall watch: a server that stops answering (its process stopped, its machine frozen,
/// the network dropping everything) leaves the connection open, and without this its calls
/// would wait out their whole timeouts (a cluster client's attempt timeout is 5 s) while the
/// cluster has long moved the work to other nodes, and a watch on it would wait for the
/// keepalive (three of the server's intervals) before resuming elsewhere. While calls are
/// open (unary calls waiting, server streams running), every `stallProbeIntervalMs` the
/// handler asks whether the server sent anything; after one silent interval it pings, after
/// a second it gives the connection up: the calls fail with `unavailable` and the caller
/// retries (a watch resumes) elsewhere. Only a server that answers nothing is given up; one
/// slow to answer a call, or with nothing to send on a stream, still answers the ping on
/// its event loop. A connection whose only call is an idle stream pings about once a second.
extension ClientConnectionHandler {
    /// Bytes arrived (`InboundBytesMarker`): the server is not silent, even while an answer
    /// larger than the bytes one read brings is still on its way.
    func bytesArrived() {
        stallClock.trafficSeen()
    }

    /// Arms the watch, with a fresh silence count, when a call starts, unless it is armed.
    func watchForStall() {
        guard stallTimer == nil, stallProbeIntervalMs != nil else { return }
        stallClock = KeepaliveClock(deadAfter: 2)
        armStallTimer()
    }

    func checkForStall() {
        stallTimer = nil
        guard phase == .open || phase == .goingAway else { return }
        guard !pending.isEmpty else { return }  // disarmed until the next call
        switch stallClock.tick() {
        case .none:
            break
        case .sendPing:
            sendPing(nonce: UInt64(stallClock.silentIntervals))
        case .peerDead:
            let silentMs = (stallProbeIntervalMs ?? 0) * 2
            health.markUnreachable()
            shutDown(RPCError(.unavailable, "the server sent nothing for \(silentMs) ms, not even a pong to a ping, while calls were open: presumed hung"))
            context?.close(promise: nil)
            return
        }
        armStallTimer()
    }

    private func armStallTimer() {
        guard let intervalMs = stallProbeIntervalMs, let bound = loopBound else { return }
        stallTimer = bound.eventLoop.scheduleTask(in: .milliseconds(intervalMs)) { bound.value.checkForStall() }
    }
}

/// Sits between TLS and the frame splitter and tells the handler of every read: the stall
/// watch counts bytes, not whole frames, so a slow link delivering a large answer (a
/// snapshot piece) is never taken for a hung server.
final class InboundBytesMarker: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias InboundOut = ByteBuffer

    private let handler: ClientConnectionHandler

    init(_ handler: ClientConnectionHandler) { self.handler = handler }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        handler.bytesArrived()
        context.fireChannelRead(data)
    }
}
