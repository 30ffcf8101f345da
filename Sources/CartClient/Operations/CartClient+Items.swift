import CartAPI
import CartDomain
import CartTypes

extension CartClient {
    public func getItem(_ item: ItemID) async throws(CartClientError) -> Item {
        try await call(.itemGet, GetItemRequest(item: item), route: .partition(await partition(of: item))).item
    }

    /// Creates an item or replaces its name and price (admin). `initialStock` counts only
    /// for a new item.
    public func putItem(_ item: ItemID, name: String, price: Money, initialStock: Int64,
                        requestKey: RequestKey? = nil) async throws(CartClientError) -> Item {
        let request = PutItemRequest(item: item, name: name, price: price, initialStock: initialStock,
                                     request: requestKey ?? makeRequestKey())
        return try await call(.itemPut, request, route: .partition(await partition(of: item))).item
    }

    /// Adds (positive) or removes (negative) available units (admin).
    public func adjustStock(_ item: ItemID, delta: Int64, requestKey: RequestKey? = nil) async throws(CartClientError) -> Item {
        let request = AdjustStockRequest(item: item, delta: delta, request: requestKey ?? makeRequestKey())
        return try await call(.itemAdjustStock, request, route: .partition(await partition(of: item))).item
    }

    func partition(of item: ItemID) async -> PartitionID? {
        await warmUpRouting()
        return routing.partitionMap?.partition(of: item)
    }
}
