package main

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
)

// decodeSVG parses s with encoding/xml and returns the root element's name
// and the number of elements of each name.
func decodeSVG(t *testing.T, s string) (string, map[string]int) {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader(s))
	var root string
	count := map[string]int{}
	depth := 0
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("not well-formed XML: %v\n%s", err, s)
		}
		switch e := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				if root != "" {
					t.Fatalf("second root element %q", e.Name.Local)
				}
				root = e.Name.Local
			}
			depth++
			count[e.Name.Local]++
		case xml.EndElement:
			depth--
		}
	}
	if depth != 0 {
		t.Fatalf("unbalanced elements: depth %d at the end", depth)
	}
	return root, count
}

func TestRatioSVGWellFormed(t *testing.T) {
	runs := []Run{
		httpRun(1, "c50", "tokamak", 200, 8), httpRun(1, "c50", "nethttp", 100, 16), httpRun(1, "c50", "gnetraw", 300, 4),
		httpRun(2, "c50", "tokamak", 180, 9), httpRun(2, "c50", "nethttp", 100, 18), httpRun(2, "c50", "gnetraw", 320, 4.1),
		{Rep: 1, Config: "idle", Who: "tokamak", KBPerConn: 0.59},
		httpRun(1, "rpc-64B", "tokamak", 3300, 0.3), httpRun(1, "rpc-64B", "netrpc", 100, 11),
	}
	vs := verdicts(runs)
	// A note with markup characters must be escaped.
	vs = append(vs, Verdict{Target: Target{Config: "x<&>", What: `"quoted" & <tagged>`, Value: 2, Peer: "p"},
		Status: statusUnmeasured, Note: "a <b> & 'c'"})
	svg := ratioSVG(vs)
	root, count := decodeSVG(t, svg)
	if root != "svg" {
		t.Errorf("root element: got %q, want svg", root)
	}
	// One dot per measured verdict: c50 cpu, c50 net/http, idle, rpc.
	if count["circle"] != 4 {
		t.Errorf("got %d dots, want 4 (measured verdicts)", count["circle"])
	}
	if !strings.Contains(svg, "&lt;tagged&gt;") {
		t.Error("label text not escaped")
	}
	for _, want := range []string{"met", "missed", "unmeasured"} {
		if !strings.Contains(svg, want) {
			t.Errorf("chart lacks %q", want)
		}
	}
}

func TestRatioSVGEmpty(t *testing.T) {
	if root, _ := decodeSVG(t, ratioSVG(nil)); root != "svg" {
		t.Errorf("root element: got %q, want svg", root)
	}
}
