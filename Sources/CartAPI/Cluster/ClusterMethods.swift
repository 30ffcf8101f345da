import CartRPC
import CartWire

// Cluster methods: ids 0x0501…0x05FF.

extension MethodID {
    public static let clusterStatus = MethodID(0x0501)
    public static let clusterHealth = MethodID(0x0502)
}

extension RPCMethod where Request == ClusterStatusRequest, Response == ClusterStatusReply {
    public static var clusterStatus: Self { RPCMethod(id: .clusterStatus, name: "Cluster.status", kind: .unary) }
}

extension RPCMethod where Request == ClusterStatusRequest, Response == HealthReply {
    public static var clusterHealth: Self { RPCMethod(id: .clusterHealth, name: "Cluster.health", kind: .unary) }
}
