package cocaine

import (
	"errors"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/codec/mpack"
)

// Version is a Cocaine frame layout.
type Version uint8

const (
	// V12 is Cocaine v0.12: [channel, type, args] with an optional fourth
	// element, the headers array. Message types are per channel (see the
	// Type constants).
	V12 Version = iota
	// V11 is Cocaine v0.11: [type, session, args], with one type space
	// (see the V11 constants) and session 0 for the control messages.
	V11
)

func (v Version) String() string {
	if v == V11 {
		return "v0.11"
	}
	return "v0.12"
}

// Message types of v0.12. Their meaning depends on the channel: channel 1
// carries the control messages, a new channel N ≥ 2 is opened by an
// invoke, an open channel carries chunk, error and choke; the locator
// answers resolve with value or error.
const (
	TypeHandshake = 0 // channel 1: [uuid], worker to runtime
	TypeHeartbeat = 0 // channel 1: [], answered with a heartbeat
	TypeTerminate = 1 // channel 1: [code, reason], answered, then the connection closes

	TypeInvoke = 0 // new channel: [event] or [event, tag] (the app's "enqueue")
	TypeChunk  = 0 // open channel: [data] (the graph's "write")
	TypeError  = 1 // open channel: [[category, code], message]
	TypeChoke  = 2 // open channel: [] (the graph's "close")

	TypeResolve = 0 // locator, new channel: [name] or [name, seed]
	TypeValue   = 0 // locator's answer: [endpoints, version, graph]
)

// ControlChannel is the v0.12 channel of handshake, heartbeat and
// terminate.
const ControlChannel = 1

// Message types of v0.11, in the order of cocaine-core v0.11's
// protocol<rpc_tag> (include/cocaine/messages.hpp).
const (
	V11Handshake = 0 // session 0: [uuid]
	V11Heartbeat = 1 // session 0: []
	V11Terminate = 2 // session 0: [code, reason]
	V11Invoke    = 3 // new session: [event]
	V11Chunk     = 4 // [data]
	V11Error     = 5 // [code, message]: no category in v0.11
	V11Choke     = 6 // []
)

// Terminate codes (cocaine-core rpc::terminate::code).
const (
	TerminateNormal   = 1
	TerminateAbnormal = 2
)

// Message is one decoded frame. Args and Headers are views of the frame.
type Message struct {
	Channel uint64 // the channel (v0.11: session)
	Type    uint64 // the message type, per [Version]
	NArgs   int    // the number of arguments
	Args    []byte // the arguments, one msgpack object after another (the array's header stripped)
	Headers []byte // v0.12: the headers array, header included; nil when absent
}

// Parse decodes a frame into m: frame must be exactly the bytes an
// [mpack.Walker] accepted, no more, and m's views point into it. A frame is
// an array of at least three elements: two unsigned integers (channel and
// type, or type and session for [V11]) and the args array; v0.12 allows a
// fourth, the headers array, which is returned but not interpreted (HPACK
// trace ids in later v0.12). Elements after those are ignored, as
// cocaine-core's decoder does. Anything else is a [*codec.SyntaxError].
func (v Version) Parse(frame []byte, m *Message) error {
	n, b, err := mpack.ReadArrayHeader(frame)
	if err != nil || n < 3 {
		return malformed(frame, 0, "frame is not an array of 3 or more elements")
	}
	first, b, err := mpack.ReadUint(b)
	if err != nil {
		return malformed(frame, len(frame)-len(b), "channel and type must be unsigned integers")
	}
	second, b, err := mpack.ReadUint(b)
	if err != nil {
		return malformed(frame, len(frame)-len(b), "channel and type must be unsigned integers")
	}
	off := len(frame) - len(b)
	nargs, body, err := mpack.ReadArrayHeader(b)
	if err != nil {
		return malformed(frame, off, "args must be an array")
	}
	rest, err := mpack.Skip(b)
	if err != nil {
		return malformed(frame, off, "args is malformed") // not after a walk
	}
	m.NArgs, m.Args, m.Headers = nargs, body[:len(body)-len(rest)], nil
	if n > 3 && v == V12 {
		if mpack.NextType(rest) != mpack.ArrayType {
			return malformed(frame, len(frame)-len(rest), "headers must be an array")
		}
		m.Headers = rest // n == 4: the frame ends with the walked headers
		if n > 4 {
			after, err := mpack.Skip(rest)
			if err != nil {
				return malformed(frame, len(frame)-len(rest), "headers is malformed")
			}
			m.Headers = rest[:len(rest)-len(after)]
		}
	}
	if v == V11 {
		m.Type, m.Channel = first, second
	} else {
		m.Channel, m.Type = first, second
	}
	return nil
}

// malformed returns the error of a frame that is not a Cocaine message.
func malformed(frame []byte, off int, msg string) error {
	return &codec.SyntaxError{Offset: off, Msg: "cocaine: " + msg, Near: codec.Quote(frame, off)}
}

// errArgs reports arguments that do not fit their message type.
var errArgs = errors.New("cocaine: arguments do not fit the message type")

// The encoders append one frame to dst. A v0.12 frame has four elements,
// the last the empty headers array (0x90), as real clients send and as
// cocaine-core's encoder writes (with its trace headers); a v0.11 frame has
// three. Bytes (data, names, messages) go in the str family, without str8:
// see appendRaw.

// AppendInvoke appends an invoke of event opening channel ch (v0.12 type
// 0, v0.11 type 3): what a client sends.
func (v Version) AppendInvoke(dst []byte, ch uint64, event string) []byte {
	dst = v.head(dst, ch, TypeInvoke, V11Invoke, 1)
	return v.tail(appendRaw(dst, event))
}

// AppendChunk appends a chunk of data on channel ch.
func (v Version) AppendChunk(dst []byte, ch uint64, data []byte) []byte {
	dst = v.head(dst, ch, TypeChunk, V11Chunk, 1)
	return v.tail(appendRaw(dst, data))
}

// AppendError appends an error on channel ch: args [[category, code],
// msg] in v0.12, [code, msg] in v0.11, which has no categories.
func (v Version) AppendError(dst []byte, ch uint64, category, code int, msg string) []byte {
	return appendError(v, dst, ch, category, code, msg)
}

func appendError[S ~string | ~[]byte](v Version, dst []byte, ch uint64, category, code int, msg S) []byte {
	dst = v.head(dst, ch, TypeError, V11Error, 2)
	if v == V12 {
		dst = append(dst, 0x92)
		dst = mpack.AppendInt(dst, int64(category))
	}
	dst = mpack.AppendInt(dst, int64(code))
	return v.tail(appendRaw(dst, msg))
}

// AppendChoke appends a choke on channel ch: the end of the sender's
// direction.
func (v Version) AppendChoke(dst []byte, ch uint64) []byte {
	return v.tail(v.head(dst, ch, TypeChoke, V11Choke, 0))
}

// AppendHeartbeat appends a heartbeat: channel 1 in v0.12, session 0 in
// v0.11.
func (v Version) AppendHeartbeat(dst []byte) []byte {
	return v.tail(v.head(dst, v.control(), TypeHeartbeat, V11Heartbeat, 0))
}

// AppendTerminate appends a terminate with code (see TerminateNormal) and
// reason.
func (v Version) AppendTerminate(dst []byte, code int64, reason string) []byte {
	return appendTerminate(v, dst, code, reason)
}

func appendTerminate[S ~string | ~[]byte](v Version, dst []byte, code int64, reason S) []byte {
	dst = v.head(dst, v.control(), TypeTerminate, V11Terminate, 2)
	dst = mpack.AppendInt(dst, code)
	return v.tail(appendRaw(dst, reason))
}

// AppendResolve appends a locator resolve of name on channel ch (v0.12).
func AppendResolve(dst []byte, ch uint64, name string) []byte {
	dst = V12.head(dst, ch, TypeResolve, 0, 1)
	return V12.tail(appendRaw(dst, name))
}

// control is the channel of control messages.
func (v Version) control() uint64 {
	if v == V11 {
		return 0
	}
	return ControlChannel
}

// head appends the frame up to the args array's header: t12 is the type in
// v0.12, t11 in v0.11.
func (v Version) head(dst []byte, ch, t12, t11 uint64, nargs uint32) []byte {
	if v == V11 {
		dst = append(dst, 0x93)
		dst = mpack.AppendUint(dst, t11)
		dst = mpack.AppendUint(dst, ch)
	} else {
		dst = append(dst, 0x94)
		dst = mpack.AppendUint(dst, ch)
		dst = mpack.AppendUint(dst, t12)
	}
	return mpack.AppendArrayHeader(dst, nargs)
}

// tail ends a frame: the empty headers array in v0.12.
func (v Version) tail(dst []byte) []byte {
	if v == V11 {
		return dst
	}
	return append(dst, 0x90)
}

// appendRaw appends b in the str family as the msgpack spec before 2013
// had it (fixstr, then raw16 0xda, raw32 0xdb; never str8 0xd9), which is
// what Cocaine's own peers write: msgpack-python with use_bin_type=False
// avoids str8 "for compatibility with old unpackers", and Cocaine clients
// read bytes from the str family. Every msgpack decoder reads it.
func appendRaw[S ~string | ~[]byte](dst []byte, b S) []byte {
	n := len(b)
	switch {
	case n < 32:
		dst = append(dst, 0xa0|byte(n))
	case n <= 0xffff:
		dst = append(dst, 0xda, byte(n>>8), byte(n))
	case uint64(n) <= 0xffffffff:
		dst = append(dst, 0xdb, byte(n>>24), byte(n>>16), byte(n>>8), byte(n))
	default:
		panic("cocaine: bytes longer than 2^32-1 cannot be encoded")
	}
	return append(dst, b...)
}

// readInt reads an integer of either family into an int. Category ids
// above MaxInt64 exist (cocaine-core numbers dynamic categories by a hash
// with the low byte set) and wrap, like a C++ size_t cast to int.
func readInt(b []byte) (int, []byte, error) {
	v, rest, err := mpack.ReadInt(b)
	if err == nil {
		return int(v), rest, nil
	}
	u, rest, err := mpack.ReadUint(b)
	return int(u), rest, err
}

// readBytesOrNil reads a str, a bin or nil (an absent optional).
func readBytesOrNil(b []byte) ([]byte, []byte, error) {
	if mpack.IsNil(b) {
		return nil, b[1:], nil
	}
	return mpack.ReadStrOrBin(b)
}

// parseInvoke reads the args of an invoke: [event] or [event, tag], the
// tag a str or nil (deprecated in cocaine-plugins' app::enqueue).
func parseInvoke(m *Message) ([]byte, error) {
	if m.NArgs != 1 && m.NArgs != 2 {
		return nil, errArgs
	}
	event, rest, err := mpack.ReadStrOrBin(m.Args)
	if err != nil {
		return nil, errArgs
	}
	if m.NArgs == 2 {
		if _, _, err := readBytesOrNil(rest); err != nil {
			return nil, errArgs
		}
	}
	return event, nil
}

// parseChunk reads the args of a chunk: [data], data a str or bin.
func parseChunk(m *Message) ([]byte, error) {
	if m.NArgs != 1 {
		return nil, errArgs
	}
	data, _, err := mpack.ReadStrOrBin(m.Args)
	if err != nil {
		return nil, errArgs
	}
	return data, nil
}

// parseError reads the args of an error: [[category, code], message] in
// v0.12, the message optional (absent or nil); [code, message] in v0.11,
// whose category reads as 0.
func parseError(v Version, m *Message) (category, code int, msg []byte, err error) {
	b := m.Args
	if v == V11 {
		if m.NArgs != 2 {
			return 0, 0, nil, errArgs
		}
		if code, b, err = readInt(b); err != nil {
			return 0, 0, nil, errArgs
		}
		if msg, _, err = readBytesOrNil(b); err != nil {
			return 0, 0, nil, errArgs
		}
		return 0, code, msg, nil
	}
	if m.NArgs != 1 && m.NArgs != 2 {
		return 0, 0, nil, errArgs
	}
	if n, rest, err := mpack.ReadArrayHeader(b); err != nil || n != 2 {
		return 0, 0, nil, errArgs
	} else {
		b = rest
	}
	if category, b, err = readInt(b); err != nil {
		return 0, 0, nil, errArgs
	}
	if code, b, err = readInt(b); err != nil {
		return 0, 0, nil, errArgs
	}
	if m.NArgs == 2 {
		if msg, _, err = readBytesOrNil(b); err != nil {
			return 0, 0, nil, errArgs
		}
	}
	return category, code, msg, nil
}

// parseTerminate reads the args of a terminate: [code, reason].
func parseTerminate(m *Message) (code int64, reason []byte, ok bool) {
	if m.NArgs != 2 {
		return 0, nil, false
	}
	c, rest, err := readInt(m.Args)
	if err != nil {
		return 0, nil, false
	}
	reason, _, err = readBytesOrNil(rest)
	return int64(c), reason, err == nil
}

// isUUID reports whether b is a UUID in its canonical text form
// (8-4-4-4-12 hex digits), as a worker's handshake carries.
func isUUID(b []byte) bool {
	if len(b) != 36 {
		return false
	}
	for i, c := range b {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return false
			}
		}
	}
	return true
}
