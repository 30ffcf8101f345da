import CartDomain
import CartTypes
import NIOConcurrencyHelpers

/// Hands out request keys: this client's id and a number that grows per logical request.
/// A retry reuses the key of its first attempt, so the partition's dedup window answers it
/// with the first outcome instead of applying the change twice.
final class RequestKeys: Sendable {
    let client: ClientID
    private let next = NIOLockedValueBox<UInt64>(1)

    init(client: ClientID) { self.client = client }

    func make() -> RequestKey {
        let request = next.withLockedValue { value -> UInt64 in
            defer { value += 1 }
            return value
        }
        return RequestKey(client: client, request: RequestID(request))
    }
}
