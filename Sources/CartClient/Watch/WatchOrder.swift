import CartDomain
import CartTypes

/// The watch guarantee, checked on every event: events of the right cart, seqs exactly
/// `next`, `next + 1`, … across every reconnect. A violation is a server bug that would
/// silently lose or repeat a change for the user, so it ends the watch with an error
/// rather than being smoothed over.
struct WatchOrder: Sendable {
    let cart: CartID
    /// The seq the next event must carry; the resume point after a reconnect.
    private(set) var next: Seq

    init(cart: CartID, fromSeq: Seq) {
        self.cart = cart
        self.next = max(fromSeq, Seq(1))
    }

    mutating func accept(_ event: CartEvent) throws(CartClientError) {
        guard event.cart == cart else {
            throw CartClientError(.internal, "watch of cart \(cart) received an event of cart \(event.cart)")
        }
        guard event.seq == next else {
            let what = event.seq < next ? "a repeat of" : "a gap before"
            throw CartClientError(.internal, "watch of cart \(cart) broke order: expected #\(next.rawValue), received #\(event.seq.rawValue) (\(what) an event)")
        }
        next = Seq(next.rawValue + 1)
    }
}
