import CartDomain
import CartRPC
import CartWire

/// Every method of the SharedCart API, for catalogues, tools and the protocol spec.
public enum CartAPI {
    /// Methods served on the client port.
    public static let clientMethods: [MethodDescriptor] = [
        RPCMethod.cartCreate.descriptor, RPCMethod.cartGet.descriptor, RPCMethod.cartAddItem.descriptor,
        RPCMethod.cartRemoveItem.descriptor, RPCMethod.cartSetQuantity.descriptor, RPCMethod.cartShare.descriptor,
        RPCMethod.cartUnshare.descriptor, RPCMethod.cartCheckout.descriptor, RPCMethod.cartEvents.descriptor,
        RPCMethod.itemGet.descriptor, RPCMethod.itemPut.descriptor, RPCMethod.itemAdjustStock.descriptor,
        RPCMethod.userRegister.descriptor, RPCMethod.userLogin.descriptor, RPCMethod.userGet.descriptor,
        RPCMethod.userCarts.descriptor, RPCMethod.userCanAccess.descriptor,
        RPCMethod.syncWatch.descriptor,
        RPCMethod.clusterStatus.descriptor, RPCMethod.clusterHealth.descriptor,
    ]

    /// Methods served on the peer port only.
    public static let peerMethods: [MethodDescriptor] = [
        RPCMethod.peerRaft.descriptor, RPCMethod.peerForward.descriptor, RPCMethod.peerPropose.descriptor,
        RPCMethod.peerSnapshot.descriptor, RPCMethod.peerUserExists.descriptor,
    ]

    /// The whole catalogue (built-ins included).
    public static var catalogue: MethodCatalogue { MethodCatalogue(clientMethods + peerMethods) }
}
