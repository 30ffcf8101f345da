import CartAPI
import CartDomain
import CartRPC
import CartTypes
import NIOCore

// Sync.watch: a cart's events as a server stream, served by this node's replica of the
// cart's partition (leader or follower): first the retained history from `fromSeq` (or, from
// further back, the events the replica applied within the resume window, `RecentCartEvents`),
// then live events as the replica applies them. Registration and the history read happen in one
// step on the replica's loop, so no event falls between them; the consumer checks that
// seqs are consecutive and re-reads history whenever its bounded channel overflowed. Live
// items carry the replica's commit time; items re-read from history carry none. While the
// consumer waits and keeps up, the replica sends live items to the stream itself: written at
// once when the stream's connection is on its loop, else in one hop to the connection's loop
// (`WatchChannel`, counted in `cart_sync_watch_items_direct_total`); the consumer's task then
// only handles what cannot go that way (no credit, a full connection, history re-reads, the
// stream's end).

extension NodeServices {
    func registerSyncService(on server: RPCServer) {
        server.registerStream(.syncWatch) { [self] request, context, writer in
            let reader = try Caller(context).user()
            let partition = placement.partition(of: request.cart)
            guard let replica = replicas[partition] else {
                throw elsewhere(partition, because: notHosted(partition), "watch on one of them")
            }
            let channel = WatchChannel(eventsMax: configuration.watchBufferEventsMax, reader: reader)
            metrics.increment(.watchStreamsOpened)
            defer { replica.loop.execute { replica.watchers.remove(channel, for: request.cart) } }
            var next = max(request.fromSeq, Seq(1))
            try await withTaskCancellationHandler {
                var backlog = try await catchUp(replica, channel: channel, cart: request.cart, reader: reader, from: next)
                while true {
                    // The items that continue the stream exactly, in one send: a burst of
                    // events (commits after a stall, a history re-read) costs one trip.
                    var run: [WatchItem] = []
                    for item in backlog where item.event.seq >= next {
                        guard item.event.seq == next else { break }
                        run.append(item)
                        next = next.next
                    }
                    try await writer.send(contentsOf: run)
                    if let last = backlog.last, last.event.seq >= next {
                        // A gap: something was missed; fall back to the history.
                        backlog = try await catchUp(replica, channel: channel, cart: request.cart, reader: reader, from: next)
                        continue
                    }
                    let (woken, continuing) = await channel.next(continuingWith: next) { [metrics] encoded, done in
                        writer.trySend(encoded) { sent in
                            if sent { metrics.increment(.watchItemsDirect) }
                            done(sent)
                        }
                    }
                    next = continuing
                    switch woken {
                    case .events(let events): backlog = events
                    case .overflowed:
                        metrics.increment(.watchResyncs)
                        backlog = try await catchUp(replica, channel: channel, cart: request.cart, reader: reader, from: next)
                    case .closed: throw RPCError(.unavailable, "the replica stopped; watch again from seq \(next.rawValue)", retryAfterMs: 100)
                    case .accessRevoked:
                        // Every event up to the unshare was sent above (the channel hands out
                        // what it buffered first) unless the channel had overflowed: those
                        // still missing come from the history, up to the unshare and no further.
                        var note = ""
                        if let revokedAt = channel.revokedAt, next <= revokedAt {
                            let from = next
                            let missed = try await replica.loop.submit {
                                Self.eventsUntilRevoked(replica, cart: request.cart, from: from, through: revokedAt)
                            }.get()
                            try await writer.send(contentsOf: missed)
                            if missed.isEmpty { note = " (its events from #\(next.rawValue) are no longer kept)" }
                        }
                        throw RPCError(.permissionDenied, "\(reader) is no longer shared on cart \(request.cart)\(note)")
                    }
                }
            } onCancel: {
                channel.close()
            }
        }
    }

    /// On the replica's loop: the events `from`…`through` of a reader's watch that its
    /// unshare (at `through`) ended while it was behind, read from the history without the
    /// access check the reader no longer passes, as it was shared until then. Empty if the
    /// history no longer reaches back that far, or `from` is past `through`.
    static func eventsUntilRevoked(_ replica: PartitionReplica, cart: CartID, from: Seq, through: Seq) -> [WatchItem] {
        guard from <= through else { return [] }
        let count = Int(clamping: through.rawValue - from.rawValue + 1)
        guard case .success(let events) = (replica.state.histories[cart] ?? CartHistory()).read(from: from, eventsMax: count),
              events.first?.seq == from, events.last?.seq == through else { return [] }
        return events.map { WatchItem(event: $0, committedAtMicros: nil) }
    }

    /// On the replica's loop: checks access, (re)registers the channel and reads the history
    /// from `from` — in one step, so live events continue exactly after the history. The
    /// history's items have no commit time: when they committed is not kept.
    ///
    /// A replica may lag its leader by a few entries: a cart it does not know, or a reader it
    /// does not see shared, may only not have reached it yet (the cart was created, or shared,
    /// through the leader a moment ago). It refuses only after a read barrier, once it has
    /// applied everything committed when the watch asked.
    func catchUp(_ replica: PartitionReplica, channel: WatchChannel, cart: CartID, reader: UserID,
                 from: Seq) async throws -> [WatchItem] {
        do {
            return try await catchUpNow(replica, channel: channel, cart: cart, reader: reader, from: from)
        } catch let refusal as DomainError {
            switch refusal {
            case .cartNotFound, .permissionDenied: break
            default: throw refusal.rpcError
            }
        }
        try await replica.loop.flatSubmit { replica.readBarrier() }.get()
        do {
            return try await catchUpNow(replica, channel: channel, cart: cart, reader: reader, from: from)
        } catch let refusal as DomainError {
            throw refusal.rpcError
        }
    }

    private func catchUpNow(_ replica: PartitionReplica, channel: WatchChannel, cart: CartID, reader: UserID,
                            from: Seq) async throws -> [WatchItem] {
        try await replica.loop.submit { () throws -> [WatchItem] in
            guard replica.servesWatches else {
                throw RPCError(.unavailable, "partition \(replica.partition) is not served on this node now", retryAfterMs: 100)
            }
            if let revokedAt = channel.revokedAt {
                // Unshared while this stream was catching up: what it missed up to the unshare,
                // and no more; the channel stays revoked, and the stream ends after these.
                return Self.eventsUntilRevoked(replica, cart: cart, from: from, through: revokedAt)
            }
            switch replica.history(of: cart, from: from, eventsMax: .max, readBy: reader) {
            case .success(let events):
                channel.rearm()
                replica.watchers.add(channel, for: cart)
                return events.map { WatchItem(event: $0, committedAtMicros: nil) }
            case .failure(let error):
                if case .historyTruncated = error { self.metrics.increment(.watchHistoryTruncated) }
                throw error
            }
        }.get()
    }
}
