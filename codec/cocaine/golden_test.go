package cocaine

import (
	"bytes"
	"encoding/hex"
	"net"
	"testing"

	"github.com/tokamak-io/tokamak/codec"
)

// The golden frames, byte for byte. "in" is what a client sends, "out"
// what the server answers.
const (
	// v0.12, channel 2: invoke echo, chunk "hi", choke.
	hexInvokeEcho = "94 02 00 91 a4 65 63 68 6f 90"
	hexChunkHi    = "94 02 00 91 a2 68 69 90"
	hexChoke2     = "94 02 02 90 90"
	// An error [[42, 1], "x"] on channel 2.
	hexError2 = "94 02 01 92 92 2a 01 a1 78 90"
	// The server's error for an unknown event "nope" on channel 4:
	// [4, 1, [[42, 1], "unknown event \"nope\""], []].
	hexUnknown4 = "94 04 01 92 92 2a 01 b4 75 6e 6b 6e 6f 77 6e 20 65 76 65 6e 74 20 22 6e 6f 70 65 22 90"
	// Control, channel 1.
	hexHeartbeat = "94 01 00 90 90"
	hexTerminate = "94 01 01 92 01 a3 62 79 65 90"
	hexHandshake = "94 01 00 91 da 00 24 " +
		"35 35 30 65 38 34 30 30 2d 65 32 39 62 2d 34 31 64 34 2d 61 37 31 36 2d 34 34 36 36 35 35 34 34 30 30 30 30 90"

	// v0.11: [type, session, args].
	hexV11Invoke    = "93 03 01 91 a4 65 63 68 6f"
	hexV11Chunk     = "93 04 01 91 a2 68 69"
	hexV11Error     = "93 05 01 92 01 a1 78"
	hexV11Choke     = "93 06 01 90"
	hexV11Heartbeat = "93 01 00 90"
	hexV11Terminate = "93 02 00 92 01 a3 62 79 65"
	hexV11Handshake = "93 00 00 91 a4 75 75 69 64"

	// The locator. S = {0: ["write", nil], 1: ["error", {}], 2: ["close", {}]}.
	hexS        = "83 00 92 a5 77 72 69 74 65 c0 01 92 a5 65 72 72 6f 72 80 02 92 a5 63 6c 6f 73 65 80"
	hexAppGraph = "81 00 93 a7 65 6e 71 75 65 75 65 " + hexS + " " + hexS
	// resolve("echo") on channel 1, as cocaine-framework-python sends it.
	hexResolveEcho = "94 01 00 91 a4 65 63 68 6f 90"
	// value [[["127.0.0.1", 10102]], 1, graph] on channel 1.
	hexValueEcho = "94 01 00 93 91 92 a9 31 32 37 2e 30 2e 30 2e 31 cd 27 76 01 " + hexAppGraph + " 90"
	// resolve("nope") on channel 2 and its error [[10, 1], "service is not available"].
	hexResolveNope = "94 02 00 91 a4 6e 6f 70 65 90"
	hexNotAvail    = "94 02 01 92 92 0a 01 b8 73 65 72 76 69 63 65 20 69 73 20 6e 6f 74 20 61 76 61 69 6c 61 62 6c 65 90"
	// resolve("locator") on channel 3 and the locator's own description.
	hexResolveLocator = "94 03 00 91 a7 6c 6f 63 61 74 6f 72 90"
	hexLocatorGraph   = "81 00 93 a7 72 65 73 6f 6c 76 65 80 82 00 92 a5 76 61 6c 75 65 80 01 92 a5 65 72 72 6f 72 80"
	hexValueLocator   = "94 03 00 93 91 92 a9 31 32 37 2e 30 2e 30 2e 31 cd 27 75 03 " + hexLocatorGraph + " 90"
)

func TestGoldenEncoders(t *testing.T) {
	for _, tc := range []struct {
		name string
		got  []byte
		want string
	}{
		{"invoke", V12.AppendInvoke(nil, 2, "echo"), hexInvokeEcho},
		{"chunk", V12.AppendChunk(nil, 2, []byte("hi")), hexChunkHi},
		{"error", V12.AppendError(nil, 2, 42, 1, "x"), hexError2},
		{"choke", V12.AppendChoke(nil, 2), hexChoke2},
		{"heartbeat", V12.AppendHeartbeat(nil), hexHeartbeat},
		{"terminate", V12.AppendTerminate(nil, 1, "bye"), hexTerminate},
		{"resolve", AppendResolve(nil, 1, "echo"), hexResolveEcho},
		{"v11 invoke", V11.AppendInvoke(nil, 1, "echo"), hexV11Invoke},
		{"v11 chunk", V11.AppendChunk(nil, 1, []byte("hi")), hexV11Chunk},
		{"v11 error", V11.AppendError(nil, 1, 42, 1, "x"), hexV11Error},
		{"v11 choke", V11.AppendChoke(nil, 1), hexV11Choke},
		{"v11 heartbeat", V11.AppendHeartbeat(nil), hexV11Heartbeat},
		{"v11 terminate", V11.AppendTerminate(nil, 1, "bye"), hexV11Terminate},
		{"app graph", graphApp, hexAppGraph},
		{"locator graph", graphLocator, hexLocatorGraph},
	} {
		if want := unhex(t, tc.want); !bytes.Equal(tc.got, want) {
			t.Errorf("%s: got % x, want % x", tc.name, tc.got, want)
		}
	}
}

// TestGoldenRaw: bytes go in the str family without str8, at each size
// boundary.
func TestGoldenRaw(t *testing.T) {
	for _, tc := range []struct {
		n    int
		head string
	}{
		{0, "a0"}, {31, "bf"}, {32, "da 00 20"}, {255, "da 00 ff"}, {65535, "da ff ff"}, {65536, "db 00 01 00 00"},
	} {
		got := appendRaw(nil, make([]byte, tc.n))
		head := unhex(t, tc.head)
		if !bytes.HasPrefix(got, head) || len(got) != len(head)+tc.n {
			t.Errorf("%d bytes: got header % x, want % x", tc.n, got[:min(len(got), 5)], head)
		}
	}
}

// TestGoldenSession feeds each client message as hex and compares the
// answer byte for byte.
func TestGoldenSession(t *testing.T) {
	for _, tc := range []struct {
		name   string
		ver    Version
		in     []string
		out    string
		closed bool
	}{
		{name: "echo", in: []string{hexInvokeEcho, hexChunkHi, hexChoke2}, out: hexChunkHi + hexChoke2},
		{name: "peer error", in: []string{hexInvokeEcho, hexError2}, out: hexChoke2},
		{name: "unknown event", in: []string{"94 04 00 91 a4 6e 6f 70 65 90"}, out: hexUnknown4},
		{name: "heartbeat", in: []string{hexHeartbeat}, out: hexHeartbeat},
		{name: "terminate", in: []string{hexTerminate, hexHeartbeat}, out: hexTerminate, closed: true},
		{name: "handshake", in: []string{hexHandshake, hexHeartbeat}, out: hexHeartbeat},
		// A node client sends three elements; later elements are ignored.
		{name: "no headers", in: []string{"93 02 00 91 a4 65 63 68 6f", "93 02 00 91 a2 68 69", "95 02 02 90 90 c0"},
			out: hexChunkHi + hexChoke2},
		{name: "v11 echo", ver: V11, in: []string{hexV11Invoke, hexV11Chunk, hexV11Choke}, out: hexV11Chunk + hexV11Choke},
		{name: "v11 error", ver: V11, in: []string{hexV11Invoke, hexV11Error}, out: hexV11Choke},
		{name: "v11 heartbeat", ver: V11, in: []string{hexV11Handshake, hexV11Heartbeat}, out: hexV11Heartbeat},
		{name: "v11 terminate", ver: V11, in: []string{hexV11Terminate, hexV11Heartbeat}, out: hexV11Terminate, closed: true},
		{name: "v11 unknown", ver: V11, in: []string{"93 03 02 91 a4 6e 6f 70 65"},
			out: "93 05 02 92 01 b4 75 6e 6b 6e 6f 77 6e 20 65 76 65 6e 74 20 22 6e 6f 70 65 22"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, newCodec(t, nil, Options{Version: tc.ver}, nil, codec.Limits{}))
			for _, in := range tc.in {
				d.feed(unhex(t, in))
			}
			if want := unhex(t, tc.out); !bytes.Equal(d.out, want) {
				t.Errorf("got % x, want % x", d.out, want)
			}
			if d.closed != tc.closed {
				t.Errorf("closed: got %v, want %v", d.closed, tc.closed)
			}
		})
	}
}

func TestGoldenLocator(t *testing.T) {
	lns := []codec.Listener{
		{Scheme: "cocaine", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 10102}},
		{Scheme: "cocaine-locator", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 10101}},
		{Scheme: "http", Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}},
	}
	for _, tc := range []struct {
		name, in, out string
	}{
		{"resolve", hexResolveEcho, hexValueEcho},
		{"unknown", hexResolveNope, hexNotAvail},
		{"locator", hexResolveLocator, hexValueLocator},
		{"heartbeat", hexHeartbeat, hexHeartbeat},
		// connect (method 1) is not served: error [[7, 5], "specified slot is not bound"].
		{"other method", "94 02 01 91 a2 69 64 90",
			"94 02 01 92 92 07 05 bb 73 70 65 63 69 66 69 65 64 20 73 6c 6f 74 20 69 73 20 6e 6f 74 20 62 6f 75 6e 64 90"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, newLocator(t, func() []codec.Listener { return lns }))
			d.feed(unhex(t, tc.in))
			if want := unhex(t, tc.out); !bytes.Equal(d.out, want) {
				t.Errorf("got %s, want %s", hex.EncodeToString(d.out), hex.EncodeToString(want))
			}
		})
	}
}
