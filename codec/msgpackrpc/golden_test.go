package msgpackrpc

import (
	"bytes"
	"testing"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/codec/mpack"
)

// golden is one exchange at the byte level: the frames a client sends and
// the responses the server must send back, exactly.
type golden struct {
	name, in, out string
	errors        int // protocol errors counted
}

var goldens = []golden{
	{"request and response", `94 00 01 a4 "echo" 91 a2 "hi"`, `94 01 01 c0 a2 "hi"`, 0},
	{"no params", `94 00 07 a4 "ping" 90`, `94 01 07 c0 a4 "pong"`, 0},
	{"echo without a parameter answers nil", `94 00 0d a4 "echo" 90`, `94 01 0d c0 c0`, 0},
	{"nested maps", `94 00 0e a4 "echo" 91 81 a1 "a" 81 a1 "b" 92 01 c0`, `94 01 0e c0 81 a1 "a" 81 a1 "b" 92 01 c0`, 0},
	{"several params", `94 00 0c a3 "add" 93 01 02 d0 fd`, `94 01 0c c0 00`, 0},
	{"notification", `93 02 a4 "echo" 91 01`, ``, 0},
	{"notification of an unknown method", `93 02 a3 "foo" 90`, ``, 0},
	{"notification with params not an array", `93 02 a4 "echo" c0`, ``, 1},
	{"notification of a failing method", `93 02 a4 "fail" 90`, ``, 0},
	{"error response", `94 00 02 a4 "fail" 90`, `94 01 02 a9 "it failed" c0`, 0},
	{"error without a message", `94 00 0b a9 "failquiet" 90`, `94 01 0b a7 "error 9" c0`, 0},
	{"unknown method", `94 00 03 a3 "foo" 90`, `94 01 03 b4 "unknown method \"foo\"" c0`, 0},
	{"empty method name", `94 00 0f a0 90`, `94 01 0f b1 "unknown method \"\"" c0`, 0},
	{"busy", `94 00 04 a4 "slow" 91 01`, `94 01 04 a4 "busy" c0`, 0},
	{"largest msgid", `94 00 ce ff ff ff ff a4 "ping" 90`, `94 01 ce ff ff ff ff c0 a4 "pong"`, 0},
	{"msgid uint16", `94 00 cd 01 00 a4 "ping" 90`, `94 01 cd 01 00 c0 a4 "pong"`, 0},
	{"msgid as a positive int8 comes back as a uint", `94 00 d0 05 a4 "ping" 90`, `94 01 05 c0 a4 "pong"`, 0},
	{"msgid as a uint64 that fits", `94 00 cf 00 00 00 00 00 00 01 00 a4 "ping" 90`, `94 01 cd 01 00 c0 a4 "pong"`, 0},
	{"method as bin", `94 00 05 c4 04 "ping" 90`, `94 01 05 c0 a4 "pong"`, 0},
	{"method as str8", `94 00 05 d9 04 "ping" 90`, `94 01 05 c0 a4 "pong"`, 0},
	{"params not an array", `94 00 06 a4 "echo" c0`, `94 01 06 b7 "params are not an array" c0`, 1},
	{"params a map", `94 00 06 a4 "echo" 80`, `94 01 06 b7 "params are not an array" c0`, 1},
	{"method not a string", `94 00 08 2a 90`, `94 01 08 b6 "method is not a string" c0`, 1},
	{"method panics", `94 00 09 a5 "panic" 90`, `94 01 09 ae "internal error" c0`, 0},
	{"method result not one value", `94 00 0a a9 "badresult" 90`,
		`94 01 0a d9 3c "internal error: the method's result is not one msgpack value" c0`, 0},
	{"pipelined, answered in order",
		`94 00 01 a4 "ping" 90  93 02 a4 "note" 90  94 00 02 a4 "echo" 91 2a  94 00 03 a3 "foo" 90`,
		`94 01 01 c0 a4 "pong"  94 01 02 c0 2a  94 01 03 b4 "unknown method \"foo\"" c0`, 0},
}

// TestGolden: each exchange, byte for byte, and its counters.
func TestGolden(t *testing.T) {
	c := testCodec(t, codec.Limits{}, nil)
	for _, g := range goldens {
		t.Run(g.name, func(t *testing.T) {
			d := newDriver(t, c)
			got := d.run(frame(g.in))
			if want := frame(g.out); !bytes.Equal(got, want) {
				t.Fatalf("got %q, want %q", hexOf(got), hexOf(want))
			}
			if d.closed || len(d.in) != 0 || d.phase != codec.PhaseIdle || d.busy {
				t.Errorf("got closed=%v left=%d phase=%v busy=%v, want open, nothing left, idle, not busy",
					d.closed, len(d.in), d.phase, d.busy)
			}
			if d.errors != g.errors {
				t.Errorf("got %d errors, want %d", d.errors, g.errors)
			}
			if d.requests == 0 {
				t.Errorf("got 0 requests counted")
			}
		})
	}
}

// TestGoldenSplits: every golden exchange, one after the other on one
// connection, gives the same bytes fed whole, byte by byte and split at
// every offset.
func TestGoldenSplits(t *testing.T) {
	c := testCodec(t, codec.Limits{}, nil)
	var in, want []byte
	for _, g := range goldens {
		in = append(in, frame(g.in)...)
		want = append(want, frame(g.out)...)
	}
	for _, pieces := range splits(in) {
		d := newDriver(t, c)
		got := d.run(pieces...)
		if !bytes.Equal(got, want) {
			t.Fatalf("in %d pieces (first %d bytes): got %q, want %q", len(pieces), len(pieces[0]), hexOf(got), hexOf(want))
		}
		if d.closed || len(d.in) != 0 || d.phase != codec.PhaseIdle || d.need != 0 {
			t.Fatalf("in %d pieces: got closed=%v left=%d phase=%v need=%d", len(pieces), d.closed, len(d.in), d.phase, d.need)
		}
	}
}

// TestAppend: the writers make the golden frames.
func TestAppend(t *testing.T) {
	tests := []struct {
		name      string
		got, want []byte
	}{
		{"request", AppendRequest(nil, 1, "echo", frame(`91 a2 "hi"`)), frame(`94 00 01 a4 "echo" 91 a2 "hi"`)},
		{"request without params", AppendRequest(nil, 7, "ping", nil), frame(`94 00 07 a4 "ping" 90`)},
		{"request with the largest msgid", AppendRequest(nil, 1<<32-1, "ping", frame(`90`)), frame(`94 00 ce ff ff ff ff a4 "ping" 90`)},
		{"notification", AppendNotification(nil, "echo", frame(`91 01`)), frame(`93 02 a4 "echo" 91 01`)},
		{"notification without params", AppendNotification(nil, "note", nil), frame(`93 02 a4 "note" 90`)},
		{"result", AppendResult(nil, 1, frame(`a2 "hi"`)), frame(`94 01 01 c0 a2 "hi"`)},
		{"nil result", AppendResult(nil, 300, nil), frame(`94 01 cd 01 2c c0 c0`)},
		{"error", AppendError(nil, 2, "it failed"), frame(`94 01 02 a9 "it failed" c0`)},
		{"busy", AppendError(nil, 4, "busy"), frame(`94 01 04 a4 "busy" c0`)},
		{"appends", AppendResult([]byte{0xff}, 1, nil), frame(`ff 94 01 01 c0 c0`)},
	}
	for _, tt := range tests {
		if !bytes.Equal(tt.got, tt.want) {
			t.Errorf("%s: got %q, want %q", tt.name, hexOf(tt.got), hexOf(tt.want))
		}
		if tt.name == "appends" {
			continue
		}
		if n, err := mpack.Walk(tt.want, mpack.Limits{}); err != nil || n != len(tt.want) {
			t.Errorf("%s: the golden frame is not one msgpack value: %d, %v", tt.name, n, err)
		}
	}
}
