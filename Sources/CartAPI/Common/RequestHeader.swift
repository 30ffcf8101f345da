import CartDomain
import CartTypes

// Every mutating request carries a `RequestKey` (client id, request id): a retry with the
// same key is answered with the first attempt's outcome instead of being applied twice
// (the partition's replicated dedup window, see CartDomain `DedupWindow`). Requests that
// change a cart also carry an optional `expectedVersion`: when present, the write fails
// with `versionConflict` and the cart's current version unless the cart is at that version.
//
// The acting user is never a request field: it is the connection's authenticated principal
// (the gateway decides it from the hello's token), so a client cannot act for someone else.

extension RequestKey {
    /// The key a server uses when the caller sent none: unique per call, so never deduplicated.
    public static func unkeyed(_ sequence: UInt64) -> RequestKey {
        RequestKey(client: ClientID(0), request: RequestID(sequence))
    }
}
