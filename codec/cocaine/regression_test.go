package cocaine

import (
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/tokamak-io/tokamak/codec"
	"github.com/tokamak-io/tokamak/engine"
	"github.com/tokamak-io/tokamak/internal/enginetest"
	"github.com/tokamak-io/tokamak/rpc"
)

// TestLocatorWildcardListeners: with the listeners on a wildcard
// address (cmd/server's defaults are ":10054" and ":10053"), the locator
// must advertise an address a client can connect to, not "<nil>" or the
// unspecified address (gnet reports the listener's address as a
// connection's local one; the reactor asks the socket instead).
func TestLocatorWildcardListeners(t *testing.T) {
	for _, host := range []string{"", "0.0.0.0"} {
		t.Run("host="+host, func(t *testing.T) {
			e := engine.New(engine.Config{Loops: 1, Logger: testLog})
			rpc.RegisterBuiltins(e.Handlers())
			caddr, err := e.Listen("cocaine://" + host + ":0")
			if err != nil {
				t.Fatal(err)
			}
			laddr, err := e.Listen("cocaine-locator://" + host + ":0")
			if err != nil {
				t.Fatal(err)
			}
			enginetest.Run(t, e)
			lport := laddr.(*net.TCPAddr).Port
			cport := caddr.(*net.TCPAddr).Port
			lc := dialCocaine(t, fmt.Sprintf("127.0.0.1:%d", lport))
			eps, _, _ := resolve(t, lc, 2, "echo")
			if len(eps) != 1 {
				t.Fatalf("endpoints %v, want one", eps)
			}
			h, p, _ := net.SplitHostPort(eps[0])
			if ip := net.ParseIP(h); ip == nil || ip.IsUnspecified() || p != fmt.Sprint(cport) {
				t.Fatalf("advertised %q: want a concrete address on port %d", eps[0], cport)
			}
			c := dialCocaine(t, eps[0])
			c.send(invoke(2, "echo"), chunk(2, "hi"), choke(2))
			if got, want := c.read(2), lines(`[2 0 ["hi"] []]`, `[2 2 [] []]`); got != want {
				t.Errorf("echo through the advertised endpoint: got %q, want %q", got, want)
			}
		})
	}
}

// TestUnknownEventQuoteBounded: the error for an unknown event quotes
// the name; a name of a whole frame's size (1 MiB, escaped to up to 4 MiB)
// made one frame cost four times its size in output and allocations.
func TestUnknownEventQuoteBounded(t *testing.T) {
	d := newDriver(t, newCodec(t, nil, Options{}, nil, codec.Limits{}))
	d.feed(invoke(2, strings.Repeat("\x00", 512<<10)))
	if len(d.out) > 1024 {
		t.Errorf("unknown-event error of %d bytes for one frame", len(d.out))
	}
	if got := d.take(V12); !strings.HasPrefix(got, `[2 1 [[42 1] "unknown event \"\\x00\\x00`) {
		t.Errorf("got %.80q", got)
	}
	d.feed(invoke(3, "nope"))
	if got, want := d.take(V12), lines(`[3 1 [[42 1] "unknown event \"nope\""] []]`); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
