import CartDomain
import CartTypes

extension PartitionReplica {
    /// A cart's events from `from` (at most `eventsMax`) as this replica can serve them to
    /// `reader`, for watches and `Cart.events`: from the cart's kept history (its newest
    /// `DomainLimits.historyEventsPerCartMax` events) or, further back, from the events this
    /// replica applied within the resume window (`recentEvents`) when they reach back to
    /// `from` and up to the cart's newest event. Otherwise as the domain answers:
    /// `historyTruncated` names the oldest kept event. Loop-confined.
    func history(of cart: CartID, from: Seq, eventsMax: Int, readBy reader: UserID) -> Result<[CartEvent], DomainError> {
        loop.assertInEventLoop()
        let kept = state.history(of: cart, from: from, eventsMax: eventsMax, readBy: reader)
        guard case .failure(.historyTruncated) = kept, let recent = recentEvents.events(of: cart, from: from),
              recent.last?.seq == state.carts[cart]?.seq else { return kept }
        metrics.increment(.historyFromRecent)
        return .success(Array(recent.prefix(eventsMax)))
    }
}
