import CartRPC
import NIOCore
import NIOPosix

/// Runs echo load against a server and reports the merged latencies.
public enum LoadRunner {
    public static func run(_ options: LoadOptions) async throws -> LoadReport {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: options.threads)
        var configuration = RPCClientConfiguration(host: options.host, port: options.port, security: options.security,
                                                   identity: "cartload", eventLoopGroup: group)
        configuration.connectionsPerEndpoint = options.connections
        configuration.callTimeoutMsDefault = nil
        let client = RPCClient(configuration: configuration)
        do {
            let report = try await drive(client, options)
            await client.shutdown()
            try await group.shutdownGracefully()
            return report
        } catch {
            await client.shutdown()
            try? await group.shutdownGracefully()
            throw error
        }
    }

    private static func drive(_ client: RPCClient, _ options: LoadOptions) async throws -> LoadReport {
        var connections: [RPCConnection] = []
        for _ in 0..<options.connections { connections.append(try await client.connection()) }

        var payload = ByteBufferAllocator().buffer(capacity: options.payloadBytes)
        payload.writeRepeatingByte(0x61, count: options.payloadBytes)
        let start = ConnectionDriver.nowNanos()
        let measureStart = start + UInt64(options.warmupSeconds * 1e9)
        let measureEnd = measureStart + UInt64(options.durationSeconds * 1e9)
        let intervalNanos = options.ratePerSecond.map { UInt64(1e9 * Double(options.connections) / $0) }

        var drivers: [NIOLoopBound<ConnectionDriver>] = []
        for (index, connection) in connections.enumerated() {
            let payload = payload
            let inflightMax = options.inflightMax(connection: index)
            let driver = try await connection.eventLoop.submit {
                let driver = ConnectionDriver(connection: connection, payload: payload, inflightMax: inflightMax,
                                              measureStartNanos: measureStart, measureEndNanos: measureEnd,
                                              intervalNanos: intervalNanos)
                let bound = NIOLoopBound(driver, eventLoop: connection.eventLoop)
                driver.start(bound: bound)
                return bound
            }.get()
            drivers.append(driver)
        }

        let now = ConnectionDriver.nowNanos()
        if measureEnd > now { try await Task.sleep(nanoseconds: measureEnd - now) }
        var total = LatencyStats()
        for driver in drivers {
            let stats = try await driver.eventLoop.submit {
                driver.value.stop()
                return driver.value.stats
            }.get()
            total.merge(stats)
        }
        return LoadReport(stats: total, seconds: Double(measureEnd - measureStart) / 1e9)
    }
}
