package cocaine

import (
	"net"
	"strings"
	"testing"

	"github.com/tokamak-io/tokamak/codec"
)

func newLocator(t testing.TB, lns func() []codec.Listener) *Locator {
	t.Helper()
	c, err := NewLocatorWithOptions(codec.Env{Handlers: testRegistry(), Loops: 1, Logger: testLog, Listeners: lns}, LocatorOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func listeners(addrs ...string) func() []codec.Listener {
	var lns []codec.Listener
	for _, a := range addrs {
		scheme, hostport, _ := strings.Cut(a, "://")
		addr, err := net.ResolveTCPAddr("tcp", hostport)
		if err != nil {
			panic(err)
		}
		lns = append(lns, codec.Listener{Scheme: scheme, Addr: addr})
	}
	return func() []codec.Listener { return lns }
}

// The app graph and the locator's, rendered.
const (
	renderedS       = `{0:["write" nil] 1:["error" {}] 2:["close" {}]}`
	renderedApp     = `{0:["enqueue" ` + renderedS + ` ` + renderedS + `]}`
	renderedLocator = `{0:["resolve" {} {0:["value" {}] 1:["error" {}]}]}`
)

func TestLocator(t *testing.T) {
	lns := listeners("cocaine://127.0.0.1:10054", "cocaine://0.0.0.0:10055", "cocaine-v11://127.0.0.1:10056",
		"cocaine-locator://[::]:10053", "http://127.0.0.1:8080")
	for _, tc := range []struct {
		name   string
		in     []byte
		want   string
		closed bool
	}{
		{"resolve", AppendResolve(nil, 1, "echo"),
			lines(`[1 0 [[["127.0.0.1" 10054] ["10.1.2.3" 10055]] 1 ` + renderedApp + `] []]`), false},
		{"method", AppendResolve(nil, 2, "ping"),
			lines(`[2 0 [[["127.0.0.1" 10054] ["10.1.2.3" 10055]] 1 ` + renderedApp + `] []]`), false},
		{"seed", unhex(t, "94 02 00 92 a4 65 63 68 6f a4 73 65 65 64 90"),
			lines(`[2 0 [[["127.0.0.1" 10054] ["10.1.2.3" 10055]] 1 ` + renderedApp + `] []]`), false},
		{"nil seed", unhex(t, "94 02 00 92 a4 65 63 68 6f c0 90"),
			lines(`[2 0 [[["127.0.0.1" 10054] ["10.1.2.3" 10055]] 1 ` + renderedApp + `] []]`), false},
		{"locator", AppendResolve(nil, 2, "locator"),
			lines(`[2 0 [[["10.1.2.3" 10053]] 3 ` + renderedLocator + `] []]`), false},
		{"unknown", AppendResolve(nil, 2, "nope"),
			lines(`[2 1 [[10 1] "service is not available"] []]`), false},
		// The fallback serves events on a Cocaine connection, but names
		// are resolved only for what is registered.
		{"several", join(AppendResolve(nil, 2, "nope"), AppendResolve(nil, 3, "ping"), choke(3), AppendResolve(nil, 3, "echo"),
			V12.AppendHeartbeat(nil)),
			lines(`[2 1 [[10 1] "service is not available"] []]`,
				`[3 0 [[["127.0.0.1" 10054] ["10.1.2.3" 10055]] 1 `+renderedApp+`] []]`,
				`[1 0 [] []]`), false},
		{"terminate", join(V12.AppendTerminate(nil, 1, "bye"), AppendResolve(nil, 2, "echo")),
			lines(`[1 1 [1 "bye"] []]`), true},
		{"no args", unhex(t, "94 02 00 90 90"), "", true},
		{"int name", unhex(t, "94 02 00 91 01 90"), "", true},
		{"int seed", unhex(t, "94 02 00 92 a4 65 63 68 6f 01 90"), "", true},
		{"three args", unhex(t, "94 02 00 93 a1 61 a1 62 a1 63 90"), "", true},
		{"channel 0", unhex(t, "94 00 00 91 a4 65 63 68 6f 90"), "", true},
		{"bomb", unhex(t, "94 02 00 91 dd ff ff ff ff"), "", true},
		{"garbage", []byte("GET / HTTP/1.1\r\n\r\n"), "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := newDriver(t, newLocator(t, lns))
			d.conn.local = &net.TCPAddr{IP: net.IPv4(10, 1, 2, 3), Port: 10053}
			d.feed(tc.in)
			if got := d.take(V12); got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if d.closed != tc.closed {
				t.Errorf("closed: got %v, want %v", d.closed, tc.closed)
			}
		})
	}
}

// TestLocatorNoEndpoints: with nothing to connect to, a resolve is an
// error, not an empty value.
func TestLocatorNoEndpoints(t *testing.T) {
	for name, lns := range map[string]func() []codec.Listener{
		"no engine":   nil,
		"no cocaine":  listeners("http://127.0.0.1:8080"),
		"no listener": func() []codec.Listener { return nil },
	} {
		d := newDriver(t, newLocator(t, lns))
		d.feed(AppendResolve(nil, 2, "echo"))
		if got, want := d.take(V12), lines(`[2 1 [[10 1] "service is not available"] []]`); got != want {
			t.Errorf("%s: got %q, want %q", name, got, want)
		}
	}
}

func TestLocatorSplit(t *testing.T) {
	lns := listeners("cocaine://127.0.0.1:10054", "cocaine-locator://127.0.0.1:10053")
	in := join(AppendResolve(nil, 1, "echo"), V12.AppendHeartbeat(nil), AppendResolve(nil, 2, "nope"),
		AppendResolve(nil, 3, "locator"), AppendResolve(nil, 4, strings.Repeat("n", 300)))
	c := newLocator(t, lns)
	whole := newDriver(t, c)
	whole.feed(in)
	want := string(whole.out)
	if strings.Count(whole.take(V12), "\n") != 5 {
		t.Fatalf("want 5 answers")
	}
	for i := 0; i <= len(in); i++ {
		d := newDriver(t, c)
		d.feed(in[:i])
		d.feed(in[i:])
		if got := string(d.out); got != want {
			t.Fatalf("split at %d: got %q, want %q", i, got, want)
		}
	}
	d := newDriver(t, c)
	d.limit = 1
	for i := range in {
		d.feed(in[i : i+1])
	}
	if got := string(d.out); got != want {
		t.Errorf("byte by byte: got %q, want %q", got, want)
	}
}

func TestLocatorDraining(t *testing.T) {
	d := newDriver(t, newLocator(t, listeners("cocaine://127.0.0.1:10054")))
	d.draining = true
	d.feed(join(AppendResolve(nil, 1, "echo"), AppendResolve(nil, 2, "ping")))
	if got := d.take(V12); strings.Count(got, "\n") != 2 || !d.closed {
		t.Errorf("got %q, closed %v: want two answers, then closed", got, d.closed)
	}
}
