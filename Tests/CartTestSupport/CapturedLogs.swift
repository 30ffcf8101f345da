import Logging
import NIOConcurrencyHelpers

/// Log lines kept in memory, so a test can check that something was logged (and by which node).
public final class CapturedLogs: Sendable {
    public struct Line: Sendable {
        public let level: Logger.Level
        public let message: String
        public let metadata: [String: String]
    }

    private let lines = NIOLockedValueBox<[Line]>([])

    public init() {}

    public func append(_ line: Line) { lines.withLockedValue { $0.append(line) } }

    public var all: [Line] { lines.withLockedValue { $0 } }
}

/// A swift-log handler writing into `CapturedLogs`; the logger's own metadata (e.g. `node`)
/// is merged with each line's.
public struct CapturingLogHandler: LogHandler {
    public let sink: CapturedLogs
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level = .info

    public init(_ sink: CapturedLogs) { self.sink = sink }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, line in line }
        sink.append(CapturedLogs.Line(level: event.level, message: "\(event.message)",
                                      metadata: merged.mapValues { "\($0)" }))
    }
}
