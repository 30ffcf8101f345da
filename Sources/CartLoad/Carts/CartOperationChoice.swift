import CartClient
import CartTypes

/// One operation with everything it works on chosen: run as a task (`run`) or started from
/// a callback (`start`), with the same requests and the same bookkeeping of the slots.
struct CartOperationChoice: Sendable {
    let operation: CartOperation
    /// The cart's slot and its index in `CartSlots`.
    let index: Int
    let slot: CartSlots.Slot
    /// Index of the load user making the call.
    let actor: Int
    /// Item to add; `lineItem` is one of the cart's lines for removes and quantity changes.
    let item: ItemID
    let lineItem: ItemID
    /// New quantity of a quantity change.
    let quantity: Int64

    /// Runs the operation and returns the operation run (as `start`, awaited).
    func run(_ users: LoadUsers, _ slots: CartSlots) async throws(CartClientError) -> CartOperation {
        switch operation {
        case .share, .create, .checkout:
            return try await runWithFollowUps(users, slots)
        case .add, .get, .remove, .setQuantity:
            let outcome = await withCheckedContinuation { (continuation: CheckedContinuation<(CartOperation, CartClientError?), Never>) in
                start(users, slots) { ran, error in continuation.resume(returning: (ran, error)) }
            }
            if let error = outcome.1 { throw error }
            return outcome.0
        }
    }

    /// The operations with follow-up calls, as a task: a share that finds the user already
    /// shared unshares instead, a create or checkout replaces the slot's cart.
    private func runWithFollowUps(_ users: LoadUsers, _ slots: CartSlots) async throws(CartClientError) -> CartOperation {
        let client = users.clients[actor]
        switch operation {
        case .share:
            let other = users.names[(slot.owner + 2) % users.names.count]
            do {
                _ = try await client.share(slot.cart, with: [other])
            } catch let error where error.code == .alreadyExists {
                _ = try await client.unshare(slot.cart, user: other)
            }
        case .create:
            let reply = try await client.createCart()
            slots.replace(index, with: .init(cart: reply.cart, owner: slot.owner, sharedWith: slot.owner))
        case .checkout:
            _ = try await client.checkout(slot.cart)
            let reply = try await users.clients[slot.owner].createCart()
            slots.replace(index, with: .init(cart: reply.cart, owner: slot.owner, sharedWith: slot.owner))
        case .add, .get, .remove, .setQuantity:
            preconditionFailure("\(operation) runs through start")
        }
        return operation
    }

    /// Starts the operation and calls `done` once with the operation run and its error (nil on
    /// success). Adds, reads, removes and quantity changes (most of the mix) use the client's
    /// calls without a task; shares, creates and checkouts, with their follow-up calls, run as
    /// `runWithFollowUps` in a task. `done` never runs before this returns.
    func start(_ users: LoadUsers, _ slots: CartSlots,
               done: @escaping @Sendable (CartOperation, CartClientError?) -> Void) {
        let client = users.clients[actor]
        switch operation {
        case .add:
            client.addItem(slot.cart, item: item, quantity: 1) { result in
                if case .success = result { slots.noteAdded(item, at: index, cart: slot.cart) }
                done(.add, result.error)
            }
        case .get:
            client.readCart(slot.cart, users.reads) { result in done(.get, result.error) }
        case .remove:
            client.removeItem(slot.cart, item: lineItem) { result in
                // On notFound another worker removed it first: forget it, and let the refusal count.
                if result.error == nil || result.error?.code == .notFound {
                    slots.noteRemoved(lineItem, at: index, cart: slot.cart)
                }
                done(.remove, result.error)
            }
        case .setQuantity:
            client.setQuantity(slot.cart, item: lineItem, quantity: quantity) { result in done(.setQuantity, result.error) }
        case .share, .create, .checkout:
            Task {
                do throws(CartClientError) {
                    done(try await runWithFollowUps(users, slots), nil)
                } catch {
                    done(operation, error)
                }
            }
        }
    }
}

extension Result {
    /// The failure, or nil on success.
    var error: Failure? {
        if case .failure(let error) = self { return error }
        return nil
    }
}
