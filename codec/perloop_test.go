package codec

import "testing"

func TestPerLoop(t *testing.T) {
	made := 0
	p := NewPerLoop(2, func() *int { made++; v := made; return &v })
	a, b := p.Get(0), p.Get(1)
	if a == b || p.Get(0) != a || p.Get(1) != b || made != 2 {
		t.Fatalf("slots not kept per loop: %d made", made)
	}
	// An index out of range gets a private one each time.
	if x, y := p.Get(2), p.Get(-1); x == y || x == a || x == b || made != 4 {
		t.Fatalf("out-of-range index shared a slot: %d made", made)
	}
}
