import CartRPC
import CartWire

// Item methods: ids 0x0201…0x02FF.

extension MethodID {
    public static let itemGet = MethodID(0x0201)
    public static let itemPut = MethodID(0x0202)
    public static let itemAdjustStock = MethodID(0x0203)
}

extension RPCMethod where Request == GetItemRequest, Response == ItemReply {
    public static var itemGet: Self { RPCMethod(id: .itemGet, name: "Item.get", kind: .unary) }
}

extension RPCMethod where Request == PutItemRequest, Response == ItemReply {
    public static var itemPut: Self { RPCMethod(id: .itemPut, name: "Item.put", kind: .unary) }
}

extension RPCMethod where Request == AdjustStockRequest, Response == ItemReply {
    public static var itemAdjustStock: Self { RPCMethod(id: .itemAdjustStock, name: "Item.adjustStock", kind: .unary) }
}
