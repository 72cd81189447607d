package main

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	_ "github.com/tokamak-io/tokamak/codec/cocaine"
	_ "github.com/tokamak-io/tokamak/codec/msgpackrpc"
	tokamak "github.com/tokamak-io/tokamak/engine"
	"github.com/tokamak-io/tokamak/handlers"
	"github.com/tokamak-io/tokamak/internal/enginetest"
	"github.com/tokamak-io/tokamak/rpc"
)

// startTokamak runs a tokamak engine with the RPC built-ins and slowecho,
// an echo on the offload pool that takes 0–2 ms (so that answers come out
// of order), on MessagePack-RPC and Cocaine listeners at 127.0.0.1:0, and
// returns the load tool's URLs for them.
func startTokamak(t *testing.T) (mrpc, coc string) {
	t.Helper()
	e := tokamak.New(tokamak.Config{Loops: 1, Logger: enginetest.Logger(t)})
	rpc.RegisterBuiltins(e.Handlers())
	e.Handlers().HandleRPC("slowecho", handlers.BlockingMethod(handlers.MethodFunc(func(w *handlers.Reply, c *handlers.Call) {
		time.Sleep(rand.N(2 * time.Millisecond))
		rpc.Echo(w, c)
	})))
	var urls [2]string
	for i, scheme := range []string{"msgpackrpc", "cocaine"} {
		a, err := e.Listen(scheme + "://127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		urls[i] = scheme + "://" + a.String()
	}
	enginetest.Run(t, e)
	return urls[0], urls[1]
}

// The load tool against tokamak's own MessagePack-RPC and Cocaine
// listeners: echo (the method over MessagePack-RPC, the stream over
// Cocaine), slowecho (a unary method answered out of order), ping (not an
// echo: -verify=false), an unknown method (RPC errors); closed and open
// loop, both engines.
func TestAgainstTokamak(t *testing.T) {
	mrpc, coc := startTokamak(t)
	for _, u := range []string{mrpc, coc} {
		scheme, _, _ := strings.Cut(u, ":")
		t.Run(scheme, func(t *testing.T) {
			forEngine(t, func(t *testing.T, engine string) {
				res, code := runLoad(t, "-engine", engine, "-c", "4", "-pipeline", "16", "-n", "20000", u)
				if code != 0 || res.Requests != 20000 || res.Errors.total() != 0 || res.Latency["p50"] <= 0 {
					t.Fatalf("echo: exit %d, %+v", code, res)
				}
				res, code = runLoad(t, "-engine", engine, "-c", "2", "-pipeline", "32", "-method", "slowecho", "-size", "1000", "-n", "2000", u)
				if code != 0 || res.Requests != 2000 || res.Errors.total() != 0 {
					t.Fatalf("slowecho: exit %d, %+v", code, res)
				}
				res, code = runLoad(t, "-engine", engine, "-c", "2", "-method", "ping", "-verify=false", "-n", "100", u)
				if code != 0 || res.Requests != 100 || res.Errors.total() != 0 {
					t.Fatalf("ping: exit %d, %+v", code, res)
				}
				res, code = runLoad(t, "-engine", engine, "-c", "2", "-method", "ping", "-n", "100", u)
				if code != 1 || res.Errors.Protocol == 0 {
					t.Fatalf("ping, verified as an echo: exit %d, %+v: want protocol errors", code, res)
				}
				res, code = runLoad(t, "-engine", engine, "-c", "2", "-pipeline", "4", "-method", "nope", "-n", "100", u)
				if code != 1 || res.Requests != 100 || res.Errors.RPC != 100 || res.Errors.total() != 100 {
					t.Fatalf("nope: exit %d, %+v: want 100 RPC errors", code, res)
				}
			})
			res, code := runLoad(t, "-c", "4", "-pipeline", "4", "-rate", "4000", "-d", "500ms", u)
			if code != 0 || res.Errors.total() != 0 || res.Requests < 1900 || !*res.RateReached {
				t.Fatalf("-rate: exit %d, %+v", code, res)
			}
			res, code = runLoad(t, "-c", "2", "-pipeline", "8", "-rate", "2000", "-method", "slowecho", "-n", "500", u)
			if code != 0 || res.Errors.total() != 0 || res.Requests != 500 {
				t.Fatalf("-rate slowecho: exit %d, %+v", code, res)
			}
		})
	}
}
