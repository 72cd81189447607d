package codec

import (
	"strings"
	"testing"
)

func TestAppendQuoted(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"echo", `"echo"`},
		{"a\x00\"b", `"a\x00\"b"`},
		{strings.Repeat("x", MaxQuoted), `"` + strings.Repeat("x", MaxQuoted) + `"`},
		{strings.Repeat("x", MaxQuoted+1), `"` + strings.Repeat("x", MaxQuoted) + `"...`},
		{strings.Repeat("\xff", 1<<20), `"` + strings.Repeat(`\xff`, MaxQuoted) + `"...`},
	} {
		if got := string(AppendQuoted([]byte("x: "), []byte(tc.in))); got != "x: "+tc.want {
			t.Errorf("got %q, want %q", got, "x: "+tc.want)
		}
	}
	buf := make([]byte, 0, 512)
	name := []byte(strings.Repeat("n", 100))
	if n := testing.AllocsPerRun(100, func() { _ = AppendQuoted(buf[:0], name) }); n != 0 {
		t.Errorf("%v allocations", n)
	}
}
