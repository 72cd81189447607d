// Package engine is tokamak's public face: configure an [Engine], register
// handlers, add listeners by URL, Run it, Shutdown it.
//
//	e := engine.New(engine.Config{})           // the zero Config works
//	e.HandleFunc("GET", "/hello", hello)
//	e.Listen("http://:8080")                   // scheme = codec name
//	e.Run(ctx)                                 // until ctx ends; drains gracefully
//
// # Goroutines and lifetimes
//
// Handlers run on the event loop that owns their connection and must not
// block; the request they get, and every []byte view in it, is valid only
// until they return (see package handlers). Registration happens before
// Run; from Run on the registry is read-only and needs no locks.
// Shutdown and Stats may be called from any goroutine.
//
// Codecs are plugins: Listen("http://...") needs the "http" codec
// registered, which importing github.com/tokamak-io/tokamak/codec/http1
// does.
package engine
