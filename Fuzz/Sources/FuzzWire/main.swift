import CartWire
import NIOCore

/// libFuzzer entry point. The first byte picks what the rest of the input is fed to:
/// the frame codec (then each frame's payload to the envelope decoders), or a message decoder.
/// Any outcome but a value or a typed error is a bug; so is a decoded value that does not
/// survive encode → decode unchanged.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzWire(_ start: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    guard count > 0 else { return 0 }
    let input = UnsafeBufferPointer(start: start + 1, count: count - 1)
    let limits = WireLimits(depthMax: 16, elementsMax: 10_000, bytesMax: 1 << 16)
    switch start[0] % 4 {
    case 0: fuzzFrames(input)
    case 1: roundTrip(FuzzEverything.self, input, limits)
    case 2: roundTrip(FuzzTree.self, input, limits)
    default: roundTrip([FuzzChange].self, input, limits)
    }
    return 0
}

func fuzzFrames(_ input: UnsafeBufferPointer<UInt8>) {
    var buffer = ByteBuffer(bytes: input)
    let limits = FrameLimits(frameBytesMax: 4096)
    while true {
        let frame: Frame?
        do { frame = try FrameCodec.decode(from: &buffer, limits: limits) } catch { return }
        guard let frame else { return }
        let wireLimits = WireLimits(depthMax: 8, elementsMax: 1_000, bytesMax: 4096)
        let payload = Array(frame.payload.readableBytesView)
        payload.withUnsafeBufferPointer { bytes in
            switch frame.type {
            case .hello: roundTrip(Hello.self, bytes, wireLimits)
            case .helloAck: roundTrip(HelloAck.self, bytes, wireLimits)
            case .error: roundTrip(ErrorPayload.self, bytes, wireLimits)
            case .goAway: roundTrip(GoAway.self, bytes, wireLimits)
            case .credit: roundTrip(Credit.self, bytes, wireLimits)
            case .ping, .pong: roundTrip(Ping.self, bytes, wireLimits)
            case .cancel: roundTrip(Cancel.self, bytes, wireLimits)
            case .streamEnd: roundTrip(StreamEnd.self, bytes, wireLimits)
            case .request, .response, .streamItem: roundTrip(FuzzLine.self, bytes, wireLimits)
            }
        }
        // A frame that decoded must encode back to a frame that decodes to itself.
        guard let again = try? FrameCodec.encode(frame, limits: limits) else {
            fatalError("decoded frame \(frame.header) does not re-encode")
        }
        var copy = again
        precondition((try? FrameCodec.decode(from: &copy, limits: limits)) == frame, "frame round trip changed \(frame.header)")
    }
}

func roundTrip<T: Codable & Equatable>(_ type: T.Type, _ input: UnsafeBufferPointer<UInt8>, _ limits: WireLimits) {
    let decoder = BinaryDecoder(limits: limits)
    let value: T
    do { value = try decoder.decode(T.self, from: UnsafeRawBufferPointer(input)) } catch { return }
    // Float NaN payloads make == false by definition, so compare bytes instead of values.
    guard let bytes = try? BinaryEncoder().encode(value) else { fatalError("decoded \(T.self) does not re-encode") }
    guard let again = try? decoder.decode(T.self, from: bytes) else { fatalError("re-encoded \(T.self) does not decode") }
    guard let bytesAgain = try? BinaryEncoder().encode(again) else { fatalError("\(T.self) does not re-encode twice") }
    precondition(bytes == bytesAgain, "\(T.self): encoding is not stable across a round trip")
}
