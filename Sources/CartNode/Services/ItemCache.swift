import CartDomain
import CartTypes
import Foundation
import NIOConcurrencyHelpers

/// The node's in-process copy of catalogue items, used to price `addItem` without a hop to
/// the item's partition.
///
/// Freshness: an entry is replaced whenever a replica on this node applies an event of the
/// item (or restores a snapshot), so on a node that hosts the item's partition the cache is
/// at most that replica's replication lag behind the item's leader (normally one round
/// trip). Items of partitions this node does not host are fetched from their leader on a
/// miss and kept for `remoteEntryLifetimeMs`. The price is only a quote: the line keeps the
/// price of its first addition. The stock is advice too (a line may not grow beyond it,
/// `PartitionState.checkAvailability`); it is enforced at checkout, on the item's partition.
final class ItemCache: Sendable {
    static let remoteEntryLifetimeMs: UInt64 = 1_000
    static let entriesMax = 1_000_000

    private struct Entry {
        var item: Item
        /// nil: kept fresh by a local replica.
        var expiresAtNs: UInt64?
    }

    private let entries = NIOLockedValueBox([ItemID: Entry]())

    func item(_ id: ItemID) -> Item? {
        let now = DispatchTimeNow.nanoseconds()
        return entries.withLockedValue { entries in
            guard let entry = entries[id] else { return nil }
            if let expiry = entry.expiresAtNs, expiry < now {
                entries[id] = nil
                return nil
            }
            return entry.item
        }
    }

    /// A local replica applied a change of `item`.
    func update(_ item: Item) {
        entries.withLockedValue { entries in
            guard entries.count < Self.entriesMax || entries[item.id] != nil else { return }
            entries[item.id] = Entry(item: item, expiresAtNs: nil)
        }
    }

    /// An item fetched from another node's replica.
    func remember(_ item: Item) {
        let expiry = DispatchTimeNow.nanoseconds() + Self.remoteEntryLifetimeMs * 1_000_000
        entries.withLockedValue { entries in
            if entries[item.id]?.expiresAtNs == nil, entries[item.id] != nil { return }
            guard entries.count < Self.entriesMax else { return }
            entries[item.id] = Entry(item: item, expiresAtNs: expiry)
        }
    }
}

enum DispatchTimeNow {
    static func nanoseconds() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }
}
