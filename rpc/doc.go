// Package rpc is the protocol-neutral side of tokamak's RPC: the built-in
// methods and streams ([RegisterBuiltins]: echo and ping) and the HTTP
// bridges, which serve the registry's unary methods as POST /rpc/{method}
// ([HTTP]) and a stream handler as an HTTP route by the Cocaine HTTP proxy
// convention ([StreamHTTP]).
//
// It sits above handlers because it reads and writes msgpack (package
// codec/mpack), which handlers, the contract every codec imports, does
// not.
//
// # Goroutines and lifetimes
//
// Everything here runs where handlers run: on the connection's event loop,
// or on the offload pool for a blocking method. Views given to a method or
// a stream handler are valid until it returns.
package rpc
