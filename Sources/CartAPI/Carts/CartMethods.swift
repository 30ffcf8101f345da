import CartDomain
import CartRPC
import CartWire

// Cart methods: ids 0x0101…0x01FF.

extension MethodID {
    public static let cartCreate = MethodID(0x0101)
    public static let cartGet = MethodID(0x0102)
    public static let cartAddItem = MethodID(0x0103)
    public static let cartRemoveItem = MethodID(0x0104)
    public static let cartSetQuantity = MethodID(0x0105)
    public static let cartShare = MethodID(0x0106)
    public static let cartUnshare = MethodID(0x0107)
    public static let cartCheckout = MethodID(0x0108)
    public static let cartEvents = MethodID(0x0109)
}

extension RPCMethod where Request == CreateCartRequest, Response == CartWriteReply {
    public static var cartCreate: Self { RPCMethod(id: .cartCreate, name: "Cart.create", kind: .unary) }
}

extension RPCMethod where Request == GetCartRequest, Response == CartReply {
    public static var cartGet: Self { RPCMethod(id: .cartGet, name: "Cart.get", kind: .unary) }
}

extension RPCMethod where Request == AddItemRequest, Response == CartWriteReply {
    public static var cartAddItem: Self { RPCMethod(id: .cartAddItem, name: "Cart.addItem", kind: .unary) }
}

extension RPCMethod where Request == RemoveItemRequest, Response == CartWriteReply {
    public static var cartRemoveItem: Self { RPCMethod(id: .cartRemoveItem, name: "Cart.removeItem", kind: .unary) }
}

extension RPCMethod where Request == SetQuantityRequest, Response == CartWriteReply {
    public static var cartSetQuantity: Self { RPCMethod(id: .cartSetQuantity, name: "Cart.setQuantity", kind: .unary) }
}

extension RPCMethod where Request == ShareCartRequest, Response == CartWriteReply {
    public static var cartShare: Self { RPCMethod(id: .cartShare, name: "Cart.share", kind: .unary) }
}

extension RPCMethod where Request == UnshareCartRequest, Response == CartWriteReply {
    public static var cartUnshare: Self { RPCMethod(id: .cartUnshare, name: "Cart.unshare", kind: .unary) }
}

extension RPCMethod where Request == CheckoutRequest, Response == CheckoutReply {
    public static var cartCheckout: Self { RPCMethod(id: .cartCheckout, name: "Cart.checkout", kind: .unary) }
}

extension RPCMethod where Request == CartEventsRequest, Response == CartEventsReply {
    public static var cartEvents: Self { RPCMethod(id: .cartEvents, name: "Cart.events", kind: .unary) }
}
