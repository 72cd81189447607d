package http1

import (
	"fmt"
	"strings"
	"testing"

	"github.com/tokamak-io/tokamak/codec"
)

// TestConformance runs the conformance corpus (conformance_corpus_test.go)
// through a session, whole, byte by byte and split in two at every offset
// (the long cases whole only): every case gets the same answers however
// it arrives, exactly the requests it should are served, a refusal closes
// the connection and nothing after it is served.
func TestConformance(t *testing.T) {
	if n := len(confCorpus); n < 300 {
		t.Fatalf("got %d cases, want at least 300", n)
	}
	c := testCodec(t, codec.Limits{})
	seen := map[string]bool{}
	for _, tc := range confCorpus {
		if seen[tc.name] {
			t.Fatalf("case %q twice", tc.name)
		}
		seen[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			ways := [][][]byte{{[]byte(tc.in)}}
			switch {
			case len(tc.in) <= 600:
				ways = splits(tc.in)
			case len(tc.in) <= 4096:
				ways = splits(tc.in)[:2] // whole and byte by byte
			}
			for _, pieces := range ways {
				d := newDriver(t, c)
				out := d.run(pieces...)
				if bad := confCheck(&tc, d, out); len(bad) > 0 {
					t.Fatalf("%d pieces: %s\nin:  %q\nout: %q", len(pieces), strings.Join(bad, "; "), trunc(tc.in), trunc(out))
				}
			}
		})
	}
}

// confCheck compares what the driver saw with the case.
func confCheck(tc *confCase, d *driver, out string) []string {
	got, rest := parseResponses(out, tc.want)
	bad := tc.check(got)
	if rest != "" {
		bad = append(bad, "trailing bytes that are not a whole response: "+trunc(rest))
	}
	refusals := len(tc.want) - tc.served()
	if d.requests != tc.served() || d.errors != refusals {
		bad = append(bad, fmt.Sprintf("got %d served and %d refused, want %d and %d",
			d.requests, d.errors, tc.served(), refusals))
	}
	var end confEnd
	switch {
	case d.closed:
		end = endClosed
	case d.phase != codec.PhaseIdle:
		end = endPending
	}
	if want := tc.wantEnd(); end != want {
		bad = append(bad, "got connection "+end.String()+", want "+want.String())
	}
	return bad
}

func trunc(s string) string {
	if len(s) > 300 {
		return s[:300] + "…"
	}
	return s
}
