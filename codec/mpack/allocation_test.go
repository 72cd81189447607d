//go:build !race

package mpack

import (
	"testing"

	"github.com/tokamak-io/tokamak/codec"
)

// TestAllocsBombs: refusing a bomb allocates nothing with a Walker, and
// only the returned *Error with Walk.
func TestAllocsBombs(t *testing.T) {
	for _, bb := range bombs {
		var w Walker
		if n := testing.AllocsPerRun(20, func() {
			w.Reset()
			if _, err := w.Walk(bb.in); err == nil || err == codec.ErrIncomplete {
				t.Fatalf("%s: got %v", bb.name, err)
			}
		}); n != 0 {
			t.Errorf("%s: got %v allocations, want 0", bb.name, n)
		}
		if n := testing.AllocsPerRun(20, func() { Walk(bb.in, Limits{}) }); n != 1 {
			t.Errorf("%s: Walk: got %v allocations, want 1", bb.name, n)
		}
	}
}

// TestAllocsRPCFrame: walking and reading a MessagePack-RPC request, and
// writing its response, allocate nothing.
func TestAllocsRPCFrame(t *testing.T) {
	in := []byte(rpcRequest)
	out := make([]byte, 0, 64)
	var w Walker
	if n := testing.AllocsPerRun(1000, func() {
		if n, err := w.Walk(in); err != nil || n != len(in) {
			t.Fatalf("got %q", walkOutcome(n, err))
		}
		if _, err := Walk(in, Limits{}); err != nil {
			t.Fatal(err)
		}
		method, params, err := decodeRequest(in)
		if err != nil || string(method) != "echo" {
			t.Fatalf("got %q, %v", method, err)
		}
		arg, _, err := ReadStrOrBin(params)
		if err != nil {
			t.Fatal(err)
		}
		out = AppendStrBytes(AppendNil(AppendUint(AppendUint(AppendArrayHeader(out[:0], 4), 1), 1)), arg)
	}); n != 0 {
		t.Errorf("got %v allocations, want 0", n)
	}
}

// TestAllocsReaderErrors: readers' errors allocate nothing.
func TestAllocsReaderErrors(t *testing.T) {
	in := []byte("\x91\xa1x")
	if n := testing.AllocsPerRun(1000, func() {
		if _, _, err := ReadStr(in); err == nil {
			t.Fatal("accepted")
		}
		if _, _, err := ReadUint(in[1:]); err == nil {
			t.Fatal("accepted")
		}
		if _, _, err := ReadInt(in[:0]); err != codec.ErrIncomplete {
			t.Fatal(err)
		}
		if _, _, err := ReadUint([]byte{0xff}); err != ErrRange {
			t.Fatal(err)
		}
	}); n != 0 {
		t.Errorf("got %v allocations, want 0", n)
	}
}

// TestAllocsWriters: writers into a buffer with room allocate nothing.
func TestAllocsWriters(t *testing.T) {
	buf := make([]byte, 0, 1024)
	s, b := "hello", []byte("world")
	if n := testing.AllocsPerRun(1000, func() {
		d := AppendArrayHeader(buf[:0], 12)
		d = AppendMapHeader(d, 1)
		d = AppendStr(d, s)
		d = AppendStrBytes(d, b)
		d = AppendBin(d, b)
		d = AppendUint(d, 1<<40)
		d = AppendInt(d, -1<<40)
		d = AppendBool(d, true)
		d = AppendNil(d)
		d = AppendFloat64(d, 1.5)
		d = AppendFloat32(d, 1.5)
		d = AppendExt(d, 1, b)
		buf = d
	}); n != 0 {
		t.Errorf("got %v allocations, want 0", n)
	}
}

// TestAllocsPieces: a 1 MiB frame walked as it arrives, 1 KiB at a time,
// allocates nothing.
func TestAllocsPieces(t *testing.T) {
	in := pieceFrame()
	var w Walker
	if n := testing.AllocsPerRun(5, func() {
		if n, err := walkPieces(&w, in, 1024); err != nil || n != len(in) {
			t.Fatalf("got %q", walkOutcome(n, err))
		}
	}); n != 0 {
		t.Errorf("got %v allocations, want 0", n)
	}
}
