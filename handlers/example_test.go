package handlers_test

import (
	"fmt"

	"github.com/tokamak-io/tokamak/handlers"
)

func Example() {
	reg := handlers.NewRegistry()
	reg.HandleFunc("GET", "/hello/{name}", func(w *handlers.Response, r *handlers.Request) {
		w.SetContentType("text/plain; charset=utf-8")
		w.WriteString("Hello, ")
		w.Write(r.Param("name"))
		w.WriteString("!")
	})
	reg.Freeze() // the engine does this when it starts

	// What a codec does for each request: fill a Request with views of
	// the input, route it, serve it, then frame the Response.
	req := &handlers.Request{
		Method: []byte("GET"),
		Target: []byte("/hello/gopher"),
		Path:   []byte("/hello/gopher"),
		Proto:  []byte("HTTP/1.1"),
	}
	var w handlers.Response
	reg.Route(req).ServeHTTP(&w, req)
	fmt.Printf("%d %q\n%s\n", w.Status(), w.HeaderBytes(), w.Body())

	w.Reset()
	req.Method = []byte("POST")
	reg.Route(req).ServeHTTP(&w, req)
	fmt.Printf("%d %q\n", w.Status(), w.HeaderBytes())
	// Output:
	// 200 "Content-Type: text/plain; charset=utf-8\r\n"
	// Hello, gopher!
	// 405 "Allow: GET, HEAD, OPTIONS\r\nContent-Type: text/plain; charset=utf-8\r\n"
}

func ExampleRegisterBuiltins() {
	reg := handlers.NewRegistry()
	handlers.RegisterBuiltins(reg, func() handlers.Stats {
		return handlers.Stats{Loops: []handlers.LoopStats{{Loop: 0, Connections: 1, Accepted: 1, Requests: 2}}}
	})
	reg.Freeze()
	for _, path := range []string{"/json", "/stats"} {
		req := &handlers.Request{Method: []byte("GET"), Target: []byte(path), Path: []byte(path), Proto: []byte("HTTP/1.1")}
		var w handlers.Response
		reg.Route(req).ServeHTTP(&w, req)
		fmt.Printf("%d %s\n", w.Status(), w.Body())
	}
	// Output:
	// 200 {"message":"Hello, World!"}
	// 200 {"draining":false,"connections":1,"accepted":1,"refused":0,"requests":2,"errors":0,"panics":0,"input_held":0,"overloaded":0,"timed_out":0,"resets":0,"input_budget":0,"offload_held":0,"offload_dropped":0,"loops":[{"loop":0,"connections":1,"accepted":1,"refused":0,"requests":2,"errors":0,"panics":0,"input_held":0,"overloaded":0,"timed_out":0,"resets":0}],"listeners":[]}
}
