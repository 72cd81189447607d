// Command server runs tokamak with its built-in handlers.
//
//	go run ./cmd/server            # HTTP :8080, Cocaine :10054 (locator :10053), MessagePack-RPC :9090
//	go run ./cmd/server -h         # every flag
//
// It stays in the foreground; SIGTERM or SIGINT drains it gracefully.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"

	"github.com/KimMachineGun/automemlimit/memlimit"

	"github.com/tokamak-io/tokamak/codec"
	_ "github.com/tokamak-io/tokamak/codec/cocaine"    // "cocaine", "cocaine-v11", "cocaine-locator"
	_ "github.com/tokamak-io/tokamak/codec/http1"      // "http"
	_ "github.com/tokamak-io/tokamak/codec/msgpackrpc" // "msgpackrpc"
	"github.com/tokamak-io/tokamak/engine"
	"github.com/tokamak-io/tokamak/handlers"
	"github.com/tokamak-io/tokamak/rpc"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, os.Interrupt)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}

// run serves until ctx ends, then drains. Logs and usage go to out.
func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	fs.SetOutput(out)
	var (
		cfg        engine.Config
		httpAddr   string
		cocaine    string
		cocaineV11 bool
		locator    string
		msgpackrpc string
		logLevel   slog.Level
		maxBody    int64
		cpuProfile string
	)
	fs.StringVar(&httpAddr, "http", ":8080", "HTTP/1.1 listen address `host:port`; empty disables it (each listener address may end in ?max_conns=N&reserve=N, its share of the connection slots)")
	fs.StringVar(&cocaine, "cocaine", ":10054", "Cocaine v0.12 listen address `host:port`; empty disables it")
	fs.BoolVar(&cocaineV11, "cocaine-v11", false, "speak the older Cocaine v0.11 frame order [type, session, args] on the -cocaine listener")
	fs.StringVar(&locator, "locator", ":10053", "Cocaine locator listen address `host:port`; empty disables it")
	fs.StringVar(&msgpackrpc, "msgpackrpc", ":9090", "MessagePack-RPC listen address `host:port`; empty disables it")
	fs.IntVar(&cfg.Loops, "loops", 0, "event loops; 0 = GOMAXPROCS (from the cgroup CPU quota when set)")
	fs.IntVar(&cfg.MaxConns, "max-conns", 0, "cap on open connections; 0 = the descriptor limit less a reserve")
	fs.DurationVar(&cfg.HeaderTimeout, "header-timeout", 0, "time allowed for a request head or msgpack frame from its first byte, unless it keeps -min-rate; 0 = 10s")
	fs.DurationVar(&cfg.BodyTimeout, "body-timeout", 0, "time allowed for a request body, a call's params or a channel's next message, unless it keeps -min-rate; 0 = 30s")
	fs.IntVar(&cfg.MinRate, "min-rate", 0, "bytes a second a head or body must keep, over each timeout-long window, to run past its timeout (heartbeats do not count); 0 = 500, negative = any progress")
	fs.Int64Var(&cfg.InputBudget, "input-budget", 0, "bytes of partial input held across the process before growing connections are refused (503, RPC busy); 0 = 1/8 of the memory the process may use")
	fs.DurationVar(&cfg.IdleTimeout, "idle-timeout", 0, "silence allowed on a keep-alive connection between requests; 0 = 60s")
	fs.DurationVar(&cfg.CloseTimeout, "close-timeout", 0, "time a closing connection may take to send its last output; 0 = 10s")
	fs.DurationVar(&cfg.Linger, "linger", 0, "time a closing connection waits for the peer to close after its output was sent; 0 = 2s")
	fs.DurationVar(&cfg.ShutdownTimeout, "shutdown-timeout", 0, "time allowed for the graceful shutdown on SIGTERM/SIGINT; 0 = 30s")
	fs.IntVar(&cfg.HighWater, "high-water", 0, "output bytes buffered per connection before its input is paused; 0 = 256 KiB")
	fs.IntVar(&cfg.LowWater, "low-water", 0, "output bytes buffered below which a paused connection resumes; 0 = 64 KiB")
	fs.IntVar(&cfg.MaxInboundPaused, "max-inbound-paused", 0, "input bytes a paused connection may buffer before it is closed; 0 = 1 MiB")
	fs.IntVar(&cfg.Limits.MaxRequestLine, "max-request-line", 0, "longest request line in bytes (414 past it); 0 = 8 KiB")
	fs.IntVar(&cfg.Limits.MaxHeaderBytes, "max-header-bytes", 0, "largest header section in bytes (431 past it); 0 = 64 KiB")
	fs.IntVar(&cfg.Limits.MaxHeaders, "max-headers", 0, "most header fields (431 past it); 0 = 100")
	fs.Int64Var(&maxBody, "max-body", 0, "largest request body in bytes (413 past it); 0 = 4 MiB")
	fs.IntVar(&cfg.Limits.MaxFrame, "max-frame", 0, "largest msgpack frame in bytes (MessagePack-RPC, Cocaine); 0 = 1 MiB")
	fs.IntVar(&cfg.OffloadWorkers, "offload-workers", 0, "goroutines running blocking handlers; 0 = 4 per event loop")
	fs.IntVar(&cfg.OffloadQueue, "offload-queue", 0, "blocking calls that may wait for a worker before callers are told busy; 0 = 1024")
	fs.TextVar(&logLevel, "log-level", slog.LevelInfo, "log level: debug, info, warn or error")
	fs.StringVar(&cpuProfile, "cpuprofile", "", "write a CPU profile of the whole run to `file` (read it with go tool pprof)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: server [flags]\n\nServes tokamak's built-in handlers: HTTP /plaintext, /json, /echo, /healthz, /stats and\nPOST /rpc/{method}; RPC methods echo and ping over MessagePack-RPC, Cocaine and HTTP.\nCodecs compiled in: %v\n\nFlags:\n", codec.Names())
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return nil
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	cfg.Limits.MaxBody = maxBody
	log := slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: logLevel}))
	cfg.Logger = log
	// Under a cgroup memory limit, the garbage collector should work harder
	// before the kernel kills the process: the Go runtime's soft limit at
	// 90% of it, unless GOMEMLIMIT is set (or AUTOMEMLIMIT=off). The input
	// budget's default follows from the limit in force.
	if _, err := memlimit.Set(memlimit.WithProvider(memlimit.FromCgroup), memlimit.WithRatio(0.9)); err != nil {
		log.Warn("cannot set the Go memory limit from the cgroup", "err", err)
	}
	if cpuProfile != "" {
		f, err := os.Create(cpuProfile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return err
		}
		defer func() { // after the drain: the profile covers the whole run
			pprof.StopCPUProfile()
			f.Close()
		}()
	}

	e := engine.New(cfg)
	handlers.RegisterBuiltins(e.Handlers(), e.Stats)
	rpc.RegisterBuiltins(e.Handlers())
	rpc.RegisterHTTP(e.Handlers())
	cocaineScheme := "cocaine"
	if cocaineV11 {
		cocaineScheme = "cocaine-v11"
	}
	listeners := 0
	for _, l := range []struct{ scheme, addr string }{
		{"http", httpAddr},
		{cocaineScheme, cocaine},
		{"cocaine-locator", locator},
		{"msgpackrpc", msgpackrpc},
	} {
		if l.addr == "" {
			continue
		}
		a, err := e.Listen(l.scheme + "://" + l.addr)
		if err != nil {
			return err
		}
		log.Info("listening", "scheme", l.scheme, "addr", a.String())
		listeners++
	}
	if listeners == 0 {
		return fmt.Errorf("every listener is disabled")
	}
	go func() {
		<-e.Ready()
		log.Info("ready", "loops", e.Loops(), "max_conns", e.MaxConns(), "input_budget", e.InputBudget())
	}()
	err := e.Run(ctx)
	log.Info("stopped", "err", err)
	return err
}
