import CartAPI
import CartDomain
import CartRPC
import CartTypes

/// The watch channels of one replica's carts. Used only on the replica's loop.
final class WatchRegistry {
    private var channels: [CartID: [ObjectIdentifier: WatchChannel]] = [:]

    func add(_ channel: WatchChannel, for cart: CartID) {
        channels[cart, default: [:]][ObjectIdentifier(channel)] = channel
    }

    func remove(_ channel: WatchChannel, for cart: CartID) {
        channels[cart]?[ObjectIdentifier(channel)] = nil
        if channels[cart]?.isEmpty == true { channels[cart] = nil }
    }

    /// Offers `event` to the cart's watchers, stamped with `committedAtMicros()`: read only
    /// when someone watches the cart, and building one item shared by all of them.
    /// A user unshared from the cart gets that event, then their streams of it end
    /// (`permissionDenied`): access is checked when a stream starts, and must not outlive it.
    func publish(_ event: CartEvent, committedAtMicros: () -> UInt64) {
        guard let watching = channels[event.cart] else { return }
        let item = WatchItem(event: event, committedAtMicros: committedAtMicros())
        // Encoded at most once, for the watchers that can take it straight away.
        var encoded: RPCStreamWriter<WatchItem>.Encoded??
        let encodeOnce = { () -> RPCStreamWriter<WatchItem>.Encoded? in
            if encoded == nil { encoded = .some(try? RPCStreamWriter<WatchItem>.encode(item)) }
            return encoded!
        }
        for channel in watching.values { channel.offer(item, encoded: encodeOnce) }
        if case .unshared(let unshared) = event.change {
            for (id, channel) in watching where channel.reader == unshared.user {
                channel.revoke(at: event.seq)
                channels[event.cart]?[id] = nil
            }
            if channels[event.cart]?.isEmpty == true { channels[event.cart] = nil }
        }
    }

    func markAllOverflowed() {
        for watching in channels.values {
            for channel in watching.values { channel.markOverflowed() }
        }
    }

    func closeAll() {
        for watching in channels.values {
            for channel in watching.values { channel.close() }
        }
        channels.removeAll()
    }

    var count: Int { channels.values.reduce(0) { $0 + $1.count } }
}
