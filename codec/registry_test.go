package codec

import (
	"slices"
	"strings"
	"testing"
)

type nopCodec struct{}

func (nopCodec) NewSession(Conn) Session { return nil }

func TestRegistry(t *testing.T) {
	f := func(Env) (Codec, error) { return nopCodec{}, nil }
	Register("test-b", f)
	Register("test-a", f)
	if _, err := Lookup("test-a"); err != nil {
		t.Fatalf("Lookup(test-a): %v", err)
	}
	_, err := Lookup("nope")
	if err == nil || !strings.Contains(err.Error(), `unknown codec "nope" (forgotten import?)`) {
		t.Fatalf("Lookup(nope) = %v, want an unknown-codec error", err)
	}
	names := Names()
	if !slices.IsSorted(names) || !slices.Contains(names, "test-a") || !slices.Contains(names, "test-b") {
		t.Fatalf("Names() = %v, want sorted with test-a and test-b", names)
	}
	for _, tt := range []struct {
		name string
		f    Factory
	}{{"test-a", f}, {"", f}, {"test-c", nil}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Register(%q, %v) did not panic", tt.name, tt.f != nil)
				}
			}()
			Register(tt.name, tt.f)
		}()
	}
}

func TestSyntaxError(t *testing.T) {
	in := []byte("GET / HTTP/1.1\r\nBad Header: x\r\n")
	e := &SyntaxError{Offset: 19, Msg: "space before colon", Near: Quote(in, 19)}
	if got, want := e.Error(), `codec: space before colon at offset 19 near "1.1\r\nBad Header:"`; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	if got := Quote(in, 1000); got != "" {
		t.Errorf("Quote past the end = %q, want empty", got)
	}
}

func TestLimitsWithDefaults(t *testing.T) {
	got := Limits{MaxHeaders: 7}.WithDefaults()
	want := Limits{DefaultMaxRequestLine, DefaultMaxHeaderBytes, 7, DefaultMaxBody, DefaultMaxFrame}
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
}
