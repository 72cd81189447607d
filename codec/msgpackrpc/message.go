package msgpackrpc

import (
	"math"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/codec/mpack"
)

// Message types: the first element of every message.
const (
	TypeRequest      = 0 // [0, msgid, method, params]
	TypeResponse     = 1 // [1, msgid, error, result]
	TypeNotification = 2 // [2, method, params]
)

// emptyParams is an empty array, sent when params are not given.
var emptyParams = []byte{0x90}

// AppendRequest appends the request [0, msgid, method, params] to dst.
// params must hold one msgpack array; empty, it is sent as [].
func AppendRequest(dst []byte, msgid uint32, method string, params []byte) []byte {
	dst = append(dst, 0x94, TypeRequest)
	dst = mpack.AppendUint(dst, uint64(msgid))
	dst = mpack.AppendStr(dst, method)
	return appendParams(dst, params)
}

// AppendNotification appends the notification [2, method, params] to dst.
// params must hold one msgpack array; empty, it is sent as [].
func AppendNotification(dst []byte, method string, params []byte) []byte {
	dst = append(dst, 0x93, TypeNotification)
	dst = mpack.AppendStr(dst, method)
	return appendParams(dst, params)
}

func appendParams(dst, params []byte) []byte {
	if len(params) == 0 {
		params = emptyParams
	}
	return append(dst, params...)
}

// AppendResult appends the response [1, msgid, nil, result] to dst. result
// must hold one msgpack value; empty, it is sent as nil.
func AppendResult(dst []byte, msgid uint32, result []byte) []byte {
	dst = append(dst, 0x94, TypeResponse)
	dst = mpack.AppendUint(dst, uint64(msgid))
	dst = mpack.AppendNil(dst)
	if len(result) == 0 {
		return mpack.AppendNil(dst)
	}
	return append(dst, result...)
}

// AppendError appends the response [1, msgid, msg, nil] to dst: a failed
// call, its error a str.
func AppendError(dst []byte, msgid uint32, msg string) []byte {
	dst = append(dst, 0x94, TypeResponse)
	dst = mpack.AppendUint(dst, uint64(msgid))
	dst = mpack.AppendStr(dst, msg)
	return mpack.AppendNil(dst)
}

// appendErrorBytes is AppendError for a message in bytes.
func appendErrorBytes(dst []byte, msgid uint32, msg []byte) []byte {
	dst = append(dst, 0x94, TypeResponse)
	dst = mpack.AppendUint(dst, uint64(msgid))
	dst = mpack.AppendStrBytes(dst, msg)
	return mpack.AppendNil(dst)
}

// message is a request or a notification taken apart. Its fields are views
// of the frame it was parsed from.
type message struct {
	typ    uint64 // TypeRequest or TypeNotification
	msgid  uint32 // requests only
	method []byte // the method object, whatever its type
	params []byte // the params object, whatever its type
}

// The phrases of the SyntaxErrors of parseMessage.
const (
	msgNotArray  = "message is not an array"
	msgType      = "message type is not 0 (request) or 2 (notification)"
	msgResponse  = "a response sent to a server"
	msgLength    = "message has the wrong number of elements for its type"
	msgMsgID     = "msgid is not an integer in 0..2^32-1"
	msgTruncated = "message ends early" // unreachable on a walked frame
)

// parseMessage takes apart frame, one msgpack value a [mpack.Walker]
// accepted, as a request or a notification. It fails with a
// [*codec.SyntaxError] when frame is not one: then no msgid can be trusted
// and the connection is lost. A method or params of the wrong type is not
// its business: the caller answers those on the msgid.
func parseMessage(frame []byte, m *message) error {
	n, rest, err := mpack.ReadArrayHeader(frame)
	if err != nil {
		return syntaxError(frame, 0, msgNotArray)
	}
	off := len(frame) - len(rest)
	if n == 0 {
		return syntaxError(frame, 0, msgLength)
	}
	typ, rest, err := mpack.ReadUint(rest)
	switch {
	case err != nil:
		return syntaxError(frame, off, msgType)
	case typ == TypeRequest && n == 4, typ == TypeNotification && n == 3:
	case typ == TypeResponse:
		return syntaxError(frame, off, msgResponse)
	case typ == TypeRequest, typ == TypeNotification:
		return syntaxError(frame, 0, msgLength)
	default:
		return syntaxError(frame, off, msgType)
	}
	m.typ, m.msgid = typ, 0
	if typ == TypeRequest {
		off = len(frame) - len(rest)
		id, after, err := mpack.ReadUint(rest)
		if err != nil || id > math.MaxUint32 {
			return syntaxError(frame, off, msgMsgID)
		}
		m.msgid, rest = uint32(id), after
	}
	after, err := mpack.Skip(rest)
	if err != nil || len(after) == 0 {
		return syntaxError(frame, len(frame)-len(rest), msgTruncated)
	}
	// The frame is one array of n elements: the last one is all that is
	// left after the others.
	m.method, m.params = rest[:len(rest)-len(after)], after
	return nil
}

func syntaxError(frame []byte, off int, msg string) error {
	return &codec.SyntaxError{Offset: off, Msg: msg, Near: codec.Quote(frame, off)}
}
