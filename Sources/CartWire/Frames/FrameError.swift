/// Why bytes could not be read as a frame, or a frame could not be written. Every frame
/// error is fatal to the connection: after one, the receiver cannot know where the next
/// frame starts.
///
/// `kind` is stable (the test vectors name it by `kind.rawValue`); `message` is for people.
public struct FrameError: Error, Hashable, Sendable, CustomStringConvertible {
    public enum Kind: String, Sendable, CaseIterable {
        /// The length prefix exceeds `FrameLimits.frameBytesMax`.
        case frameTooLarge
        /// The length prefix is smaller than the header it must contain.
        case frameTooShort
        /// The header's version byte is not one this peer speaks.
        case unsupportedVersion
        /// The frame type byte names no frame type.
        case unknownFrameType
        /// A flag bit this version does not define is set, or the deadline flag is set on a
        /// frame other than a request.
        case invalidFlags
        /// A connection frame on a non-zero stream, or a stream frame on stream 0.
        case invalidStreamID
        /// A request without a method id, or a method id on any other frame type.
        case invalidMethodID
        /// The connection closed in the middle of a frame.
        case truncated
    }

    public let kind: Kind
    public let message: String

    public init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    public var description: String { "\(kind.rawValue): \(message)" }

    /// The code of the error frame a peer sends before closing the connection.
    public var errorCode: ErrorCode {
        switch kind {
        case .frameTooLarge: .frameTooLarge
        case .unsupportedVersion: .unsupportedVersion
        default: .malformedFrame
        }
    }
}
