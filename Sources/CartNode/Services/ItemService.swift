import CartAPI
import CartDomain
import CartRPC
import CartTypes
import NIOCore

// Items: get (from the item cache when it can), put and adjust stock (proposed at the
// item partition's leader). Catalogue changes need a user named in the configuration's
// `admins`; the node a client calls checks, and so does the leader a call is forwarded to.

extension NodeServices {
    func registerItemService(_ table: MethodTable) {
        table.add(.itemGet) { [self] request, _, loop in
            item(request.item, on: loop).map { ItemReply(item: $0) }
        }
        table.add(.itemPut) { [self] request, caller, loop in
            loop.failing {
                _ = try caller.admin(admins)
                let command = Command.putItem(PutItem(item: request.item, name: request.name, price: request.price,
                                                      initialStock: request.initialStock))
                return writeItem(.itemPut, request, item: request.item, requestKey: request.request, command: command,
                                 caller: caller, on: loop)
            }
        }
        table.add(.itemAdjustStock) { [self] request, caller, loop in
            loop.failing {
                _ = try caller.admin(admins)
                let command = Command.adjustStock(AdjustStock(item: request.item, delta: request.delta))
                return writeItem(.itemAdjustStock, request, item: request.item, requestKey: request.request, command: command,
                                 caller: caller, on: loop)
            }
        }
    }

    private func writeItem<Request>(_ method: RPCMethod<Request, ItemReply>, _ request: Request, item: ItemID,
                                    requestKey: RequestKey, command: Command, caller: Caller,
                                    on loop: any EventLoop) -> EventLoopFuture<ItemReply> {
        router.route(method, partition: placement.partition(of: item), request, caller: caller, on: loop) { replica in
            replica.propose(command, request: requestKey).flatMapThrowing { outcome in
                _ = try Self.accepted(outcome)
                guard let current = replica.state.items[item] else { throw DomainError.itemNotFound(item).rpcError }
                return ItemReply(item: current)
            }
        }
    }

    /// The item from the cache, or read at its partition's leader (and cached) on a miss.
    func item(_ id: ItemID, on loop: any EventLoop) -> EventLoopFuture<Item> {
        if let cached = items.item(id) { return loop.makeSucceededFuture(cached) }
        let request = GetItemRequest(item: id)
        return router.route(.itemGet, partition: placement.partition(of: id), request, caller: Caller(actor: nil), on: loop) { replica in
            replica.readLinearizable { (state) throws(RPCError) -> ItemReply in
                guard let item = state.items[id] else { throw DomainError.itemNotFound(id).rpcError }
                return ItemReply(item: item)
            }
        }.map { [items] reply in
            items.remember(reply.item)
            return reply.item
        }
    }
}
