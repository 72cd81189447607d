package reactor

import (
	"slices"
	"testing"
	"unsafe"
)

func TestWheel(t *testing.T) {
	const tick = 100
	tests := []struct {
		name      string
		deadlines []int64 // per conn; 0 = none
		now       int64
		want      []int // conns expired by advance(now)
	}{
		{"nothing due", []int64{500, 900}, 400, nil},
		{"exactly due", []int64{500}, 500, []int{0}},
		{"some due", []int64{150, 900, 320}, 400, []int{0, 2}},
		{"no deadline", []int64{0, 200}, 1000, []int{1}},
		{"next turn of the wheel", []int64{100 + 16*tick}, 400, nil},
		{"after a long stall", []int64{100 + 16*tick, 250}, 100 + 40*tick, []int{0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := newWheel(tick, 16)
			w.start(0)
			conns := make([]*conn, len(tt.deadlines))
			for i, d := range tt.deadlines {
				conns[i] = &conn{}
				w.schedule(conns[i], d)
			}
			var got []int
			w.advance(tt.now, func(c *conn) { got = append(got, slices.Index(conns, c)) })
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("expired %v, want %v", got, tt.want)
			}
		})
	}
}

func TestWheelReschedule(t *testing.T) {
	w := newWheel(100, 16)
	w.start(0)
	c := &conn{}
	var fired []int64
	expire := func(c *conn) { fired = append(fired, c.deadline) }

	w.schedule(c, 300)
	w.schedule(c, 800) // later: stays filed early, moves when that slot fires
	w.advance(500, expire)
	if len(fired) != 0 {
		t.Fatalf("fired %v before the new deadline", fired)
	}
	w.schedule(c, 600) // earlier than 800: refiled
	w.advance(650, expire)
	if !slices.Equal(fired, []int64{600}) {
		t.Fatalf("fired %v, want [600]", fired)
	}
	w.schedule(c, 900)
	w.remove(c)
	w.advance(2000, expire)
	if len(fired) != 1 {
		t.Fatalf("a removed conn fired: %v", fired)
	}
	// expire may reschedule: the conn fires again at its new deadline.
	w.schedule(c, 2100)
	w.advance(2100, func(c *conn) { fired = append(fired, c.deadline); w.schedule(c, 2300) })
	w.advance(2300, expire)
	if !slices.Equal(fired, []int64{600, 2100, 2300}) {
		t.Fatalf("fired %v, want [600 2100 2300]", fired)
	}
}

func TestConnCap(t *testing.T) {
	tests := []struct {
		limit, loops, lns, want int
		cap                     int64
	}{
		{20000, 2, 1, 0, 20000 - 16 - 6 - 625},
		{20000, 2, 1, 500, 500},
		{1024, 2, 1, 0, 1024 - 16 - 6 - 32},
		{64, 1, 1, 0, 64 - 19 - 2},
		{10, 4, 2, 0, 1},
	}
	for _, tt := range tests {
		if got := connCap(tt.limit, tt.loops, tt.lns, tt.want); got != tt.cap {
			t.Errorf("connCap(%d, %d, %d, %d) = %d, want %d", tt.limit, tt.loops, tt.lns, tt.want, got, tt.cap)
		}
	}
}

// TestConnSize guards the per-connection state: it counts toward the
// ≤ 1 KB per idle connection target (with gnet's connection and the codec
// session). 176 bytes today, a Go size class of its own.
func TestConnSize(t *testing.T) {
	if got := unsafe.Sizeof(conn{}); got > 176 {
		t.Errorf("reactor.conn is %d bytes, want at most 176", got)
	}
}
