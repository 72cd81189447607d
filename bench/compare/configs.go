package main

import (
	"fmt"
	"path"
	"slices"
	"strings"
)

// kind is what a configuration measures.
type kind int

const (
	kindHTTP kind = iota // HTTP GET /plaintext under load from bench/load
	kindRPC              // MessagePack-RPC echo under load from rpcload
	kindIdle             // RSS growth for idle keep-alive connections
	kindTool             // bench/load vs wrk, both against tokamak
)

// Config is one row group of the matrix: a load shape and the contestants
// it runs against, in the order they run within a repetition.
type Config struct {
	Name     string
	Kind     kind
	Conns    int
	Pipeline int // requests per batch (HTTP), calls in flight per connection (RPC; 0 means 1)
	Size     int // payload bytes (RPC)
	Who      []string
	Title    string
}

// The contestants: servers, and the two load tools of the wrk rows.
var httpServers = []string{"tokamak", "nethttp", "fasthttp", "gnetraw"}

// baseName is the contestant of -base: an older build of tokamak's server,
// run as tokamak is (see withBase).
const baseName = "base"

var displayNames = map[string]string{
	"tokamak":  "tokamak",
	baseName:   "tokamak (base)",
	"nethttp":  "net/http",
	"fasthttp": "fasthttp",
	"gnetraw":  "gnet raw",
	"netrpc":   "net/rpc+ugorji",
	"load":     "bench/load",
	"wrk":      "wrk",
}

func displayName(who string) string {
	if d, ok := displayNames[who]; ok {
		return d
	}
	return who
}

// rpcMethod is the echo method each RPC server answers: net/rpc only
// dispatches "Service.Method" names (see bench/peers/netrpc).
var rpcMethod = map[string]string{"tokamak": "echo", baseName: "echo", "netrpc": "Echo.Echo"}

// allConfigs is the full matrix, in run order.
func allConfigs(idleConns int) []Config {
	return []Config{
		{Name: "c50", Kind: kindHTTP, Conns: 50, Pipeline: 1, Who: httpServers, Title: "50 connections, keep-alive"},
		{Name: "c256", Kind: kindHTTP, Conns: 256, Pipeline: 1, Who: httpServers, Title: "256 connections, keep-alive"},
		{Name: "c50-p16", Kind: kindHTTP, Conns: 50, Pipeline: 16, Who: httpServers, Title: "50 connections, pipelined ×16"},
		{Name: "c256-p16", Kind: kindHTTP, Conns: 256, Pipeline: 16, Who: httpServers, Title: "256 connections, pipelined ×16"},
		{Name: "rpc-64B", Kind: kindRPC, Conns: 50, Size: 64, Who: []string{"tokamak", "netrpc"}, Title: "echo, 64-byte str, 50 connections, one call in flight each"},
		{Name: "rpc-4KiB", Kind: kindRPC, Conns: 50, Size: 4096, Who: []string{"tokamak", "netrpc"}, Title: "echo, 4 KiB str, 50 connections, one call in flight each"},
		// With one call in flight per connection loopback TCP sets the
		// pace (a do-nothing server is not much faster): calls in flight
		// show what the servers themselves cost.
		{Name: "rpc-64B-d16", Kind: kindRPC, Conns: 50, Pipeline: 16, Size: 64, Who: []string{"tokamak", "netrpc"}, Title: "echo, 64-byte str, 50 connections, 16 calls in flight each"},
		{Name: "idle", Kind: kindIdle, Conns: idleConns, Who: httpServers, Title: fmt.Sprintf("%d idle keep-alive connections", idleConns)},
		{Name: "wrk-c50", Kind: kindTool, Conns: 50, Pipeline: 1, Who: []string{"load", "wrk"}, Title: "bench/load vs wrk against tokamak, 50 connections"},
		{Name: "wrk-c50-p16", Kind: kindTool, Conns: 50, Pipeline: 16, Who: []string{"load", "wrk"}, Title: "bench/load vs wrk against tokamak, 50 connections, pipelined ×16"},
	}
}

// withBase adds the base build right after tokamak in every configuration
// that runs tokamak's server as a contestant (HTTP, RPC, idle; the wrk
// rows run it as the server of both load tools), so that the two builds
// run back to back in either order. It does not change cs.
func withBase(cs []Config) []Config {
	out := slices.Clone(cs)
	for i := range out {
		if j := slices.Index(out[i].Who, "tokamak"); j >= 0 {
			out[i].Who = slices.Insert(slices.Clone(out[i].Who), j+1, baseName)
		}
	}
	return out
}

// subject is the contestant whose ratios a configuration reports: tokamak,
// or bench/load in the wrk rows.
func (c *Config) subject() string {
	if c.Kind == kindTool {
		return "load"
	}
	return "tokamak"
}

// targets are DESIGN.md §8's figures, as the harness measures them.
func targets() []Target {
	var ts []Target
	for _, c := range []struct {
		name        string
		piped       bool
		cpu, nh, fh float64
	}{
		{"c50", false, 1.15, 2.0, 1.2},
		{"c256", false, 1.15, 2.0, 1.2},
		{"c50-p16", true, 1.6, 10, 1.6},
		{"c256-p16", true, 1.6, 10, 1.6},
	} {
		ts = append(ts,
			Target{Config: c.name, Figure: figCPU, Subject: "tokamak", Peer: "gnetraw", Value: c.cpu, What: "HTTP CPU µs/request vs gnet raw"},
			Target{Config: c.name, Figure: figRate, Subject: "tokamak", Peer: "nethttp", AtLeast: true, Value: c.nh, What: "HTTP req/s vs net/http"},
			Target{Config: c.name, Figure: figRate, Subject: "tokamak", Peer: "fasthttp", AtLeast: true, Value: c.fh, What: "HTTP req/s vs fasthttp"},
		)
	}
	ts = append(ts,
		Target{Config: "idle", Figure: figKB, Subject: "tokamak", Value: 1, What: "idle memory per keep-alive connection"},
		Target{Config: "rpc-64B", Figure: figRate, Subject: "tokamak", Peer: "netrpc", AtLeast: true, Value: 4, What: "MessagePack-RPC calls/s vs net/rpc"},
		Target{Config: "rpc-4KiB", Figure: figRate, Subject: "tokamak", Peer: "netrpc", AtLeast: true, Value: 4, What: "MessagePack-RPC calls/s vs net/rpc"},
		Target{Config: "rpc-64B-d16", Figure: figRate, Subject: "tokamak", Peer: "netrpc", AtLeast: true, Value: 4, What: "MessagePack-RPC calls/s vs net/rpc"},
		Target{Config: "wrk-c50", Figure: figRate, Subject: "load", Peer: "wrk", AtLeast: true, Value: 0.9, What: "bench/load req/s vs wrk"},
		Target{Config: "wrk-c50-p16", Figure: figRate, Subject: "load", Peer: "wrk", AtLeast: true, Value: 0.9, What: "bench/load req/s vs wrk"},
	)
	return ts
}

// selectConfigs applies an -only filter: comma-separated names or
// path.Match patterns, each matching configuration names or contestants.
// Configurations are kept when a configuration token matches them (all of
// them when no token names a configuration), contestants likewise; a
// configuration left with no contestant is dropped. A token that matches
// nothing is an error.
func selectConfigs(all []Config, only string) ([]Config, error) {
	only = strings.TrimSpace(only)
	if only == "" {
		return all, nil
	}
	var cfgPat, whoPat []string
	for tok := range strings.SplitSeq(only, ",") {
		tok = strings.TrimSpace(tok)
		if tok == "" {
			continue
		}
		if _, err := path.Match(tok, ""); err != nil {
			return nil, fmt.Errorf("-only: bad pattern %q", tok)
		}
		var isCfg, isWho bool
		for _, c := range all {
			if ok, _ := path.Match(tok, c.Name); ok {
				isCfg = true
			}
			for _, w := range c.Who {
				if ok, _ := path.Match(tok, w); ok {
					isWho = true
				}
			}
		}
		switch {
		case isCfg:
			cfgPat = append(cfgPat, tok)
		case isWho:
			whoPat = append(whoPat, tok)
		default:
			return nil, fmt.Errorf("-only: %q matches no configuration (%s) and no contestant (%s)",
				tok, strings.Join(configNames(all), " "), strings.Join(contestantNames(all), " "))
		}
	}
	match := func(pats []string, s string) bool {
		if len(pats) == 0 {
			return true
		}
		for _, p := range pats {
			if ok, _ := path.Match(p, s); ok {
				return true
			}
		}
		return false
	}
	var out []Config
	for _, c := range all {
		if !match(cfgPat, c.Name) {
			continue
		}
		var who []string
		for _, w := range c.Who {
			if match(whoPat, w) {
				who = append(who, w)
			}
		}
		if len(who) > 0 {
			c.Who = who
			out = append(out, c)
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("-only %q selects nothing", only)
	}
	return out, nil
}

func configNames(cs []Config) []string {
	var n []string
	for _, c := range cs {
		n = append(n, c.Name)
	}
	return n
}

func contestantNames(cs []Config) []string {
	var n []string
	for _, c := range cs {
		for _, w := range c.Who {
			if !slices.Contains(n, w) {
				n = append(n, w)
			}
		}
	}
	return n
}
