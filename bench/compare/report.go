package main

import (
	"errors"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tokamak-io/tokamak/bench/internal/benchproc"
)

// The generated part of docs/benchmarks.md sits between these markers;
// everything outside them is written by hand and kept.
const (
	beginMarker = "<!-- bench/compare:begin -->"
	endMarker   = "<!-- bench/compare:end -->"
)

// machine describes where the runs took place.
type machine struct {
	CPU     string    `json:"cpu"`
	Cores   int       `json:"cores"`
	MemGiB  float64   `json:"mem_gib,omitempty"`
	Kernel  string    `json:"kernel"`
	Go      string    `json:"go"`
	Wrk     string    `json:"wrk,omitempty"`
	Date    time.Time `json:"date"`
	LoadAvg string    `json:"loadavg,omitempty"`
}

// describeMachine reads /proc and asks uname, go and wrk for versions.
func describeMachine(wrk string) machine {
	m := machine{Date: time.Now().UTC(), Cores: runtime.NumCPU(), Go: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		var n int
		m.CPU, n = cpuModel(b)
		if n > 0 {
			m.Cores = n
		}
	}
	if m.CPU == "" {
		m.CPU = runtime.GOARCH
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if kb, err := benchproc.ParseStatusKB(b, "MemTotal"); err == nil {
			m.MemGiB = float64(kb) / (1 << 20)
		}
	}
	if out, err := exec.Command("uname", "-srm").Output(); err == nil {
		m.Kernel = strings.TrimSpace(string(out))
	} else if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = "Linux " + strings.TrimSpace(string(b))
	}
	if out, err := exec.Command("go", "version").Output(); err == nil {
		if f := strings.Fields(string(out)); len(f) >= 3 {
			m.Go = f[2]
		}
	}
	if wrk != "" {
		out, _ := exec.Command(wrk, "-v").CombinedOutput() // wrk -v exits 1
		if f := strings.Fields(string(out)); len(f) >= 2 && f[0] == "wrk" {
			m.Wrk = "wrk " + f[1]
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		if f := strings.Fields(string(b)); len(f) >= 3 {
			m.LoadAvg = strings.Join(f[:3], " ")
		}
	}
	return m
}

// report is everything the harness found; -json writes it whole.
type report struct {
	Machine  machine     `json:"machine"`
	Command  string      `json:"command"`
	Reps     int         `json:"reps"`
	Duration string      `json:"duration"`
	ClkTck   int64       `json:"clk_tck"`
	Pinning  string      `json:"pinning"`
	Notes    []string    `json:"notes,omitempty"`
	Elapsed  float64     `json:"elapsed_s"`
	Profile  string      `json:"profile,omitempty"`
	Runs     []Run       `json:"runs"`
	Verdicts []Verdict   `json:"verdicts"`
	Base     *baseReport `json:"base,omitempty"` // with -base

	configs []Config
	idleN   int
	svgName string // the chart's file name, beside the markdown
}

// verdicts evaluates every target that applies to the runs.
func verdicts(runs []Run) []Verdict {
	var vs []Verdict
	for _, t := range targets() {
		if v, ok := evaluate(runs, t); ok {
			vs = append(vs, v)
		}
	}
	return vs
}

// markdown renders the generated part of docs/benchmarks.md (without the
// markers).
func (r *report) markdown() string {
	var b strings.Builder
	p := func(format string, a ...any) { fmt.Fprintf(&b, format, a...) }
	m := r.Machine
	p("## Side-by-side results (`bench/compare`)\n\n")
	p("Generated on %s by\n\n```sh\n%s\n```\n\n", m.Date.Format("2006-01-02 15:04 MST"), r.Command)
	p("%d repetition(s) of %s per run, %s in all (build included); within every repetition the contestants of a configuration run one after another, in reverse order every other repetition (A B C D, D C B A, …), so that over an even number of repetitions a drift of the machine's speed over minutes favours neither side of a ratio.\n\n",
		r.Reps, r.Duration, (time.Duration(r.Elapsed) * time.Second).String())
	p("%s", m.line())
	p("- Pinning: %s\n", r.Pinning)
	p("- Every server runs with `GOMAXPROCS=1`, tokamak and gnet raw with one event loop (`-loops 1`): the figures are per core. A fresh server on a fresh port serves each run and is stopped with SIGTERM after it.\n")
	p("- Load: HTTP `GET /plaintext` from `bench/load -threads 1` (keep-alive; `-pipeline 16` for ×16); MessagePack-RPC echo from `bench/prelim/rpcload`, one call in flight per connection (16 for `-d16`), every answer checked; tokamak is called `echo`, the net/rpc peer `Echo.Echo`.\n")
	p("- Server CPU per request: utime + stime of the server (fields 14 and 15 of `/proc/<pid>/stat`, %d ticks per second) across the load tool's run, divided by the requests it completed. Server cores: that CPU time over the wall time; client cores: the load tool's CPU time over its wall time (near 1.0, the client set the pace).\n", r.ClkTck)
	p("- RSS: the server's `VmRSS` (`/proc/<pid>/status`) at the end of the run.")
	if anyKind(r.configs, kindIdle) {
		p(" Idle memory: `VmRSS` while the harness holds %s keep-alive connections that each sent one `GET /plaintext` and read the answer (read %v after the last answer), minus `VmRSS` before them, divided by the connections held.", fmtInt(float64(r.idleN)), idleSettle)
	}
	p("\n")
	p("- Each cell: median over the repetitions (min–max). A run with errors is marked ⚠, counted in the tables and left out of the ratios. Ratios are taken within each repetition (the two runs are at most three runs apart), then summarised by median and range.\n")
	r.notes(&b)
	p("\n")

	r.tables(&b)
	r.ratioTable(&b)
	r.targetTable(&b)
	if r.svgName != "" && len(r.Verdicts) > 0 {
		p("![tokamak's ratios against the DESIGN.md §8 targets: median and range per target](%s)\n\n", r.svgName)
	}
	p("### Reading a CPU profile\n\n")
	p("`go run ./bench/compare -profile cpu.pprof` adds one run of tokamak under c256-p16 (the heaviest configuration; not counted in the tables) with the server's `-cpuprofile` flag; the server writes the profile when it exits on SIGTERM.")
	if r.Profile != "" {
		p(" This run's profile: `%s`.", r.Profile)
	}
	p(" Read it with\n\n")
	p("```sh\n")
	p("go tool pprof -top -nodecount=30 cpu.pprof        # flat: the functions the samples fall in\n")
	p("go tool pprof -top -cum -nodecount=30 cpu.pprof   # cumulative: who calls them\n")
	p("go tool pprof -list 'http1\\..*Decode' cpu.pprof   # line by line, for matching functions\n")
	p("go tool pprof -http=127.0.0.1:0 cpu.pprof         # call graph and flame graph in a browser\n")
	p("```\n\n")
	p("The profile counts CPU time of every thread, user and kernel: time inside `read`, `write` and `epoll_wait` shows up under the frame that made the system call (`internal/runtime/syscall/linux.Syscall6`, reached from gnet through `golang.org/x/sys/unix`). On loopback most of a keep-alive request is kernel time, so tokamak's own cost is what lies outside those frames; `-focus=tokamak` narrows the view to the project's packages.\n")
	return b.String()
}

// line is the machine as a list item of the report.
func (m *machine) line() string {
	mem := ""
	if m.MemGiB > 0 {
		mem = fmt.Sprintf(", %.0f GiB", m.MemGiB)
	}
	wrk := "wrk not installed"
	if m.Wrk != "" {
		wrk = m.Wrk
	}
	return fmt.Sprintf("- Machine: %s, %d CPUs%s; %s; %s; %s; load average at the start %s.\n", m.CPU, m.Cores, mem, m.Kernel, m.Go, wrk, orDash(m.LoadAvg))
}

// notes writes the notes of the report as list items: a shared machine,
// then the harness's notes.
func (r *report) notes(b *strings.Builder) {
	if n, of := r.sharedRuns(); n > 0 {
		fmt.Fprintf(b, "- Note: in %d of %d runs the server's CPU was also busy with other work (its busy fraction in `/proc/stat` exceeded the server's own use by more than %.2f of a core; `cpu_busy` in -json): the machine was shared, expect noise.\n", n, of, sharedSlack)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(b, "- Note: %s\n", n)
	}
}

// sharedSlack is how much more than the server's own CPU use its CPU may
// be busy (softirq work for its sockets, the harness) before a run counts
// as shared with other work.
const sharedSlack = 0.25

// sharedRuns counts the pinned runs whose server CPU was busy with other
// work, out of the pinned runs.
func (r *report) sharedRuns() (n, of int) {
	for i := range r.Runs {
		x := &r.Runs[i]
		if len(x.CPUBusy) != 2 || x.CPUBusy[0] < 0 {
			continue
		}
		of++
		if x.CPUBusy[0]-x.ServerCores > sharedSlack {
			n++
		}
	}
	return n, of
}

// column is one column of a markdown table whose rows are Ts: its title
// and how a row fills its cell.
type column[T any] struct {
	title string
	cell  func(T) string
}

// writeTable writes a markdown table of rows, and a blank line after it.
// An empty title leaves its header cell blank.
func writeTable[T any](b *strings.Builder, cols []column[T], rows []T) {
	b.WriteString("|")
	for _, c := range cols {
		if c.title != "" {
			b.WriteString(" " + c.title)
		}
		b.WriteString(" |")
	}
	b.WriteString("\n" + strings.Repeat("|---", len(cols)) + "|\n")
	for _, row := range rows {
		b.WriteString("|")
		for _, c := range cols {
			b.WriteString(" " + c.cell(row) + " |")
		}
		b.WriteString("\n")
	}
	b.WriteString("\n")
}

// entry is a row of the tables of runs: a configuration and a contestant.
type entry struct {
	c   *Config
	who string
}

// figColumn is the median (range) of fig in the runs of a row.
func (r *report) figColumn(title, fig string, f func(float64) string) column[entry] {
	return column[entry]{title, func(e entry) string { return r.cell(e.c.Name, e.who, fig, f) }}
}

// runColumn is the median (range) of get over the runs of a row.
func (r *report) runColumn(title string, get func(*Run) float64, f func(float64) string) column[entry] {
	return column[entry]{title, func(e entry) string { return r.cellOf(e.c.Name, e.who, get, f) }}
}

var configColumn = column[entry]{"config", func(e entry) string { return e.c.Name }}

func whoColumn(title string) column[entry] {
	return column[entry]{title, func(e entry) string { return displayName(e.who) }}
}

// tables writes the per-kind tables of medians, a row per configuration
// and contestant.
func (r *report) tables(b *strings.Builder) {
	rate, p50, p99 := r.figColumn("req/s", figRate, fmtInt), r.figColumn("p50 µs", figP50, fmtInt), r.figColumn("p99 µs", figP99, fmtInt)
	serverCores := r.runColumn("server cores", func(x *Run) float64 { return x.ServerCores }, fmt2)
	clientCores := r.runColumn("client cores", func(x *Run) float64 { return x.ClientCores }, fmt2)
	rss := r.runColumn("RSS MB", func(x *Run) float64 { return float64(x.RSSKB) / 1024 }, fmt1)
	errs := column[entry]{"errors", func(e entry) string { return r.errCell(e.c.Name, e.who) }}
	idleConns := 0
	if i := slices.IndexFunc(r.configs, func(c Config) bool { return c.Kind == kindIdle }); i >= 0 {
		idleConns = r.configs[i].Conns
	}
	for _, s := range []struct {
		kind  kind
		title string
		cols  []column[entry]
	}{
		{kindHTTP, "HTTP GET /plaintext", []column[entry]{configColumn, whoColumn("server"),
			rate, p50, p99, r.figColumn("server CPU µs/req", figCPU, fmtSig), serverCores, clientCores, rss, errs}},
		{kindRPC, "MessagePack-RPC echo", []column[entry]{configColumn, whoColumn("server"),
			r.figColumn("calls/s", figRate, fmtInt), r.figColumn("server CPU µs/call", figCPU, fmtSig), serverCores, clientCores, rss, errs}},
		{kindIdle, fmt.Sprintf("Idle keep-alive memory (%s connections)", fmtInt(float64(idleConns))), []column[entry]{whoColumn("server"),
			r.figColumn("KB per connection", figKB, fmtSig),
			r.runColumn("RSS before MB", func(x *Run) float64 { return float64(x.IdleBeforeKB) / 1024 }, fmt1),
			r.runColumn("RSS after MB", func(x *Run) float64 { return float64(x.IdleAfterKB) / 1024 }, fmt1),
			r.runColumn("connections held", func(x *Run) float64 { return float64(x.IdleConns) }, fmtInt), errs}},
		{kindTool, "bench/load vs wrk, both against tokamak", []column[entry]{configColumn, whoColumn("load tool"),
			rate, p50, p99, r.figColumn("tokamak CPU µs/req", figCPU, fmtSig), clientCores, errs}},
	} {
		var rows []entry
		for i := range r.configs {
			if c := &r.configs[i]; c.Kind == s.kind {
				for _, w := range c.Who {
					rows = append(rows, entry{c, w})
				}
			}
		}
		if len(rows) > 0 {
			fmt.Fprintf(b, "### %s\n\n", s.title)
			writeTable(b, s.cols, rows)
		}
	}
}

// pair is a row of the ratio tables: subject's figures over peer's in one
// configuration.
type pair struct{ cfg, subj, peer string }

// ratioColumn is the median (range) of the per-repetition ratios of fig.
func (r *report) ratioColumn(title, fig string) column[pair] {
	return column[pair]{title, func(x pair) string {
		return fmtSpread(summarize(ratios(r.Runs, x.cfg, fig, x.subj, x.peer).Vals), fmtRatio)
	}}
}

// ratioTable writes every subject/peer ratio, target or not. The base
// build has its own table (baseMarkdown).
func (r *report) ratioTable(b *strings.Builder) {
	var rows []pair
	for _, c := range r.configs {
		s := c.subject()
		if !has(r.Runs, c.Name, s) {
			continue
		}
		for _, w := range c.Who {
			if w != s && w != baseName && has(r.Runs, c.Name, w) {
				rows = append(rows, pair{c.Name, s, w})
			}
		}
	}
	if len(rows) == 0 {
		return
	}
	b.WriteString("### Ratios per repetition\n\n")
	writeTable(b, []column[pair]{
		{"config", func(x pair) string { return x.cfg }},
		{"ratio", func(x pair) string { return displayName(x.subj) + " / " + displayName(x.peer) }},
		r.ratioColumn("req/s", figRate), r.ratioColumn("server CPU per request", figCPU), r.ratioColumn("KB per idle connection", figKB),
	}, rows)
}

// targetTable writes the DESIGN.md §8 verdicts.
func (r *report) targetTable(b *strings.Builder) {
	if len(r.Verdicts) == 0 {
		return
	}
	b.WriteString("### Targets (DESIGN.md §8)\n\n")
	writeTable(b, []column[Verdict]{
		{"target", func(v Verdict) string { return v.What }},
		{"config", func(v Verdict) string { return v.Config }},
		{"measured: median (range)", func(v Verdict) string {
			if v.Peer == "" {
				return fmtSpread(v.Got, func(x float64) string { return fmtSig(x) + " KB" })
			}
			return fmtSpread(v.Got, fmtRatio)
		}},
		{"target", Verdict.bound},
		{"verdict", func(v Verdict) string {
			if v.Status == statusUnmeasured {
				return v.Status
			}
			return "**" + v.Status + "**"
		}},
		{"", func(v Verdict) string { return v.Note }},
	}, r.Verdicts)
}

// cell is the median (range) of fig over the runs of (cfg, who) that
// measured it.
func (r *report) cell(cfg, who, fig string, f func(float64) string) string {
	return r.cellOf(cfg, who, func(x *Run) float64 { return x.figure(fig) }, f)
}

func (r *report) cellOf(cfg, who string, get func(*Run) float64, f func(float64) string) string {
	return fmtSpread(summarize(values(r.Runs, cfg, who, get)), f)
}

// values are get of the runs of (cfg, who) that did not fail (errors
// included, as the tables show them) and measured it.
func values(runs []Run, cfg, who string, get func(*Run) float64) []float64 {
	var vals []float64
	for i := range runs {
		x := &runs[i]
		if x.Config == cfg && x.Who == who && x.Failure == "" {
			if v := get(x); v > 0 {
				vals = append(vals, v)
			}
		}
	}
	return vals
}

// errCell lists the errors and failures of the runs of (cfg, who).
func (r *report) errCell(cfg, who string) string {
	var parts []string
	for i := range r.Runs {
		x := &r.Runs[i]
		if x.Config != cfg || x.Who != who || !x.bad() {
			continue
		}
		if x.Failure != "" {
			parts = append(parts, fmt.Sprintf("⚠ rep %d failed: %s", x.Rep, mdEscape(shorten(x.Failure, 120))))
		} else {
			parts = append(parts, fmt.Sprintf("⚠ rep %d: %s %s", x.Rep, fmtInt(float64(x.Errors)), kindsText(x.ErrorKinds)))
		}
	}
	if len(parts) == 0 {
		return "0"
	}
	return strings.Join(parts, "; ")
}

// kindsText is "(timeout 3, closed 1)", sorted by kind.
func kindsText(kinds map[string]int64) string {
	if len(kinds) == 0 {
		return ""
	}
	var ks []string
	for k := range kinds {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	parts := make([]string, 0, len(ks))
	for _, k := range ks {
		parts = append(parts, fmt.Sprintf("%s %d", k, kinds[k]))
	}
	return "(" + strings.Join(parts, ", ") + ")"
}

// splice puts gen between the markers in doc, keeping everything outside
// them. Without markers, they are inserted with gen before the first
// second-level heading (after the title and the introduction), or at the
// end when there is none. One marker without the other, markers out of
// order or repeated are errors: the document was edited by hand and the
// harness will not guess.
func splice(doc, gen string) (string, error) {
	gen = strings.TrimRight(gen, "\n") + "\n"
	nb, ne := strings.Count(doc, beginMarker), strings.Count(doc, endMarker)
	switch {
	case nb == 0 && ne == 0:
		block := beginMarker + "\n" + gen + endMarker + "\n"
		if doc == "" {
			return block, nil
		}
		at := headingAt(doc)
		if at < 0 {
			return strings.TrimRight(doc, "\n") + "\n\n" + block, nil
		}
		return doc[:at] + block + "\n" + doc[at:], nil
	case nb == 1 && ne == 1:
		i := strings.Index(doc, beginMarker)
		j := strings.Index(doc, endMarker)
		if j < i {
			return "", errors.New("the end marker comes before the begin marker")
		}
		return doc[:i+len(beginMarker)] + "\n" + gen + doc[j:], nil
	}
	return "", fmt.Errorf("want one %s and one %s, found %d and %d", beginMarker, endMarker, nb, ne)
}

// headingAt returns the offset of the first line starting with "## ", or -1.
func headingAt(doc string) int {
	off := 0
	inFence := false
	for line := range strings.SplitAfterSeq(doc, "\n") {
		if strings.HasPrefix(line, "```") {
			inFence = !inFence
		}
		if !inFence && strings.HasPrefix(line, "## ") {
			return off
		}
		off += len(line)
	}
	return -1
}

// Number formatting.

// fmtInt is v rounded, with thousands separators: 1,234,567.
func fmtInt(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// fmtSig is v with three significant digits (whole numbers from 100 up).
func fmtSig(v float64) string {
	a := math.Abs(v)
	switch {
	case a >= 100:
		return fmtInt(v)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(v, 'f', 2, 64)
	case a == 0:
		return "0"
	}
	return strconv.FormatFloat(v, 'f', 2-int(math.Floor(math.Log10(a))), 64)
}

func fmtRatio(v float64) string { return fmtSig(v) + "×" }
func fmt1(v float64) string     { return strconv.FormatFloat(v, 'f', 1, 64) }
func fmt2(v float64) string     { return strconv.FormatFloat(v, 'f', 2, 64) }

// fmtSpread is "median (min–max)", the median alone for one value or no
// spread, and "—" for none.
func fmtSpread(s spread, f func(float64) string) string {
	switch {
	case s.N == 0:
		return "—"
	case s.N == 1 || f(s.Min) == f(s.Max):
		return f(s.Med)
	}
	return fmt.Sprintf("%s (%s–%s)", f(s.Med), f(s.Min), f(s.Max))
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

func shorten(s string, n int) string {
	r := []rune(strings.Join(strings.Fields(s), " "))
	if len(r) <= n {
		return string(r)
	}
	return string(r[:n]) + "…"
}

// mdEscape keeps a message from breaking a table row.
func mdEscape(s string) string {
	return strings.NewReplacer("|", `\|`, "`", "'", "\n", " ").Replace(s)
}
