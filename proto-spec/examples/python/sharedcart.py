#!/usr/bin/env python3
"""A small SharedCart client in Python, written from proto-spec/ (PROTOCOL.md, SERVICES.md
and the vectors) as an example of a client in another language.

Python 3.11 standard library only. It covers:

- frames (PROTOCOL.md §5), the binary payload encoding (§6) and the envelope messages (§7);
- TLS to a node's client port, verifying the node against the cluster CA (no client
  certificate), the hello / helloAck handshake (§9) with an optional `authToken`;
- unary calls on increasing stream ids with a relative deadline (§10.1, §10.2), replies
  matched to requests by stream id, error frames raised as `SharedCartError` carrying the
  §11 code, message, leader hint, retry-after and current version;
- the server's pings answered, also between calls; a silent server probed with pings;
  goAway honoured (§10.5);
- the `Sync.watch` server stream with credit-based flow control (§10.4) and cancel (§10.3);
- the methods User.register, User.login (then reconnecting with the token), Item.put,
  Item.get, Cart.create, Cart.addItem, Cart.get, Cart.share, Cluster.status, Sync.watch,
  with the message shapes of SERVICES.md ("Messages");
- routing (SERVICES.md "Partitions", "Leader hints"): any node accepts any request and
  forwards it to the leader; a write reply's `leaderHint` is remembered per cart; retryable
  errors (`notLeader`, `unavailable`, `goingAway`, `deadlineExceeded`, `resourceExhausted`)
  are retried with the same request key after `retryAfterMs`, at the hinted leader or else
  at the next node; a watch goes to a replica of the cart's partition.

Not covered: the other methods of SERVICES.md (they follow the same pattern), the peer
port, `noReply` requests, resuming a watch after a lost connection, more than one thread
per connection.

As a command line program:

    sharedcart.py --endpoints 127.0.0.1:7401,127.0.0.1:7402 --ca certs/ca.pem COMMAND …
    sharedcart.py --help

The `vectors` command checks the codec against proto-spec/vectors/ (no cluster needed).
"""

from __future__ import annotations

import argparse
import base64
import enum
import json
import os
import random
import re
import socket
import ssl
import struct
import sys
import time
from dataclasses import dataclass
from typing import Any, Callable, Iterator

PROTOCOL_VERSION = 1
HEADER_BYTES = 10           # version, type, flags, stream, method (§5.2)
FRAME_BYTES_MAX = 16 << 20  # the frame hard cap (§12): what this client accepts
DEFAULT_TIMEOUT_S = 15.0    # the reference client's operation deadline (SERVICES.md)
PROBE_AFTER_S = 1.0         # ping a silent server after this long while calls are open
PROBE_GIVE_UP_S = 5.0       # and close the connection after this long without any frame


# --------------------------------------------------------------------------------------
# Errors (PROTOCOL.md §11)

class ErrorCode(enum.IntEnum):
    cancelled = 1
    unknown = 2
    invalidArgument = 3
    deadlineExceeded = 4
    notFound = 5
    alreadyExists = 6
    permissionDenied = 7
    resourceExhausted = 8
    failedPrecondition = 9
    aborted = 10
    unimplemented = 12
    internal = 13
    unavailable = 14
    unauthenticated = 16
    notLeader = 100
    versionConflict = 101
    unsupportedVersion = 102
    unknownMethod = 103
    frameTooLarge = 104
    malformedFrame = 105
    protocolViolation = 106
    goingAway = 107


# Retried with the same request key. `aborted` is retryable too, but as a new
# read-modify-write by the caller, not as the same request.
RETRYABLE = {ErrorCode.deadlineExceeded, ErrorCode.resourceExhausted,
             ErrorCode.unavailable, ErrorCode.notLeader, ErrorCode.goingAway}


def oldest_retained_seq(error: "SharedCartError") -> int | None:
    """N of a `[27] history truncated: oldest retained event is #N` refusal (SERVICES.md)."""
    match = re.search(r"oldest retained event is #(\d+)", error.message)
    if error.code != ErrorCode.failedPrecondition or not error.message.startswith("[27]") or not match:
        return None
    return int(match.group(1))


class SharedCartError(Exception):
    """An error frame (or a local failure reported with the same codes).

    `code` is the wire number (kept as is when unknown), `name` its §11 name,
    `connection` is true when the error concerned the whole connection (stream 0)."""

    def __init__(self, code: int, message: str, leader_hint: dict | None = None,
                 retry_after_ms: int | None = None, current_version: int | None = None,
                 connection: bool = False):
        self.code = code
        self.message = message
        self.leader_hint = leader_hint
        self.retry_after_ms = retry_after_ms
        self.current_version = current_version
        self.connection = connection
        super().__init__(f"{self.name} ({code}): {message}")

    @property
    def name(self) -> str:
        try:
            return ErrorCode(self.code).name
        except ValueError:
            return "unknown"

    @property
    def retryable(self) -> bool:
        return self.code in RETRYABLE

    @classmethod
    def from_payload(cls, payload: dict, connection: bool = False) -> "SharedCartError":
        return cls(payload["code"], payload["message"], payload.get("leaderHint"),
                   payload.get("retryAfterMs"), payload.get("currentVersion"), connection)


class DecodeError(Exception):
    """A payload that does not decode; `kind` is the §11 decoding-error kind."""

    def __init__(self, kind: str, detail: str = ""):
        self.kind = kind
        super().__init__(f"{kind}: {detail}" if detail else kind)


# --------------------------------------------------------------------------------------
# Payload encoding (PROTOCOL.md §6)

VARINT, FIXED64, LENGTH_DELIMITED, FIXED32 = 0, 1, 2, 5


def encode_varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def decode_varint(data: bytes, offset: int) -> tuple[int, int]:
    value = 0
    for i in range(10):
        if offset + i >= len(data):
            raise DecodeError("truncated", "varint")
        byte = data[offset + i]
        if i == 9 and byte > 1:
            raise DecodeError("varintOverflow")
        value |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            return value, offset + i + 1
    raise DecodeError("varintOverflow")


def zigzag(n: int) -> int:
    return ((n << 1) ^ (n >> 63)) & 0xFFFF_FFFF_FFFF_FFFF


def unzigzag(u: int) -> int:
    return (u >> 1) ^ -(u & 1)


# Messages are described by their fields: (number, name, kind). A kind is a scalar
# ("u64": unsigned varint, "i64": zigzag varint, "bool", "string", "bytes") or the name of
# another message; "[kind]" is a repeated field and "kind?" an optional one. Integer widths
# (u8 … u64) all travel as varints, so "u64" stands for every unsigned width.
# An enum with associated values (CartChange) is a message with one optional field per
# case (§6.4), so it needs nothing special.
MESSAGES: dict[str, list[tuple[int, str, str]]] = {
    # Envelope (PROTOCOL.md §7)
    "Hello": [(1, "versions", "bytes"), (2, "role", "u64"), (3, "identity", "string"),
              (4, "nodeID", "u64?"), (5, "authToken", "string?")],
    "HelloAck": [(1, "version", "u64"), (2, "identity", "string"), (3, "nodeID", "u64?"),
                 (4, "frameBytesMax", "u64"), (5, "streamsConcurrentMax", "u64"),
                 (6, "streamCreditInitial", "u64"), (7, "keepaliveIntervalMs", "u64")],
    "ErrorPayload": [(1, "code", "u64"), (2, "message", "string"),
                     (3, "leaderHint", "LeaderHint?"), (4, "retryAfterMs", "u64?"),
                     (5, "currentVersion", "u64?")],
    "LeaderHint": [(1, "nodeID", "u64"), (2, "address", "string")],
    "GoAway": [(1, "lastAcceptedStreamID", "u64"), (2, "code", "u64"), (3, "reason", "string")],
    "Credit": [(1, "count", "u64")],
    "Ping": [(1, "nonce", "u64")],
    "Cancel": [(1, "reason", "string?")],
    "StreamEnd": [(1, "itemCount", "u64")],
    # Services (SERVICES.md); identifiers are their raw value: CartID, ItemID, UserID are
    # strings, NodeID, Seq, Version, ClientID, RequestID unsigned; Money (minor units) and
    # Timestamp (ms since the epoch) are Int64.
    "RequestKey": [(1, "client", "u64"), (2, "request", "u64")],
    "RegisterUserRequest": [(1, "user", "string"), (2, "password", "string"),
                            (3, "request", "RequestKey")],
    "RegisterUserReply": [(1, "user", "string")],
    "LoginRequest": [(1, "user", "string"), (2, "password", "string")],
    "LoginReply": [(1, "user", "string"), (2, "token", "string"), (3, "expiresAtMs", "i64")],
    "PutItemRequest": [(1, "item", "string"), (2, "name", "string"), (3, "price", "i64"),
                       (4, "initialStock", "i64"), (5, "request", "RequestKey")],
    "GetItemRequest": [(1, "item", "string")],
    "ItemReply": [(1, "item", "Item")],
    "Item": [(1, "id", "string"), (2, "name", "string"), (3, "price", "i64"),
             (4, "stock", "i64"), (5, "reserved", "i64")],
    "CreateCartRequest": [(1, "cart", "string?"), (2, "request", "RequestKey")],
    "GetCartRequest": [(1, "cart", "string"), (2, "local", "bool?")],
    "AddItemRequest": [(1, "cart", "string"), (2, "item", "string"), (3, "quantity", "i64"),
                       (4, "expectedVersion", "u64?"), (5, "request", "RequestKey")],
    "ShareCartRequest": [(1, "cart", "string"), (2, "users", "[string]"),
                         (3, "expectedVersion", "u64?"), (4, "request", "RequestKey")],
    "RemoveItemRequest": [(1, "cart", "string"), (2, "item", "string"),
                          (3, "expectedVersion", "u64?"), (4, "request", "RequestKey")],
    "SetQuantityRequest": [(1, "cart", "string"), (2, "item", "string"), (3, "quantity", "i64"),
                           (4, "expectedVersion", "u64?"), (5, "request", "RequestKey")],
    "UnshareCartRequest": [(1, "cart", "string"), (2, "user", "string"),
                           (3, "expectedVersion", "u64?"), (4, "request", "RequestKey")],
    "CheckoutRequest": [(1, "cart", "string"), (2, "expectedVersion", "u64?"),
                        (3, "request", "RequestKey")],
    "CheckoutReply": [(1, "cart", "string"), (2, "checkout", "string"), (3, "total", "i64"),
                      (4, "version", "u64"), (5, "seq", "u64")],
    "CartEventsRequest": [(1, "cart", "string"), (2, "fromSeq", "u64"), (3, "eventsMax", "u64"),
                          (4, "local", "bool?")],
    "CartEventsReply": [(1, "events", "[CartEvent]"), (2, "cartSeq", "u64"),
                        (3, "servedBy", "ReplicaPosition?")],
    "AdjustStockRequest": [(1, "item", "string"), (2, "delta", "i64"), (3, "request", "RequestKey")],
    "UserRequest": [(1, "user", "string")],
    "UserReply": [(1, "user", "string"), (2, "registeredAt", "i64"), (3, "carts", "[CartLink]")],
    "UserCartsReply": [(1, "carts", "[CartLink]")],
    "CartLink": [(1, "cart", "string"), (2, "role", "u64")],
    "CanAccessRequest": [(1, "user", "string"), (2, "cart", "string")],
    "CanAccessReply": [(1, "allowed", "bool")],
    "HealthReply": [(1, "node", "u64"), (2, "ready", "bool"), (3, "partitionsHosted", "u64"),
                    (4, "partitionsWithLeader", "u64"), (5, "partitionsLed", "u64"),
                    (6, "storageSyncs", "u64?"), (7, "entriesCommitted", "u64?"),
                    (8, "entriesApplied", "u64?"), (9, "journalSlowSyncs", "u64?"),
                    (10, "journalLongestSyncMicros", "u64?"), (11, "loopStalls", "u64?")],
    "CartWriteReply": [(1, "cart", "string"), (2, "version", "u64"), (3, "seq", "u64"),
                       (4, "leaderHint", "LeaderHint?")],
    "CartReply": [(1, "cart", "Cart"), (2, "leaderHint", "LeaderHint?"),
                  (3, "servedBy", "ReplicaPosition?")],
    "ReplicaPosition": [(1, "node", "u64"), (2, "appliedIndex", "u64"), (3, "commitIndex", "u64"),
                        (4, "leader", "u64")],
    "Cart": [(1, "id", "string"), (2, "owner", "string"), (3, "sharedUsers", "[string]"),
             (4, "lines", "[CartLine]"), (5, "status", "u64"), (6, "version", "u64"),
             (7, "seq", "u64"), (8, "createdAt", "i64"), (9, "updatedAt", "i64"),
             (10, "checkout", "CheckoutRecord?")],
    "CartLine": [(1, "item", "string"), (2, "quantity", "i64"), (3, "unitPrice", "i64")],
    "CheckoutRecord": [(1, "id", "string"), (2, "lines", "[StockLine]"), (3, "total", "i64"),
                       (4, "outcome", "u64"), (5, "settled", "bool")],
    "StockLine": [(1, "item", "string"), (2, "quantity", "i64")],
    "WatchRequest": [(1, "cart", "string"), (2, "fromSeq", "u64")],
    "WatchItem": [(1, "event", "CartEvent"), (2, "committedAtMicros", "u64?")],
    "CartEvent": [(1, "cart", "string"), (2, "seq", "u64"), (3, "version", "u64"),
                  (4, "timestamp", "i64"), (5, "change", "CartChange")],
    # `enum CartChange { case created(CartCreated), itemAdded(CartItemAdded), … }`: each case
    # holds one unlabeled value, so its case message is {1 (_0): the value's message} (§6.4).
    "CartChange": [(1, "created", "CartCreatedCase?"), (2, "itemAdded", "CartItemAddedCase?"),
                   (3, "itemRemoved", "CartItemRemovedCase?"), (4, "modified", "CartModifiedCase?"),
                   (5, "shared", "CartSharedCase?"), (6, "unshared", "CartUnsharedCase?"),
                   (7, "checkoutStarted", "CartCheckoutStartedCase?"),
                   (8, "checkout", "CartCheckoutCase?"),
                   (9, "checkoutAborted", "CartCheckoutAbortedCase?"),
                   (10, "checkoutSettled", "CartCheckoutSettledCase?")],
    "CartCreated": [(1, "owner", "string")],
    "CartItemAdded": [(1, "actor", "string"), (2, "line", "CartLine"),
                      (3, "quantityAdded", "i64")],
    "CartItemRemoved": [(1, "actor", "string"), (2, "item", "string")],
    "CartModified": [(1, "actor", "string"), (2, "item", "string"), (3, "quantity", "i64")],
    "CartShared": [(1, "user", "string")],
    "CartUnshared": [(1, "user", "string")],
    "CartCheckoutStarted": [(1, "actor", "string"), (2, "checkout", "string"),
                            (3, "lines", "[StockLine]"), (4, "total", "i64")],
    "CartCheckout": [(1, "checkout", "string"), (2, "total", "i64")],
    "CartCheckoutAborted": [(1, "checkout", "string"), (2, "reason", "string")],
    "CartCheckoutSettled": [(1, "checkout", "string")],
    "ClusterStatusRequest": [],
    "ClusterStatusReply": [(1, "node", "u64"), (2, "nodes", "[NodeAddress]"),
                           (3, "partitionCount", "u64"), (4, "partitions", "[PartitionStatus]"),
                           (5, "placement", "[PartitionReplicas]")],
    "PartitionReplicas": [(1, "partition", "u64"), (2, "replicas", "[u64]")],
    "NodeAddress": [(1, "node", "u64"), (2, "clientAddress", "string")],
    "PartitionStatus": [(1, "partition", "u64"), (2, "replicas", "[u64]"), (3, "role", "u64"),
                        (4, "leader", "u64"), (5, "term", "u64"), (6, "commitIndex", "u64"),
                        (7, "appliedIndex", "u64"), (8, "lastIndex", "u64"),
                        (9, "snapshotIndex", "u64")],
}

for _name in ("CartCreated", "CartItemAdded", "CartItemRemoved", "CartModified", "CartShared",
              "CartUnshared", "CartCheckoutStarted", "CartCheckout", "CartCheckoutAborted",
              "CartCheckoutSettled"):
    MESSAGES[_name + "Case"] = [(1, "_0", _name)]

def fnv1a64(text: str) -> int:
    value = 0xCBF29CE484222325
    for byte in text.encode("utf-8"):
        value = ((value ^ byte) * 0x100000001B3) & 0xFFFF_FFFF_FFFF_FFFF
    return value


def partition_of(cart: str, partition_count: int) -> int:
    """The partition that holds a cart (SERVICES.md "Partitions")."""
    return fnv1a64(cart) % partition_count


CART_STATUS = {1: "ACTIVE", 2: "CHECKING_OUT", 3: "CHECKED_OUT"}
RAFT_ROLE = {1: "follower", 2: "pre-candidate", 3: "candidate", 4: "leader"}
SCALARS = {"u64", "i64", "bool", "string", "bytes"}


def _kind(kind: str) -> tuple[str, bool, bool]:
    """(base kind, repeated, optional)"""
    if kind.startswith("["):
        return kind[1:-1], True, False
    if kind.endswith("?"):
        return kind[:-1], False, True
    return kind, False, False


def _encode_value(number: int, kind: str, value: Any) -> bytes:
    if kind in ("u64", "bool"):
        return encode_varint(number << 3 | VARINT) + encode_varint(int(value))
    if kind == "i64":
        return encode_varint(number << 3 | VARINT) + encode_varint(zigzag(value))
    if kind == "string":
        body = value.encode("utf-8")
    elif kind == "bytes":
        body = bytes(value)
    else:
        body = encode(kind, value)
    return encode_varint(number << 3 | LENGTH_DELIMITED) + encode_varint(len(body)) + body


def encode(message: str, value: dict) -> bytes:
    """The body of `message` (§6.7: a top-level message has no tag or length around it)."""
    out = bytearray()
    for number, name, kind in MESSAGES[message]:
        base, repeated, _ = _kind(kind)
        if value.get(name) is None:
            continue  # nil optional / empty repeated field: nothing (§6.4)
        for element in (value[name] if repeated else [value[name]]):
            out += _encode_value(number, base, element)
    return bytes(out)


def read_fields(data: bytes) -> Iterator[tuple[int, int, Any]]:
    """(field number, wire type, value) for every field; values are ints or bytes."""
    offset = 0
    while offset < len(data):
        tag, offset = decode_varint(data, offset)
        number, wire = tag >> 3, tag & 7
        if number == 0 or number >= 1 << 29:
            raise DecodeError("invalidFieldNumber", str(number))
        if wire == VARINT:
            value, offset = decode_varint(data, offset)
        elif wire in (FIXED64, FIXED32):
            size = 8 if wire == FIXED64 else 4
            if offset + size > len(data):
                raise DecodeError("truncated")
            value = int.from_bytes(data[offset:offset + size], "little")
            offset += size
        elif wire == LENGTH_DELIMITED:
            size, offset = decode_varint(data, offset)
            if size > len(data) - offset:
                raise DecodeError("lengthExceedsInput")
            value = bytes(data[offset:offset + size])
            offset += size
        else:
            raise DecodeError("invalidWireType", str(wire))
        yield number, wire, value


def _decode_value(kind: str, wire: int, value: Any) -> Any:
    wanted = VARINT if kind in ("u64", "i64", "bool") else LENGTH_DELIMITED
    if wire != wanted:
        raise DecodeError("typeMismatch", kind)
    if kind == "u64":
        return value
    if kind == "i64":
        return unzigzag(value)
    if kind == "bool":
        if value > 1:
            raise DecodeError("invalidValue", "bool")
        return bool(value)
    if kind == "string":
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            raise DecodeError("invalidUTF8") from None
    if kind == "bytes":
        return value
    return decode(kind, value)


def decode(message: str, data: bytes) -> dict:
    """A message body as a dict by field name; unknown fields are skipped (§6.6)."""
    fields = {number: (name, kind) for number, name, kind in MESSAGES[message]}
    out: dict[str, Any] = {}
    for number, wire, value in read_fields(data):
        if number not in fields:
            continue
        name, kind = fields[number]
        base, repeated, _ = _kind(kind)
        decoded = _decode_value(base, wire, value)
        if repeated:
            out.setdefault(name, []).append(decoded)
        else:
            out[name] = decoded  # last one wins
    for number, name, kind in MESSAGES[message]:
        base, repeated, optional = _kind(kind)
        if repeated:
            out.setdefault(name, [])
        elif name not in out and not optional:
            raise DecodeError("missingField", f"{message}.{name} ({number})")
    return out


# --------------------------------------------------------------------------------------
# Frames (PROTOCOL.md §5)

class FrameType(enum.IntEnum):
    hello = 1
    helloAck = 2
    request = 3
    response = 4
    error = 5
    streamItem = 6
    streamEnd = 7
    cancel = 8
    credit = 9
    ping = 10
    pong = 11
    goAway = 12


HAS_DEADLINE, NO_REPLY = 0x0001, 0x0002


def check_length(length: int, frame_bytes_max: int) -> None:
    """The §5.5 rules that need only the four length bytes."""
    if length > frame_bytes_max:
        raise DecodeError("frameTooLarge", f"{length} bytes")
    if length < HEADER_BYTES:
        raise DecodeError("frameTooShort")


@dataclass
class Frame:
    type: int
    stream: int = 0
    method: int = 0
    payload: bytes = b""
    flags: int = 0
    deadline_ms: int | None = None
    version: int = PROTOCOL_VERSION

    def to_bytes(self) -> bytes:
        flags = self.flags | (HAS_DEADLINE if self.deadline_ms is not None else 0)
        header = struct.pack(">BBHIH", self.version, self.type, flags, self.stream, self.method)
        if self.deadline_ms is not None:
            header += struct.pack(">Q", self.deadline_ms)
        return struct.pack(">I", len(header) + len(self.payload)) + header + self.payload

    @classmethod
    def parse(cls, body: bytes) -> "Frame":
        """A frame from the bytes after its length prefix."""
        if len(body) < HEADER_BYTES:
            raise DecodeError("frameTooShort")
        version, type_, flags, stream, method = struct.unpack_from(">BBHIH", body)
        if version != PROTOCOL_VERSION:
            raise DecodeError("unsupportedVersion", str(version))
        if type_ not in FrameType.__members__.values():
            raise DecodeError("unknownFrameType", str(type_))
        if flags & ~(HAS_DEADLINE | NO_REPLY) or (flags and type_ != FrameType.request):
            raise DecodeError("invalidFlags", hex(flags))
        deadline, offset = None, HEADER_BYTES
        if flags & HAS_DEADLINE:
            if len(body) < HEADER_BYTES + 8:
                raise DecodeError("frameTooShort")
            (deadline,) = struct.unpack_from(">Q", body, HEADER_BYTES)
            offset += 8
        connection_frame = type_ in (FrameType.hello, FrameType.helloAck, FrameType.ping,
                                     FrameType.pong, FrameType.goAway)
        if type_ != FrameType.error and connection_frame != (stream == 0):
            raise DecodeError("invalidStreamID", str(stream))
        if (method != 0) != (type_ == FrameType.request):
            raise DecodeError("invalidMethodID", str(method))
        return cls(type_, stream, method, bytes(body[offset:]), flags, deadline, version)


# --------------------------------------------------------------------------------------
# Methods (SERVICES.md): id, request message, reply (or stream item) message

@dataclass(frozen=True)
class Method:
    id: int
    name: str
    request: str
    reply: str


CART_CREATE = Method(0x0101, "Cart.create", "CreateCartRequest", "CartWriteReply")
CART_GET = Method(0x0102, "Cart.get", "GetCartRequest", "CartReply")
CART_ADD_ITEM = Method(0x0103, "Cart.addItem", "AddItemRequest", "CartWriteReply")
CART_REMOVE_ITEM = Method(0x0104, "Cart.removeItem", "RemoveItemRequest", "CartWriteReply")
CART_SET_QUANTITY = Method(0x0105, "Cart.setQuantity", "SetQuantityRequest", "CartWriteReply")
CART_SHARE = Method(0x0106, "Cart.share", "ShareCartRequest", "CartWriteReply")
CART_UNSHARE = Method(0x0107, "Cart.unshare", "UnshareCartRequest", "CartWriteReply")
CART_CHECKOUT = Method(0x0108, "Cart.checkout", "CheckoutRequest", "CheckoutReply")
CART_EVENTS = Method(0x0109, "Cart.events", "CartEventsRequest", "CartEventsReply")
ITEM_GET = Method(0x0201, "Item.get", "GetItemRequest", "ItemReply")
ITEM_PUT = Method(0x0202, "Item.put", "PutItemRequest", "ItemReply")
ITEM_ADJUST_STOCK = Method(0x0203, "Item.adjustStock", "AdjustStockRequest", "ItemReply")
USER_REGISTER = Method(0x0301, "User.register", "RegisterUserRequest", "RegisterUserReply")
USER_LOGIN = Method(0x0302, "User.login", "LoginRequest", "LoginReply")
USER_GET = Method(0x0303, "User.get", "UserRequest", "UserReply")
USER_CARTS = Method(0x0304, "User.carts", "UserRequest", "UserCartsReply")
USER_CAN_ACCESS = Method(0x0305, "User.canAccess", "CanAccessRequest", "CanAccessReply")
SYNC_WATCH = Method(0x0401, "Sync.watch", "WatchRequest", "WatchItem")
CLUSTER_STATUS = Method(0x0501, "Cluster.status", "ClusterStatusRequest", "ClusterStatusReply")
CLUSTER_HEALTH = Method(0x0502, "Cluster.health", "ClusterStatusRequest", "HealthReply")


# --------------------------------------------------------------------------------------
# One connection to one node (PROTOCOL.md §4, §9, §10)

class Connection:
    """A TLS connection to one node's client port after the hello.

    Not thread-safe: one caller at a time. Frames that arrive for a stream other than the
    one being waited for are kept until that stream is read."""

    def __init__(self, address: str, ca_file: str, token: str | None = None,
                 identity: str = "sharedcart.py/0.1", timeout: float = DEFAULT_TIMEOUT_S):
        self.address = address
        host, port = address.rsplit(":", 1)
        context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=ca_file)
        context.minimum_version = ssl.TLSVersion.TLSv1_2
        raw = socket.create_connection((host, int(port)), timeout=timeout)
        raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        # The node's certificate must name the host or IP literal dialled (certs/README.md).
        self.sock = context.wrap_socket(raw, server_hostname=host)
        self.closed = False
        self.go_away_stream: int | None = None  # goAway's lastAcceptedStreamID, once received
        self._buffer = bytearray()
        self._next_stream = 1
        self._open: dict[int, list[Frame]] = {}  # open stream -> frames not yet read
        self._ping_nonce = 0
        self.hello_ack = self._hello(identity, token, time.monotonic() + timeout)

    # Handshake (§9)

    def _hello(self, identity: str, token: str | None, deadline: float) -> dict:
        hello = {"versions": bytes([PROTOCOL_VERSION]), "role": 1, "identity": identity,
                 "authToken": token}
        self._send(Frame(FrameType.hello, payload=encode("Hello", hello)))
        frame = self._read_frame(deadline)
        if frame.type == FrameType.error:
            self.close()
            raise SharedCartError.from_payload(decode("ErrorPayload", frame.payload), True)
        if frame.type != FrameType.helloAck:
            raise self._fail(ErrorCode.protocolViolation, f"expected helloAck, got frame type {frame.type}")
        ack = decode("HelloAck", frame.payload)
        limits = ("frameBytesMax", "streamsConcurrentMax", "streamCreditInitial", "keepaliveIntervalMs")
        if ack["version"] != PROTOCOL_VERSION or any(ack[name] == 0 for name in limits):
            raise self._fail(ErrorCode.protocolViolation, f"unusable helloAck {ack}")
        return ack

    def _fail(self, code: int, message: str) -> SharedCartError:
        """Closes the connection; returns the error to raise for it."""
        self.close()
        return SharedCartError(code, message, connection=True)

    # Bytes in and out

    def _send(self, frame: Frame) -> None:
        if self.closed:
            raise SharedCartError(ErrorCode.unavailable, f"{self.address}: connection closed", connection=True)
        try:
            self.sock.sendall(frame.to_bytes())
        except OSError as error:
            raise self._fail(ErrorCode.unavailable, f"{self.address}: {error}") from None

    def _take_frame(self) -> Frame | None:
        """A complete frame from the bytes received so far, if there is one."""
        if len(self._buffer) < 4:
            return None
        (length,) = struct.unpack_from(">I", self._buffer)
        try:
            check_length(length, FRAME_BYTES_MAX)  # before buffering the frame (§5.5)
            if len(self._buffer) < 4 + length:
                return None
            body = bytes(self._buffer[4:4 + length])
            del self._buffer[:4 + length]
            return Frame.parse(body)
        except DecodeError as error:
            too_large = error.kind == "frameTooLarge"
            raise self._fail(ErrorCode.frameTooLarge if too_large else ErrorCode.malformedFrame, str(error)) from None

    def _receive(self, timeout: float | None) -> bool:
        """Reads what the socket has, waiting up to `timeout` (0: not at all); False if nothing came."""
        self.sock.settimeout(timeout)
        try:
            chunk = self.sock.recv(65536)
        except (TimeoutError, BlockingIOError, ssl.SSLWantReadError):
            return False
        except OSError as error:
            raise self._fail(ErrorCode.unavailable, f"{self.address}: {error}") from None
        if not chunk:
            raise self._fail(ErrorCode.unavailable, f"{self.address} closed the connection")
        self._buffer += chunk
        return True

    def _read_frame(self, deadline: float) -> Frame:
        """The next frame; pings the server when it is silent (§10.5)."""
        last_heard = time.monotonic()
        pinged = False
        while True:
            frame = self._take_frame()
            if frame is not None:
                return frame
            now = time.monotonic()
            if now >= deadline:
                raise TimeoutError
            if now - last_heard >= PROBE_GIVE_UP_S:
                raise self._fail(ErrorCode.unavailable, f"{self.address} silent for {PROBE_GIVE_UP_S:.0f} s")
            if now - last_heard >= PROBE_AFTER_S and not pinged:
                self._ping_nonce += 1
                self._send(Frame(FrameType.ping, payload=encode("Ping", {"nonce": self._ping_nonce})))
                pinged = True
            if self._receive(max(0.01, min(deadline - now, PROBE_AFTER_S))):
                last_heard = time.monotonic()
                pinged = False

    def poll(self) -> bool:
        """Handles what arrived while nobody read the connection: the server's pings (a
        connection that leaves them unanswered for three keepalive intervals is closed),
        a goAway, frames of open streams, a close. True if the connection is still usable."""
        try:
            while not self.closed and self._receive(0):
                pass
            while not self.closed and (frame := self._take_frame()) is not None:
                if frame.stream == 0:
                    self._connection_frame(frame)
                elif frame.stream in self._open:
                    self._open[frame.stream].append(frame)
        except SharedCartError:
            self.close()
        return not self.closed and self.go_away_stream is None

    def _next_for(self, stream: int, deadline: float) -> Frame:
        """The next frame of `stream`, handling connection frames on the way."""
        while True:
            if self._open.get(stream):
                return self._open[stream].pop(0)
            frame = self._read_frame(deadline)
            if frame.stream == 0:
                self._connection_frame(frame)
            elif frame.stream in self._open:
                self._open[frame.stream].append(frame)
            # else: a closed or unknown stream; ignored (§10.1)

    def _connection_frame(self, frame: Frame) -> None:
        if frame.type == FrameType.ping:
            self._send(Frame(FrameType.pong, payload=frame.payload))
        elif frame.type == FrameType.goAway:
            self.go_away_stream = decode("GoAway", frame.payload)["lastAcceptedStreamID"]
        elif frame.type == FrameType.error:
            self.close()
            raise SharedCartError.from_payload(decode("ErrorPayload", frame.payload), True)
        # pong: only proves the server alive, which _read_frame already noted

    def _open_stream(self, method_id: int, payload: bytes, deadline_ms: int | None) -> int:
        if self.go_away_stream is not None:
            raise SharedCartError(ErrorCode.goingAway, f"{self.address} is going away", connection=True)
        stream = self._next_stream
        self._next_stream += 1
        self._open[stream] = []
        self._send(Frame(FrameType.request, stream, method_id, payload, deadline_ms=deadline_ms))
        return stream

    def _cancel(self, stream: int, reason: str) -> None:
        if self._open.pop(stream, None) is not None and not self.closed:
            try:
                self._send(Frame(FrameType.cancel, stream, payload=encode("Cancel", {"reason": reason})))
            except SharedCartError:
                pass

    # Calls

    def call(self, method: Method, request: dict, timeout: float = DEFAULT_TIMEOUT_S) -> dict:
        """A unary call: the decoded reply, or SharedCartError."""
        return decode(method.reply, self.call_raw(method.id, encode(method.request, request), timeout))

    def call_raw(self, method_id: int, payload: bytes, timeout: float = DEFAULT_TIMEOUT_S) -> bytes:
        """A unary call with an encoded argument: the reply's payload bytes."""
        deadline = time.monotonic() + timeout
        stream = self._open_stream(method_id, payload, max(1, int(timeout * 1000)))
        try:
            frame = self._next_for(stream, deadline)
        except TimeoutError:
            self._cancel(stream, "deadline passed")
            raise SharedCartError(ErrorCode.deadlineExceeded, f"{self.address}: no answer in {timeout:.1f} s") from None
        self._open.pop(stream, None)
        if frame.type == FrameType.response:
            return frame.payload
        if frame.type == FrameType.error:
            raise SharedCartError.from_payload(decode("ErrorPayload", frame.payload))
        raise SharedCartError(ErrorCode.protocolViolation, f"frame type {frame.type} on unary stream {stream}")

    def watch(self, cart: str, from_seq: int = 1, idle_timeout: float | None = None) -> Iterator[dict]:
        """`Sync.watch`: yields each `WatchItem` as it arrives, granting credit as items are
        consumed (§10.4). Closing the generator (or leaving a for loop) cancels the stream.
        `idle_timeout` bounds the wait for each item (None: for ever)."""
        request = encode(SYNC_WATCH.request, {"cart": cart, "fromSeq": from_seq})
        stream = self._open_stream(SYNC_WATCH.id, request, None)
        window = self.hello_ack["streamCreditInitial"]
        consumed = 0  # items taken since the last credit frame
        try:
            while True:
                deadline = time.monotonic() + (idle_timeout if idle_timeout is not None else 1e9)
                try:
                    frame = self._next_for(stream, deadline)
                except TimeoutError:
                    raise SharedCartError(ErrorCode.deadlineExceeded, f"no event in {idle_timeout} s") from None
                if frame.type == FrameType.streamItem:
                    yield decode("WatchItem", frame.payload)
                    consumed += 1
                    if consumed >= max(1, window // 2):  # another half-window after half
                        credit = encode("Credit", {"count": consumed})
                        self._send(Frame(FrameType.credit, stream, payload=credit))
                        consumed = 0
                elif frame.type == FrameType.streamEnd:
                    self._open.pop(stream, None)
                    return
                elif frame.type == FrameType.error:
                    self._open.pop(stream, None)
                    raise SharedCartError.from_payload(decode("ErrorPayload", frame.payload))
        finally:
            self._cancel(stream, "watch closed")

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            try:
                self.sock.close()
            except OSError:
                pass


# --------------------------------------------------------------------------------------
# A cluster of nodes (SERVICES.md "Conventions")

class Client:
    """Calls a cluster through any of its nodes.

    Keeps one connection per node address. A write's reply names the cart's leader
    (`leaderHint`); later calls for that cart go there. Retryable errors are retried with the
    same request key (so a write applies once) until the operation's deadline: after
    `retryAfterMs` (or a short backoff), at the hinted leader, or else at the next node."""

    def __init__(self, endpoints: list[str], ca_file: str, token: str | None = None,
                 identity: str = "sharedcart.py/0.1", timeout: float = DEFAULT_TIMEOUT_S):
        self.endpoints = list(endpoints)
        self.ca_file = ca_file
        self.token = token
        self.identity = identity
        self.timeout = timeout
        self.client_id = random.getrandbits(63) | 1  # one per process; numbers its requests
        self._request_id = 0
        self._connections: dict[str, Connection] = {}
        self.leaders: dict[str, str] = {}  # cart -> client address of its partition's leader

    def request_key(self) -> dict:
        self._request_id += 1
        return {"client": self.client_id, "request": self._request_id}

    def connection(self, address: str | None = None) -> Connection:
        address = address or self.endpoints[0]
        connection = self._connections.get(address)
        if connection is None or not connection.poll():
            if connection is not None:
                connection.close()
            connection = Connection(address, self.ca_file, self.token, self.identity, self.timeout)
            self._connections[address] = connection
        return connection

    def close(self) -> None:
        for connection in self._connections.values():
            connection.close()
        self._connections.clear()

    def _next_endpoint(self, address: str) -> str:
        if address not in self.endpoints:
            return self.endpoints[0]
        return self.endpoints[(self.endpoints.index(address) + 1) % len(self.endpoints)]

    def call(self, method: Method, request: dict, cart: str | None = None,
             address: str | None = None) -> dict:
        """One operation, retried within `self.timeout` as SERVICES.md describes."""
        deadline = time.monotonic() + self.timeout
        address = address or (self.leaders.get(cart) if cart else None) or self.endpoints[0]
        backoff = 0.05
        while True:
            remaining = deadline - time.monotonic()
            try:
                reply = self.connection(address).call(method, request, max(0.05, remaining))
            except ssl.SSLCertVerificationError:
                raise  # the wrong CA, or a node whose certificate does not name its address
            except (SharedCartError, OSError) as error:
                if isinstance(error, OSError):  # no connection at all: try another node
                    error = SharedCartError(ErrorCode.unavailable, f"{address}: {error}", connection=True)
                wait = (error.retry_after_ms / 1000) if error.retry_after_ms else backoff
                if not error.retryable or time.monotonic() + wait >= deadline:
                    raise error
                if error.leader_hint:
                    address = error.leader_hint["address"]
                elif error.code != ErrorCode.deadlineExceeded:
                    address = self._next_endpoint(address)
                time.sleep(wait)
                backoff = min(backoff * 2, 1.0)
                continue
            hint = reply.get("leaderHint")
            if cart and hint:
                self.leaders[cart] = hint["address"]
            return reply

    # The methods

    def register(self, user: str, password: str) -> dict:
        return self.call(USER_REGISTER, {"user": user, "password": password,
                                         "request": self.request_key()})

    def login(self, user: str, password: str) -> dict:
        """`User.login`, then every connection is made again with the token in its hello."""
        reply = self.call(USER_LOGIN, {"user": user, "password": password})
        self.token = reply["token"]
        self.close()
        self.connection()  # reconnect now, so that a refused token shows here
        return reply

    def put_item(self, item: str, name: str, price: int, initial_stock: int) -> dict:
        request = {"item": item, "name": name, "price": price, "initialStock": initial_stock,
                   "request": self.request_key()}
        return self.call(ITEM_PUT, request)["item"]

    def get_item(self, item: str) -> dict:
        return self.call(ITEM_GET, {"item": item})["item"]

    def create_cart(self, cart: str | None = None) -> dict:
        reply = self.call(CART_CREATE, {"cart": cart, "request": self.request_key()})
        if reply.get("leaderHint"):
            self.leaders[reply["cart"]] = reply["leaderHint"]["address"]
        return reply

    def add_item(self, cart: str, item: str, quantity: int,
                 expected_version: int | None = None) -> dict:
        return self.call(CART_ADD_ITEM, {"cart": cart, "item": item, "quantity": quantity,
                                         "expectedVersion": expected_version,
                                         "request": self.request_key()}, cart=cart)

    def get_cart(self, cart: str) -> dict:
        return self.call(CART_GET, {"cart": cart}, cart=cart)["cart"]

    def get_cart_locally(self, cart: str, address: str | None = None) -> dict:
        """`Cart.get` with `local`: a `CartReply` from one node's own replica, asked at
        `address` (default: the first endpoint); a refusal sends it on to the node the hint
        names, so `servedBy` says which node answered and how far it had applied."""
        return self.call(CART_GET, {"cart": cart, "local": True}, address=address)

    def share(self, cart: str, users: list[str], expected_version: int | None = None) -> dict:
        return self.call(CART_SHARE, {"cart": cart, "users": users,
                                      "expectedVersion": expected_version,
                                      "request": self.request_key()}, cart=cart)

    def unshare(self, cart: str, user: str, expected_version: int | None = None) -> dict:
        return self.call(CART_UNSHARE, {"cart": cart, "user": user, "expectedVersion": expected_version,
                                        "request": self.request_key()}, cart=cart)

    def remove_item(self, cart: str, item: str, expected_version: int | None = None) -> dict:
        return self.call(CART_REMOVE_ITEM, {"cart": cart, "item": item, "expectedVersion": expected_version,
                                            "request": self.request_key()}, cart=cart)

    def set_quantity(self, cart: str, item: str, quantity: int,
                     expected_version: int | None = None) -> dict:
        return self.call(CART_SET_QUANTITY, {"cart": cart, "item": item, "quantity": quantity,
                                             "expectedVersion": expected_version,
                                             "request": self.request_key()}, cart=cart)

    def checkout(self, cart: str, expected_version: int | None = None) -> dict:
        """`Cart.checkout`: reserves every line's stock or nothing (the error names the short
        item); the reply's `total` is in minor units."""
        return self.call(CART_CHECKOUT, {"cart": cart, "expectedVersion": expected_version,
                                         "request": self.request_key()}, cart=cart)

    def events(self, cart: str, from_seq: int = 1, local: bool = False,
               address: str | None = None, pages_max: int = 10_000) -> list[dict]:
        """Every retained event of the cart from `from_seq` (from the oldest one kept when the
        cart no longer keeps `from_seq`: a cart keeps its last 64), page by page
        (`Cart.events`). With `local`, one node's own copy: the node at `address` (default:
        the first endpoint) is asked for every page, with no failing over."""
        events: list[dict] = []
        for _ in range(pages_max):
            request = {"cart": cart, "fromSeq": from_seq, "eventsMax": 1000, "local": local or None}
            try:
                if local:
                    page = self.connection(address).call(CART_EVENTS, request, self.timeout)
                else:
                    page = self.call(CART_EVENTS, request, cart=cart)
            except SharedCartError as error:
                oldest = oldest_retained_seq(error)
                if events or oldest is None or oldest <= from_seq:
                    raise
                from_seq = oldest  # "[27] history truncated: oldest retained event is #N"
                continue
            events += page["events"]
            if not page["events"] or page["events"][-1]["seq"] >= page["cartSeq"]:
                break
            from_seq = page["events"][-1]["seq"] + 1
        return events

    def adjust_stock(self, item: str, delta: int) -> dict:
        return self.call(ITEM_ADJUST_STOCK, {"item": item, "delta": delta,
                                             "request": self.request_key()})["item"]

    def get_user(self, user: str) -> dict:
        return self.call(USER_GET, {"user": user})

    def user_carts(self, user: str) -> list[dict]:
        return self.call(USER_CARTS, {"user": user})["carts"]

    def can_access(self, user: str, cart: str) -> bool:
        return self.call(USER_CAN_ACCESS, {"user": user, "cart": cart})["allowed"]

    def health(self, address: str | None = None) -> dict:
        return self.call(CLUSTER_HEALTH, {}, address=address)

    def status(self, address: str | None = None) -> dict:
        return self.call(CLUSTER_STATUS, {}, address=address)

    def replicas_of(self, cart: str) -> tuple[dict, list[str]]:
        """The cart's partition status and its replicas' client addresses (Cluster.status).
        The status is the asked node's view; a node that hosts no replica of the partition
        names its replicas (`placement`) but knows no leader (0)."""
        status = self.status()
        addresses = {node["node"]: node["clientAddress"] for node in status["nodes"]}
        number = partition_of(cart, status["partitionCount"])
        partition = next((p for p in status["partitions"] if p["partition"] == number), None)
        if partition is None:
            placed = next((p for p in status.get("placement", []) if p["partition"] == number), None)
            if placed is None:
                raise SharedCartError(ErrorCode.unavailable, f"node {status['node']} reports no partition p{number}")
            partition = {"partition": number, "replicas": placed["replicas"], "leader": 0}
        return partition, [addresses[node] for node in partition["replicas"] if node in addresses]

    def watch(self, cart: str, from_seq: int = 1, address: str | None = None,
              idle_timeout: float | None = None) -> Iterator[dict]:
        """`Sync.watch` through one node: `address`, else a replica of the cart's partition
        (only replicas answer a watch), the first endpoint if it is one."""
        if address is None:
            _, replicas = self.replicas_of(cart)
            first = self.endpoints[0]
            address = first if first in replicas or not replicas else replicas[0]
        return self.connection(address).watch(cart, from_seq, idle_timeout)

    def follow(self, cart: str, from_seq: int = 1, address: str | None = None,
               idle_timeout: float | None = None, give_up_after: float = 30.0,
               on_resume: Callable[[str, int, Exception], None] | None = None,
               on_truncated: Callable[[dict], None] | None = None) -> Iterator[dict]:
        """Every event of the cart from `from_seq` on, in seq order, each once, across dropped
        connections and nodes (SERVICES.md "Watch semantics"): when the watch's connection
        breaks or its node goes away, is cut off or stops serving the cart (a retryable error),
        it watches again from the last seq it yielded + 1, on another replica first.
        `on_resume(address, seq, error)` hears of each new attempt. A refusal of the watch
        itself (permissionDenied, notFound, historyTruncated, …) or of the connection
        (unauthenticated, a certificate the CA did not sign) ends it with the error, and so
        do `give_up_after` seconds of failed attempts (an attempt that stayed up 5 s starts
        the count again) and `idle_timeout` without an event. With `on_truncated`, a watch
        from a seq the cart no longer keeps goes on as SERVICES.md says: `on_truncated(cart)`
        gets the cart as it is now (`Cart.get`), and the watch continues from its seq + 1."""
        next_seq = max(1, from_seq)
        failed: list[str] = []  # nodes that failed since the last event, most recent last
        failing_since: float | None = None
        while True:
            attempt_started = time.monotonic()
            try:
                if address is None or address in failed:
                    _, replicas = self.replicas_of(cart)
                    untried = [a for a in replicas if a not in failed]
                    first = [a for a in untried if a == self.endpoints[0]]  # as `watch` prefers
                    address = (first or untried or [a for a in failed if a in replicas] or replicas)[0]
                for item in self.connection(address).watch(cart, next_seq, idle_timeout):
                    seq = item["event"]["seq"]
                    if seq < next_seq:
                        continue  # already yielded (not expected of a node; harmless)
                    if seq > next_seq:
                        raise SharedCartError(ErrorCode.protocolViolation,
                                              f"{address}: the watch went from #{next_seq - 1} to #{seq}")
                    next_seq += 1
                    failed.clear()
                    failing_since = None
                    yield item
                return  # the node ended the stream (it does not, for a watch that goes on)
            except ssl.SSLCertVerificationError:
                raise  # the wrong CA, or a node whose certificate does not name its address
            except (SharedCartError, OSError) as error:
                if on_truncated is not None and isinstance(error, SharedCartError) \
                        and oldest_retained_seq(error) is not None:
                    now_cart = self.get_cart(cart)
                    on_truncated(now_cart)
                    next_seq = now_cart["seq"] + 1
                    continue
                idle = isinstance(error, SharedCartError) and error.code == ErrorCode.deadlineExceeded \
                    and not error.connection
                if idle or (isinstance(error, SharedCartError) and not error.retryable):
                    raise
                now = time.monotonic()
                if now - attempt_started >= 5.0:
                    failing_since = None  # that watch worked for a while: a new failure
                failing_since = failing_since or now
                if now - failing_since >= give_up_after:
                    raise
                if address is not None:
                    failed = [a for a in failed if a != address] + [address]
                if on_resume is not None:
                    on_resume(address or "?", next_seq, error)
                retry_ms = getattr(error, "retry_after_ms", None)
                time.sleep(min(1.0, (retry_ms or 100) / 1000))


# --------------------------------------------------------------------------------------
# Printing

def describe_event(item: dict) -> str:
    event = item["event"]
    (case, value), = event["change"].items()
    change = value["_0"]
    names = {name: kind[:-len("Case?")] for _, name, kind in MESSAGES["CartChange"]}
    if case == "itemAdded":
        line = change["line"]
        detail = (f"{change['actor']} added {change['quantityAdded']} x {line['item']}"
                  f" (now {line['quantity']})")
    else:
        detail = " ".join(f"{key}={value}" for key, value in change.items())
    return f"#{event['seq']} v{event['version']} {names.get(case, case)} {detail}".rstrip()


def to_json(value: Any) -> str:
    def default(obj: Any) -> Any:
        if isinstance(obj, bytes):
            return base64.b64encode(obj).decode()
        raise TypeError(type(obj))
    return json.dumps(value, default=default, sort_keys=True)


# --------------------------------------------------------------------------------------
# Test vectors (PROTOCOL.md §14): the envelope messages and frames

def read_vectors(path: str) -> list[dict]:
    """The vectors of one file, each a dict of its `key: value` lines plus its name."""
    vectors: list[dict] = []
    with open(path, encoding="utf-8") as file:
        for line in file:
            if line.startswith("== "):
                vectors.append({"name": line[3:].strip()})
            elif vectors and ":" in line and not line.startswith("#"):
                key, _, value = line.partition(":")
                vectors[-1][key] = value.strip()
    return vectors


def _from_json(message: str, value: dict) -> dict:
    """A vector's JSON value in the shape `encode` takes (bytes fields are lists of numbers)."""
    out = dict(value)
    for _, name, kind in MESSAGES[message]:
        base, _, _ = _kind(kind)
        if name in out and base == "bytes":
            out[name] = bytes(out[name])
        elif name in out and base in MESSAGES:
            out[name] = _from_json(base, out[name])
    return out


# messages.vectors shows nesting, enums and sets with illustrative types whose names are
# also the API's but whose fields are not (PROTOCOL.md §14): skipped here.
EXAMPLE_TYPES = {"CartLine", "CartChange", "CartSnapshot", "Tree"}
DEFAULT_FRAME_BYTES_MAX = 1 << 20  # §12


def _frame_error(data: bytes, frame_bytes_max: int) -> str | None:
    """The decoding-error kind of a whole frame (length prefix included), None if valid."""
    try:
        (length,) = struct.unpack_from(">I", data)
        check_length(length, frame_bytes_max)
        if len(data) - 4 < length:
            raise DecodeError("truncated")
        Frame.parse(data[4:4 + length])
    except DecodeError as error:
        return error.kind
    return None


def check_vectors(directory: str) -> int:
    """Checks the codec against the vectors of the types it knows; the number of failures."""
    failures, checked = [], 0

    def vectors(name: str) -> list[dict]:
        return read_vectors(os.path.join(directory, name))

    for vector in vectors("messages.vectors"):
        kind = vector.get("type")
        if kind not in MESSAGES or kind in EXAMPLE_TYPES:
            continue
        checked += 1
        expected = bytes.fromhex(vector["hex"])
        value = _from_json(kind, json.loads(vector["value"]))
        if encode(kind, value) != expected or decode(kind, expected) != value:
            failures.append(f"message {vector['name']!r}")
    for vector in vectors("frames.vectors"):
        checked += 1
        data = bytes.fromhex(vector["hex"])
        frame = Frame.parse(data[4:])
        deadline = int(vector["deadline-ms"]) if "deadline-ms" in vector else None
        ok = (frame.type == FrameType[vector["frame"]] and frame.stream == int(vector["stream"])
              and frame.method == int(vector.get("method", 0)) and frame.deadline_ms == deadline
              and frame.payload == bytes.fromhex(vector.get("payload-hex", ""))
              and frame.to_bytes() == data)
        kind = vector.get("payload-type")
        if kind in MESSAGES and kind not in EXAMPLE_TYPES:
            ok = ok and encode(kind, _from_json(kind, json.loads(vector["payload"]))) == frame.payload
        if not ok:
            failures.append(f"frame {vector['name']!r}")
    for vector in vectors("invalid.vectors"):
        if vector.get("type") == "frame":
            checked += 1
            limit = int(vector.get("frame-bytes-max", DEFAULT_FRAME_BYTES_MAX))
            kind = _frame_error(bytes.fromhex(vector["hex"]), limit)
            if kind != vector["error"]:
                failures.append(f"invalid {vector['name']!r}: {kind}, expected {vector['error']}")
    for failure in failures:
        print(f"vector {failure}: mismatch", file=sys.stderr)
    print(f"{checked} vectors checked, {len(failures)} failed")
    return len(failures)


# --------------------------------------------------------------------------------------
# Command line

def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\n")
    if args.password is None:
        raise SystemExit("give --password or --password-stdin")
    return args.password


def main(argv: list[str] | None = None) -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--endpoints", default=os.environ.get("SHAREDCART_ENDPOINTS", "127.0.0.1:7401"),
                        help="host:port,… of nodes' client ports, or a file of them"
                             " (default $SHAREDCART_ENDPOINTS)")
    parser.add_argument("--ca", default="certs/ca.pem", help="the cluster CA (default certs/ca.pem)")
    parser.add_argument("--token", default=os.environ.get("SHAREDCART_TOKEN"),
                        help="login token for the hello (default $SHAREDCART_TOKEN)")
    parser.add_argument("--token-file", help="read the token from this file")
    parser.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT_S, help="seconds per operation")
    parser.add_argument("--json", action="store_true", help="print replies as JSON, one per line")
    commands = parser.add_subparsers(dest="command", required=True)

    for name in ("register", "login"):
        command = commands.add_parser(name, help=f"User.{name}")
        command.add_argument("user")
        command.add_argument("--password")
        command.add_argument("--password-stdin", action="store_true")
        if name == "login":
            command.add_argument("--save", help="write the token to this file")
    command = commands.add_parser("item-put", help="Item.put (admins only)")
    command.add_argument("item")
    command.add_argument("--name", required=True)
    command.add_argument("--price", type=int, required=True, help="minor units (1250 is 12.50)")
    command.add_argument("--stock", type=int, default=0)
    commands.add_parser("item-get", help="Item.get").add_argument("item")
    commands.add_parser("cart-create", help="Cart.create").add_argument("--cart")
    command = commands.add_parser("cart-add", help="Cart.addItem")
    command.add_argument("cart")
    command.add_argument("item")
    command.add_argument("--qty", type=int, default=1)
    command.add_argument("--expect-version", type=int)
    commands.add_parser("cart-get", help="Cart.get").add_argument("cart")
    command = commands.add_parser("cart-share", help="Cart.share")
    command.add_argument("cart")
    command.add_argument("users", nargs="+")
    command = commands.add_parser("status", help="Cluster.status")
    command.add_argument("--node", help="ask this node (host:port) rather than the first endpoint")
    command.add_argument("--cart", help="only where this cart lives: partition, replicas, leader")
    command = commands.add_parser("watch", help="Sync.watch: print events as they arrive; resumes after drops")
    command.add_argument("cart")
    command.add_argument("--from", dest="from_seq", type=int, default=1, help="first seq (default 1)")
    command.add_argument("--count", type=int, help="stop after this many events")
    command.add_argument("--node", help="watch through this node (host:port)")
    command.add_argument("--idle-timeout", type=float, help="fail when no event comes for this long")
    commands.add_parser("vectors", help="check the codec against proto-spec/vectors").add_argument(
        "--dir", default=os.path.normpath(os.path.join(here, "..", "..", "vectors")))
    args = parser.parse_args(argv)

    if args.command == "vectors":
        return 1 if check_vectors(args.dir) else 0

    endpoints = args.endpoints
    if os.path.isfile(endpoints):
        with open(endpoints, encoding="utf-8") as file:
            endpoints = file.read()
    endpoints = [e.strip() for e in endpoints.replace("\n", ",").split(",") if e.strip()]
    token = args.token
    if args.token_file:
        with open(args.token_file, encoding="utf-8") as file:
            token = file.read().strip()
    client = Client(endpoints, args.ca, token, timeout=args.timeout)

    def show(value: Any, text: str) -> None:
        print(to_json(value) if args.json else text, flush=True)

    try:
        if args.command == "register":
            reply = client.register(args.user, _password(args))
            show(reply, f"registered {reply['user']}")
        elif args.command == "login":
            reply = client.login(args.user, _password(args))
            if args.save:
                descriptor = os.open(args.save, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
                with open(descriptor, "w", encoding="utf-8") as file:
                    file.write(reply["token"] + "\n")
            show(reply, reply["token"])
        elif args.command in ("item-put", "item-get"):
            if args.command == "item-put":
                item = client.put_item(args.item, args.name, args.price, args.stock)
            else:
                item = client.get_item(args.item)
            show(item, f"{item['id']}: {item['name']}, price {item['price']}, stock {item['stock']}")
        elif args.command == "cart-create":
            reply = client.create_cart(args.cart)
            show(reply, reply["cart"])
        elif args.command == "cart-add":
            reply = client.add_item(args.cart, args.item, args.qty, args.expect_version)
            show(reply, f"cart {reply['cart']} at version {reply['version']}, seq {reply['seq']}")
        elif args.command == "cart-share":
            reply = client.share(args.cart, args.users)
            show(reply, f"cart {reply['cart']} at version {reply['version']}, seq {reply['seq']}")
        elif args.command == "cart-get":
            cart = client.get_cart(args.cart)
            status = CART_STATUS.get(cart["status"], cart["status"])
            text = [f"cart {cart['id']} of {cart['owner']} ({status}), version {cart['version']},"
                    f" seq {cart['seq']}, shared with {cart['sharedUsers']}"]
            text += [f"  {line['item']} x {line['quantity']} at {line['unitPrice']}" for line in cart["lines"]]
            show(cart, "\n".join(text))
        elif args.command == "status" and args.cart:
            partition, replicas = client.replicas_of(args.cart)
            show(dict(partition, replicaAddresses=replicas),
                 f"cart {args.cart}: partition p{partition['partition']} on {replicas},"
                 f" leader node {partition['leader'] or '-'}")
        elif args.command == "status":
            reply = client.status(args.node)
            nodes = {node["node"]: node["clientAddress"] for node in reply["nodes"]}
            text = [f"node {reply['node']} answers; {reply['partitionCount']} partitions; nodes {nodes}"]
            for p in reply["partitions"]:
                role = RAFT_ROLE.get(p["role"], p["role"])
                text.append(f"  p{p['partition']} on {p['replicas']}: {role} here, leader {p['leader'] or '-'},"
                            f" term {p['term']}, commit {p['commitIndex']}")
            show(reply, "\n".join(text))
        elif args.command == "watch":
            count = 0
            def resumed(address: str, seq: int, error: Exception) -> None:
                print(f"note: watch broke ({error}); resuming from #{seq}", file=sys.stderr, flush=True)
            def truncated(cart: dict) -> None:
                print(f"note: events before #{cart['seq'] + 1} are no longer kept; the cart as of"
                      f" #{cart['seq']}:", file=sys.stderr, flush=True)
                show({"cartAsOf": cart}, f"cart {cart['id']} at version {cart['version']}, seq {cart['seq']}")
            for item in client.follow(args.cart, args.from_seq, args.node, args.idle_timeout,
                                      on_resume=resumed, on_truncated=truncated):
                show(item, describe_event(item))
                count += 1
                if args.count is not None and count >= args.count:
                    break
    except SharedCartError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except OSError as error:
        print(f"error: cannot reach the cluster: {error}", file=sys.stderr)
        return 3
    finally:
        client.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
