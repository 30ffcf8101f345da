import CartRPC
import CartWire

// Sync methods: ids 0x0401…0x04FF.

extension MethodID {
    public static let syncWatch = MethodID(0x0401)
}

extension RPCMethod where Request == WatchRequest, Response == WatchItem {
    public static var syncWatch: Self { RPCMethod(id: .syncWatch, name: "Sync.watch", kind: .serverStream) }
}
