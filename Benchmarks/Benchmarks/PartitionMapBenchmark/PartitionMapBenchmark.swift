import Benchmark
import CartTypes

let benchmarks: @Sendable () -> Void = {
    Benchmark("PartitionMap.partition(of: CartID)",
              configuration: .init(metrics: [.wallClock, .throughput, .mallocCountTotal])) { benchmark in
        let map = PartitionMap(partitionCount: 16)
        let cart = CartID("0b6c1e2a-5a3e-4f5e-9a55-0d1f2e3c4b5a")
        for _ in benchmark.scaledIterations {
            blackHole(map.partition(of: cart))
        }
    }
}
