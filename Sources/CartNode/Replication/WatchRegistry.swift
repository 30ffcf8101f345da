import CartAPI
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

    /// Whether anyone watches `cart`: the replica reads the clock for a commit time only then.
    func isWatched(_ cart: CartID) -> Bool { channels[cart] != nil }

    func publish(_ item: WatchItem) {
        guard let watching = channels[item.event.cart] else { return }
        for channel in watching.values { channel.offer(item) }
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
