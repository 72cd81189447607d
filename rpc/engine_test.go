package rpc_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	_ "github.com/tokamak-io/tokamak/codec/http1"
	"github.com/tokamak-io/tokamak/engine"
	"github.com/tokamak-io/tokamak/handlers"
	"github.com/tokamak-io/tokamak/internal/enginetest"
	"github.com/tokamak-io/tokamak/rpc"
)

// The bridge through the real engine and a real client, with a blocking
// method among the others.
func TestHTTPBridgeThroughEngine(t *testing.T) {
	e := engine.New(engine.Config{Loops: 1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	rpc.RegisterBuiltins(e.Handlers())
	rpc.RegisterHTTP(e.Handlers())
	e.Handlers().HandleRPC("sleep", handlers.BlockingMethod(handlers.MethodFunc(func(w *handlers.Reply, c *handlers.Call) {
		time.Sleep(50 * time.Millisecond)
		rpc.Echo(w, c)
	})))
	addr, err := e.Listen("http://127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	enginetest.Run(t, e)
	base := "http://" + addr.String() + "/rpc/"
	for _, tc := range []struct{ method, ctype, body, want string }{
		{"echo", "application/json", `["hello"]`, `"hello"`},
		{"ping", "application/json", `[]`, `"pong"`},
		{"sleep", "application/json", `[{"k":[1,2]}]`, `{"k":[1,2]}`},
		{"sleep", "application/msgpack", "\x91\xa2hi", "\xa2hi"},
	} {
		res, err := http.Post(base+tc.method, tc.ctype, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !bytes.Equal(b, []byte(tc.want)) || res.Header.Get("Content-Type") != tc.ctype {
			t.Errorf("%s %s: %d %q %q, want 200 %q", tc.method, tc.body, res.StatusCode, res.Header.Get("Content-Type"), b, tc.want)
		}
	}
}
