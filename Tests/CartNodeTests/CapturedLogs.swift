import Logging
import NIOConcurrencyHelpers

/// Log lines kept in memory, so a test can check that something was logged (and by which node).
final class CapturedLogs: Sendable {
    struct Line: Sendable {
        let level: Logger.Level
        let message: String
        let metadata: [String: String]
    }

    private let lines = NIOLockedValueBox<[Line]>([])

    func append(_ line: Line) { lines.withLockedValue { $0.append(line) } }

    var all: [Line] { lines.withLockedValue { $0 } }
}

/// A swift-log handler writing into `CapturedLogs`; the logger's own metadata (e.g. `node`)
/// is merged with each line's.
struct CapturingLogHandler: LogHandler {
    let sink: CapturedLogs
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    init(_ sink: CapturedLogs) { self.sink = sink }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let merged = metadata.merging(event.metadata ?? [:]) { _, line in line }
        sink.append(CapturedLogs.Line(level: event.level, message: "\(event.message)",
                                      metadata: merged.mapValues { "\($0)" }))
    }
}
