package engine_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/tokamak-io/tokamak/codec/mpack"
	_ "github.com/tokamak-io/tokamak/codec/msgpackrpc"
	"github.com/tokamak-io/tokamak/engine"
	"github.com/tokamak-io/tokamak/handlers"
	"github.com/tokamak-io/tokamak/rpc"
)

// A unary method registered once answers over MessagePack-RPC and, with
// rpc.RegisterHTTP, as POST /rpc/{method}.
func Example_rpc() {
	e := engine.New(engine.Config{})
	e.HandleRPCFunc("len", func(w *handlers.Reply, c *handlers.Call) {
		_, rest, _ := mpack.ReadArrayHeader(c.Params) // walked by the codec: lengths are safe
		s, _, err := mpack.ReadStr(rest)
		if err != nil {
			w.SetError(handlers.CodeBadParams, "len takes a string")
			return
		}
		w.SetResult(mpack.AppendInt(w.Result(), int64(len(s))))
	})
	rpc.RegisterHTTP(e.Handlers())
	httpAddr, _ := e.Listen("http://127.0.0.1:0")
	rpcAddr, _ := e.Listen("msgpackrpc://127.0.0.1:0")
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	done := make(chan error)
	go func() { done <- e.Run(ctx) }()
	<-e.Ready()

	res, err := http.Post("http://"+httpAddr.String()+"/rpc/len", "application/json", strings.NewReader(`["tokamak"]`))
	if err != nil {
		panic(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	fmt.Println(res.Status, string(body))

	// [0, 1, "len", ["hi"]] → [1, 1, nil, 2]
	c, err := net.Dial("tcp", rpcAddr.String())
	if err != nil {
		panic(err)
	}
	c.Write([]byte("\x94\x00\x01\xa3len\x91\xa2hi"))
	answer := make([]byte, 5)
	c.SetReadDeadline(time.Now().Add(5 * time.Second))
	io.ReadFull(c, answer)
	c.Close()
	fmt.Printf("% x\n", answer)

	stop()
	<-done
	// Output:
	// 200 OK 7
	// 94 01 01 c0 02
}
