package mpack

import (
	"bytes"
	"testing"

	"github.com/tokamak-io/tokamak/codec"
)

func TestFramerLendsWalkers(t *testing.T) {
	var l Walkers
	l.SetLimits(Limits{MaxFrame: 1 << 20})
	whole := []byte{0x92, 0x01, 0xa2, 'h', 'i'}
	var a, b Framer
	if n, err := a.Next(&l, whole); n != len(whole) || err != nil || a.Partial() {
		t.Fatalf("whole frame: %d %v partial=%v", n, err, a.Partial())
	}
	// Two connections with partial frames, interleaved, do not mix.
	big := append([]byte{0x91, 0xc5, 0x01, 0x2c}, bytes.Repeat([]byte{'x'}, 300)...)
	if _, err := a.Next(&l, whole[:2]); err != codec.ErrIncomplete || !a.Partial() || a.Need() != 0 {
		t.Fatalf("near-whole partial: %v partial=%v need=%d, want incomplete, a walker, need 0", err, a.Partial(), a.Need())
	}
	if _, err := b.Next(&l, big[:4]); err != codec.ErrIncomplete || b.Need() != len(big) {
		t.Fatalf("payload outstanding: %v need=%d, want incomplete, need %d", err, b.Need(), len(big))
	}
	if n, err := a.Next(&l, whole); n != len(whole) || err != nil || a.Partial() || l.Spares() != 1 {
		t.Fatalf("a completed: %d %v partial=%v spares=%d", n, err, a.Partial(), l.Spares())
	}
	if n, err := b.Next(&l, big); n != len(big) || err != nil || b.Need() != 0 || l.Spares() != 2 {
		t.Fatalf("b completed: %d %v need=%d spares=%d", n, err, b.Need(), l.Spares())
	}
	// A refused frame is dropped and its Walker given back.
	if _, err := a.Next(&l, []byte{0x92, 0x01}); err != codec.ErrIncomplete {
		t.Fatal(err)
	}
	if _, err := a.Next(&l, []byte{0x92, 0x01, 0xc1}); err == nil || err == codec.ErrIncomplete {
		t.Fatalf("reserved byte: %v", err)
	}
	a.Drop(&l)
	if a.Partial() || l.Spares() != 2 {
		t.Fatalf("after Drop: partial=%v spares=%d", a.Partial(), l.Spares())
	}
	if n, err := a.Next(&l, whole); n != len(whole) || err != nil {
		t.Fatalf("after Drop the next frame: %d %v", n, err)
	}
}

func TestSpareWalkersBounded(t *testing.T) {
	var l Walkers
	fs := make([]Framer, MaxSpareWalkers+10)
	for i := range fs {
		fs[i].Next(&l, []byte{0x91})
	}
	for i := range fs {
		fs[i].Next(&l, []byte{0x91, 0x01})
	}
	if l.Spares() != MaxSpareWalkers {
		t.Errorf("got %d spares, want %d", l.Spares(), MaxSpareWalkers)
	}
}
