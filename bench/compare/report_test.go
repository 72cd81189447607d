package main

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

const handWritten = `# Benchmarks

> **Preliminary.** Hand-written figures.

## Method

- wrk pinned to CPU 1.

## Results

| a | b |
|---|---|
`

func TestSpliceInsertsMarkersWhenAbsent(t *testing.T) {
	got, err := splice(handWritten, "## Generated\n\ntable\n")
	if err != nil {
		t.Fatal(err)
	}
	want := "# Benchmarks\n\n> **Preliminary.** Hand-written figures.\n\n" +
		beginMarker + "\n## Generated\n\ntable\n" + endMarker + "\n\n" +
		"## Method\n\n- wrk pinned to CPU 1.\n\n## Results\n\n| a | b |\n|---|---|\n"
	if got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestSpliceReplacesOnlyBetweenMarkers(t *testing.T) {
	first, err := splice(handWritten, "old generated part\n")
	if err != nil {
		t.Fatal(err)
	}
	edited := strings.Replace(first, "## Method", "## Method (edited by hand)", 1) + "\nA closing note.\n"
	got, err := splice(edited, "new generated part")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(got, "old generated part") {
		t.Error("the old generated part is still there")
	}
	if !strings.Contains(got, beginMarker+"\nnew generated part\n"+endMarker+"\n") {
		t.Errorf("the new part is not between the markers:\n%s", got)
	}
	// Everything outside the markers is byte for byte what it was.
	outside := func(doc string) string {
		i := strings.Index(doc, beginMarker)
		j := strings.Index(doc, endMarker)
		return doc[:i] + doc[j:]
	}
	if outside(got) != outside(edited) {
		t.Errorf("content outside the markers changed:\ngot\n%s\nwant\n%s", outside(got), outside(edited))
	}
	// Splicing again with the same part is a no-op.
	again, err := splice(got, "new generated part\n")
	if err != nil || again != got {
		t.Errorf("second splice changed the document (err %v)", err)
	}
}

func TestSpliceWithoutHeadingOrDocument(t *testing.T) {
	got, err := splice("# Title\n\nJust text.", "gen\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := "# Title\n\nJust text.\n\n" + beginMarker + "\ngen\n" + endMarker + "\n"; got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	got, err = splice("", "gen")
	if err != nil || got != beginMarker+"\ngen\n"+endMarker+"\n" {
		t.Errorf("empty document: got %q, %v", got, err)
	}
	// A "## " inside a code fence is not a heading.
	doc := "# T\n\n```sh\n## not a heading\n```\n\n## Real\n"
	got, err = splice(doc, "gen")
	if err != nil || !strings.Contains(got, "```\n\n"+beginMarker) || !strings.HasSuffix(got, endMarker+"\n\n## Real\n") {
		t.Errorf("fenced heading: got %q, %v", got, err)
	}
}

func TestSpliceRefusesBrokenMarkers(t *testing.T) {
	for name, doc := range map[string]string{
		"begin only": "# T\n" + beginMarker + "\nx\n",
		"end only":   "# T\n" + endMarker + "\n",
		"reversed":   endMarker + "\nx\n" + beginMarker + "\n",
		"twice":      beginMarker + endMarker + beginMarker + endMarker,
	} {
		if got, err := splice(doc, "gen"); err == nil {
			t.Errorf("%s: got no error and %q", name, got)
		}
	}
}

func TestFormat(t *testing.T) {
	for _, tt := range []struct {
		got, want string
	}{
		{fmtInt(1234567.4), "1,234,567"},
		{fmtInt(999), "999"},
		{fmtInt(1000), "1,000"},
		{fmtInt(-4321), "-4,321"},
		{fmtSig(8.123), "8.12"},
		{fmtSig(12.34), "12.3"},
		{fmtSig(0.0571), "0.0571"},
		{fmtSig(0.5), "0.500"},
		{fmtSig(1234.5), "1,235"},
		{fmtRatio(2.126), "2.13×"},
		{fmtSpread(spread{}, fmtSig), "—"},
		{fmtSpread(spread{Med: 2, Min: 2, Max: 2, N: 3}, fmtSig), "2.00"},
		{fmtSpread(spread{Med: 2, Min: 1.5, Max: 3, N: 3}, fmtRatio), "2.00× (1.50×–3.00×)"},
		{Target{AtLeast: true, Value: 2, Peer: "x"}.bound(), "≥ 2×"},
		{Target{Value: 1.15, Peer: "x"}.bound(), "≤ 1.15×"},
		{Target{Value: 1}.bound(), "≤ 1 KB"},
		{kindsText(map[string]int64{"timeout": 3, "closed": 1}), "(closed 1, timeout 3)"},
		{commandLine([]string{"-only", "c50,tokamak", "-out", "/tmp/a b.md"}), "go run ./bench/compare -only c50,tokamak -out '/tmp/a b.md'"},
	} {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}

func TestParseLoad(t *testing.T) {
	out := `{"url":"http://127.0.0.1:1/plaintext","engine":"epoll","threads":1,"conns":50,"pipeline":1,"seconds":5.001,` +
		`"requests":600000,"req_per_s":119976.0,"bytes_per_s":1,"latency_us":{"p50":401,"p90":600,"p99":1200,"p99.9":3000,"max":9000},` +
		`"statuses":{"200":599990},"errors":{"connect":0,"timeout":4,"status":6,"protocol":0,"closed":0}}` + "\n"
	r, err := parseLoad([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if r.requests != 600000 || r.rate != 119976 || r.p50 != 401 || r.p99 != 1200 || r.seconds != 5.001 {
		t.Errorf("got %+v", r)
	}
	if r.errors != 10 || r.kinds["timeout"] != 4 || r.kinds["status"] != 6 || len(r.kinds) != 2 {
		t.Errorf("errors: got %d %v, want 10 (timeout 4, status 6)", r.errors, r.kinds)
	}
	if _, err := parseLoad([]byte("load: connection refused\n")); err == nil {
		t.Error("no JSON: got no error")
	}
}

func TestParseRPCLoad(t *testing.T) {
	out := "107163 calls/s: 1071630 calls in 10.00s, c=50 depth=1 size=64 str, 2 errors, client CPU 3.1 µs/call\n" +
		`{"addr":"127.0.0.1:1","method":"echo","conns":50,"depth":1,"size":64,"kind":"str","seconds":10.0,"calls":1071630,` +
		`"calls_per_s":107163,"errors":2,"error_kinds":{"mismatch":2},"first_error":"x","client_cpu_s":3,"client_cpu_us_per_call":3.1,"client_cpu_cores":0.3}` + "\n"
	r, err := parseRPCLoad([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	if r.requests != 1071630 || r.rate != 107163 || r.errors != 2 || r.kinds["mismatch"] != 2 || r.p50 != 0 {
		t.Errorf("got %+v", r)
	}
}

const wrkOutput = `Running 5s test @ http://127.0.0.1:8080/plaintext
  1 threads and 50 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency   434.17us  120.00us   5.00ms   90.00%
    Req/Sec   115.00k     5.00k  120.00k    70.00%
  Latency Distribution
     50%  401.00us
     75%  450.00us
     90%  500.00us
     99%    1.23ms
  575000 requests in 5.00s, 70.00MB read
  Socket errors: connect 0, read 2, write 0, timeout 3
  Non-2xx or 3xx responses: 5
Requests/sec: 114954.32
Transfer/sec:     14.00MB
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk([]byte(wrkOutput))
	if err != nil {
		t.Fatal(err)
	}
	if r.requests != 575000 || r.seconds != 5 || r.rate != 114954.32 || r.p50 != 401 || r.p99 != 1230 {
		t.Errorf("got %+v", r)
	}
	if r.errors != 10 || r.kinds["read"] != 2 || r.kinds["timeout"] != 3 || r.kinds["status"] != 5 {
		t.Errorf("errors: got %d %v, want 10", r.errors, r.kinds)
	}
	clean := strings.NewReplacer("  Socket errors: connect 0, read 2, write 0, timeout 3\n", "", "  Non-2xx or 3xx responses: 5\n", "").Replace(wrkOutput)
	if r, err := parseWrk([]byte(clean)); err != nil || r.errors != 0 || r.kinds != nil {
		t.Errorf("clean output: got %+v, %v", r, err)
	}
	if _, err := parseWrk([]byte("unable to connect to 127.0.0.1:1 Connection refused\n")); err == nil {
		t.Error("no summary: got no error")
	}
}

func TestMarkdownMarksErrors(t *testing.T) {
	bad := httpRun(1, "c50", "nethttp", 100, 16)
	bad.Errors, bad.ErrorKinds = 35, map[string]int64{"timeout": 35}
	runs := []Run{
		httpRun(1, "c50", "tokamak", 200, 8), bad,
		{Rep: 1, Config: "c50", Who: "gnetraw", Failure: "gnetraw exited | before it was ready"},
	}
	cfgs, err := selectConfigs(allConfigs(100), "c50,tokamak,nethttp,gnetraw")
	if err != nil {
		t.Fatal(err)
	}
	r := &report{Reps: 1, Duration: "1s", ClkTck: 100, Pinning: "not pinned", Runs: runs, Verdicts: verdicts(runs),
		configs: cfgs, idleN: 100, svgName: "x-ratios.svg"}
	md := r.markdown()
	for _, want := range []string{
		"| c50 | tokamak | 200 |",
		"| c50 | net/http | 100 |",
		"⚠ rep 1: 35 (timeout 35)",
		`⚠ rep 1 failed: gnetraw exited \| before it was ready`,
		"| HTTP req/s vs net/http | c50 | — | ≥ 2× | unmeasured | net/http had errors in every repetition |",
		"| HTTP CPU µs/request vs gnet raw | c50 | — | ≤ 1.15× | unmeasured | gnet raw had errors in every repetition |",
		"| HTTP req/s vs fasthttp | c50 | — | ≥ 1.2× | unmeasured | no fasthttp run |",
		"![", "(x-ratios.svg)",
		"go tool pprof",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("markdown lacks %q:\n%s", want, md)
		}
	}
	if strings.Contains(md, beginMarker) || strings.Contains(md, endMarker) {
		t.Error("the generated part contains a marker")
	}
}

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// syntheticReport is a report of every kind of configuration over two
// repetitions, with errors, a failure, notes and a shared CPU.
func syntheticReport(t *testing.T, only string) *report {
	t.Helper()
	cfgs, err := selectConfigs(allConfigs(100), only)
	if err != nil {
		t.Fatal(err)
	}
	var runs []Run
	for rep := 1; rep <= 2; rep++ {
		for ci, c := range cfgs {
			for wi, w := range runOrder(c.Who, rep) {
				f := float64(1 + ci + wi + rep)
				x := Run{Rep: rep, Config: c.Name, Who: w, Server: w, Requests: 1000,
					ReqPerSec: 1000 * f, ServerCPUus: 3 / f, ServerCores: 0.5 + f/100, ClientCores: 0.9, RSSKB: int64(1024 * f),
					CPUBusy: []float64{0.6 + f/10, 0.9}}
				switch c.Kind {
				case kindIdle:
					x = Run{Rep: rep, Config: c.Name, Who: w, Server: w, IdleConns: 100, IdleBeforeKB: 2048, IdleAfterKB: 2048 + int64(50*f), KBPerConn: f / 2}
				case kindHTTP, kindTool:
					x.P50us, x.P99us = 100*f, 1000*f
				}
				if c.Kind == kindTool {
					x.Server = "tokamak"
				}
				if rep == 2 && c.Name == "c256" && w == "fasthttp" {
					x.Errors, x.ErrorKinds = 12, map[string]int64{"timeout": 12}
				}
				if rep == 1 && c.Name == "rpc-4KiB" && w == "netrpc" {
					x = Run{Rep: rep, Config: c.Name, Who: w, Server: w, Failure: "netrpc exited | before it was ready"}
				}
				runs = append(runs, x)
			}
		}
	}
	r := &report{
		Machine: machine{CPU: "Test CPU", Cores: 2, MemGiB: 4, Kernel: "Linux 6.0", Go: "go1.26", Date: time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC), LoadAvg: "0.1 0.2 0.3"},
		Command: commandLine([]string{"-reps", "2"}), Reps: 2, Duration: "1s", ClkTck: 100, Pinning: "pinned for the test",
		Notes: []string{"a note"}, Elapsed: 75, Profile: "/tmp/cpu.pprof", Runs: runs, Verdicts: verdicts(runs),
		configs: cfgs, idleN: 100, svgName: "benchmarks-ratios.svg",
	}
	return r
}

// The generated markdown, checked byte for byte against testdata: a run
// without -base must keep writing exactly this.
func TestMarkdownGolden(t *testing.T) {
	got := syntheticReport(t, "").markdown()
	file := filepath.Join("testdata", "report.golden.md")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("markdown differs from %s (go test -update rewrites it):\n%s", file, got)
	}
}
