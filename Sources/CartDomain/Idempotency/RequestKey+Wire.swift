import CartTypes
import CartWire

/// The request key's hand-written wire fields, shared by the log entry (`CommandEnvelope`)
/// and the client messages that carry one: field 1 the client, field 2 the request, the same
/// bytes as its Codable encoding. Decoding keeps the last occurrence of each field and reads
/// only that one, as Codable does.
extension RequestKey: WireMessage {
    public func encode(to writer: inout WireFieldWriter) throws(WireEncodingError) {
        writer.write(1, client)
        writer.write(2, request)
    }

    public init(from reader: inout WireFieldReader) throws(WireEncodingError) {
        var client: WireField?, request: WireField?
        while let field = try reader.next() {
            switch field.number {
            case 1: client = field
            case 2: request = field
            default: break
            }
        }
        self.init(client: try client.required("client", 1, in: Self.self).identifier(ClientID.self),
                  request: try request.required("request", 2, in: Self.self).identifier(RequestID.self))
    }
}
