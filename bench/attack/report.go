package main

import (
	"cmp"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"time"
)

// Result is one scenario's outcome; -json writes a list of them.
type Result struct {
	Scenario   string         `json:"scenario"`
	Scale      float64        `json:"scale"`
	TimeScale  float64        `json:"time_scale"`
	Conns      int            `json:"conns"` // attacking connections of the scenario (before re-dials)
	Params     []kv           `json:"params"`
	ServerArgv []string       `json:"server_argv"`
	Started    time.Time      `json:"started"`
	Seconds    float64        `json:"seconds"`
	Mem        memSummary     `json:"server"`
	Attack     attackSummary  `json:"attack"`
	HTTP       latencySummary `json:"bystanders_http"`
	RPC        latencySummary `json:"bystanders_rpc"`
	Figures    []kv           `json:"figures"` // the scenario's own measurements
	Bound      *bound         `json:"bound,omitempty"`
	Error      string         `json:"error,omitempty"`
	Notes      []string       `json:"notes,omitempty"`
	Timeline   []sample       `json:"timeline"`
}

type kv struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// bound is the target where it states one.
type bound struct {
	Target string `json:"target"`
	Pass   bool   `json:"pass"`
	Detail string `json:"detail"`
}

// memSummary condenses the timeline. Baseline is the sample taken after
// the bystanders' warm-up, before the attack.
type memSummary struct {
	BaselineRSSKB    int64   `json:"baseline_rss_kb"`
	PeakRSSKB        int64   `json:"peak_rss_kb"` // the larger of the sampled VmRSS and the last VmHWM
	EndRSSKB         int64   `json:"end_rss_kb"`
	BaselineTCPMemKB int64   `json:"baseline_tcp_mem_kb"`
	PeakTCPMemKB     int64   `json:"peak_tcp_mem_kb"`
	EndTCPMemKB      int64   `json:"end_tcp_mem_kb"`
	PeakOrphans      int     `json:"peak_orphans"`
	EndOrphans       int     `json:"end_orphans"`
	BaselineFDs      int     `json:"baseline_fds"`
	PeakFDs          int     `json:"peak_fds"`
	EndFDs           int     `json:"end_fds"`
	CPUSeconds       float64 `json:"cpu_seconds"` // server utime+stime during the scenario
	// Contention from other processes: the server's and this tool's time
	// runnable but waiting for a CPU, and the share of the scenario during
	// which some task on the machine waited (PSI), -1 when unknown.
	ServerWaitS float64 `json:"server_runq_wait_s"`
	ClientWaitS float64 `json:"client_runq_wait_s"`
	Pressure    float64 `json:"cpu_pressure"`
}

// summarizeTimeline computes memSummary from samples, samples[base] being
// the baseline; pageKB converts sockstat's pages.
func summarizeTimeline(samples []sample, base int, pageKB, clk int64) memSummary {
	var m memSummary
	if len(samples) == 0 {
		return m
	}
	base = min(max(base, 0), len(samples)-1)
	b, last := samples[base], samples[len(samples)-1]
	m.BaselineRSSKB, m.EndRSSKB = b.RSSKB, last.RSSKB
	m.BaselineTCPMemKB, m.EndTCPMemKB = b.TCP.MemPages*pageKB, last.TCP.MemPages*pageKB
	m.BaselineFDs, m.EndFDs, m.EndOrphans = b.FDs, last.FDs, last.TCP.Orphan
	for _, s := range samples {
		m.PeakRSSKB = max(m.PeakRSSKB, s.RSSKB, s.HWMKB)
		m.PeakTCPMemKB = max(m.PeakTCPMemKB, s.TCP.MemPages*pageKB)
		m.PeakOrphans = max(m.PeakOrphans, s.TCP.Orphan)
		m.PeakFDs = max(m.PeakFDs, s.FDs)
	}
	first := samples[0]
	if clk > 0 {
		m.CPUSeconds = float64(last.CPUTicks-first.CPUTicks) / float64(clk)
	}
	m.ServerWaitS, m.ClientWaitS, m.Pressure = -1, -1, -1
	if first.WaitNS >= 0 && last.WaitNS >= 0 {
		m.ServerWaitS = float64(max(last.WaitNS-first.WaitNS, 0)) / 1e9
	}
	if first.ClientNS >= 0 && last.ClientNS >= 0 {
		m.ClientWaitS = float64(max(last.ClientNS-first.ClientNS, 0)) / 1e9
	}
	if first.PSIUS >= 0 && last.PSIUS >= 0 && last.T > first.T {
		m.Pressure = float64(last.PSIUS-first.PSIUS) / 1e6 / (last.T - first.T)
	}
	return m
}

// contentionText says how much other processes took from the server and
// the tool.
func (m *memSummary) contentionText() string {
	if m.ServerWaitS < 0 {
		return "unknown (no schedstat)"
	}
	t := fmt.Sprintf("the server's threads waited %.1f s for a CPU, this tool's %.1f s", m.ServerWaitS, m.ClientWaitS)
	if m.Pressure >= 0 {
		t += fmt.Sprintf("; some task on the machine waited for a CPU %.0f%% of the time", 100*m.Pressure)
	}
	return t
}

// closeRec is what the summary needs of one attacking connection.
type closeRec struct {
	byServer bool
	refused  bool    // closed by the server at once (see attackers.refuseWindow)
	sent     bool    // it wrote all of its attack
	secs     float64 // from its first byte to its close, when the server closed it
	how      string  // fin, reset, …
	told     string  // what the server said first
}

// attackSummary counts the attacking connections and how they ended.
type attackSummary struct {
	Dials          int64          `json:"dials"`
	DialErrors     map[string]int `json:"dial_errors,omitempty"`
	Opened         int            `json:"opened"`
	SentAll        int            `json:"sent_all"` // connections that wrote all of their attack
	ClosedByServer int            `json:"closed_by_server"`
	Refused        int            `json:"refused_at_open,omitempty"` // closed by the server at once, not counted in ClosedByServer
	CloseP50S      float64        `json:"close_p50_s"`               // from the first byte to the close, over those the server closed
	CloseMaxS      float64        `json:"close_max_s"`
	Told           []count        `json:"told"` // what the server said and how it closed, most frequent first
}

type count struct {
	What string `json:"what"`
	N    int    `json:"n"`
}

func summarizeCloses(recs []closeRec) attackSummary {
	s := attackSummary{Opened: len(recs)}
	var secs []float64
	told := map[string]int{}
	for _, r := range recs {
		if r.sent {
			s.SentAll++
		}
		if r.refused {
			s.Refused++
		}
		if !r.byServer {
			continue
		}
		s.ClosedByServer++
		if r.secs >= 0 {
			secs = append(secs, r.secs)
		}
		t := strings.TrimPrefix(r.told, "HTTP/1.1 ")
		if t == "" {
			t = "nothing"
		}
		told[t+", then "+r.how]++
	}
	if len(secs) > 0 {
		s.CloseP50S, s.CloseMaxS = quantile(secs, 0.5), slices.Max(secs)
	}
	s.Told = sortedCounts(told)
	return s
}

// sortedCounts orders a tally by count, then name.
func sortedCounts(m map[string]int) []count {
	out := make([]count, 0, len(m))
	for k, n := range m {
		out = append(out, count{k, n})
	}
	slices.SortFunc(out, func(a, b count) int {
		if c := cmp.Compare(b.N, a.N); c != 0 {
			return c
		}
		return strings.Compare(a.What, b.What)
	})
	return out
}

// quantile returns the q-quantile of xs (nearest rank; xs is sorted in
// place). 0.5 of an even count is the lower middle.
func quantile(xs []float64, q float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	slices.Sort(xs)
	i := int(math.Ceil(q*float64(len(xs)))) - 1
	return xs[min(max(i, 0), len(xs)-1)]
}

// recoveryTime returns how long after t0 (seconds on the timeline) the
// server's RSS first fell to limitKB or below, and whether it did.
func recoveryTime(samples []sample, t0 float64, limitKB int64) (float64, bool) {
	for _, s := range samples {
		if s.T >= t0 && s.RSSKB > 0 && s.RSSKB <= limitKB {
			return s.T - t0, true
		}
	}
	return 0, false
}

// busyAfter returns how long after t0 the server stayed busy: the time
// from t0 to the start of the first run of quiet samples lasting quietFor,
// an interval being quiet when the server's threads ran or waited for a
// CPU (schedstat: a server starved by other processes is still busy) less
// than idleFrac of it. settled is false when no such run came.
func busyAfter(samples []sample, t0 float64, idleFrac float64, quietFor float64) (busy float64, settled bool) {
	var runStart float64 = -1
	for i := 1; i < len(samples); i++ {
		a, b := samples[i-1], samples[i]
		if a.T < t0 || b.T <= a.T {
			continue
		}
		frac := float64(max(b.RunNS+b.WaitNS-a.RunNS-a.WaitNS, 0)) / 1e9 / (b.T - a.T)
		if frac < idleFrac {
			if runStart < 0 {
				runStart = a.T
			}
			if b.T-runStart >= quietFor {
				return max(runStart-t0, 0), true
			}
		} else {
			runStart = -1
		}
	}
	return 0, false
}

// cpuSecondsAfter is the server CPU time used from t0 to the last sample.
func cpuSecondsAfter(samples []sample, t0 float64, clk int64) float64 {
	var first *sample
	for i := range samples {
		if samples[i].T >= t0 {
			first = &samples[i]
			break
		}
	}
	if first == nil || clk <= 0 {
		return 0
	}
	return float64(samples[len(samples)-1].CPUTicks-first.CPUTicks) / float64(clk)
}

// Formatting.

func fmtKB(kb int64) string {
	switch {
	case kb >= 10<<20:
		return fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
	case kb >= 1<<10:
		return fmt.Sprintf("%.0f MiB", float64(kb)/(1<<10))
	}
	return fmt.Sprintf("%d KiB", kb)
}

func fmtUS(us int64) string {
	switch {
	case us >= 1_000_000:
		return fmt.Sprintf("%.2f s", float64(us)/1e6)
	case us >= 10_000:
		return fmt.Sprintf("%.0f ms", float64(us)/1e3)
	case us >= 1000:
		return fmt.Sprintf("%.1f ms", float64(us)/1e3)
	}
	return fmt.Sprintf("%d µs", us)
}

func fmtSecs(s float64) string {
	if s < 10 {
		return fmt.Sprintf("%.1f s", s)
	}
	return fmt.Sprintf("%.0f s", s)
}

// toldText renders the first n entries of a tally.
func toldText(cs []count, n int) string {
	if len(cs) == 0 {
		return "–"
	}
	var parts []string
	for i, c := range cs {
		if i == n {
			parts = append(parts, fmt.Sprintf("+%d more", len(cs)-n))
			break
		}
		parts = append(parts, fmt.Sprintf("%s ×%d", c.What, c.N))
	}
	return strings.Join(parts, "; ")
}

// closedText is "closed / opened", with the refusals at open.
func (r *Result) closedText() string {
	a := &r.Attack
	t := fmt.Sprintf("%d / %d", a.ClosedByServer, a.Opened)
	if a.Refused > 0 {
		t += fmt.Sprintf(" (+%d refused at open)", a.Refused)
	}
	if n := sumCounts(a.DialErrors); n > 0 {
		t += fmt.Sprintf(" (%d dials failed)", n)
	}
	return t
}

func sumCounts(m map[string]int) int {
	n := 0
	for _, k := range m {
		n += k
	}
	return n
}

func (r *Result) closeText() string {
	a := &r.Attack
	if a.ClosedByServer == 0 {
		return "–"
	}
	return fmt.Sprintf("%s / %s", fmtSecs(a.CloseP50S), fmtSecs(a.CloseMaxS))
}

func bystanderText(l latencySummary) string {
	if l.N == 0 {
		return "no answers"
	}
	return fmt.Sprintf("%s / %s / %s", fmtUS(l.P50US), fmtUS(l.P99US), fmtUS(l.MaxUS))
}

func errorsText(l latencySummary) string {
	if l.Errors == 0 {
		return "0"
	}
	return fmt.Sprintf("%d (%s)", l.Errors, toldText(sortedCounts(l.Kinds), 2))
}

func (r *Result) boundText() string {
	switch {
	case r.Error != "":
		return "error"
	case r.Bound == nil:
		return "–"
	case r.Bound.Pass:
		return "pass: " + r.Bound.Detail
	}
	return "**fail**: " + r.Bound.Detail
}

// writeText prints the human-readable summary of one scenario.
func (r *Result) writeText(w io.Writer) {
	fmt.Fprintf(w, "\n== %s (scale %g, time %g): %d connections, %.0f s\n", r.Scenario, r.Scale, r.TimeScale, r.Conns, r.Seconds)
	if r.Error != "" {
		fmt.Fprintf(w, "   ERROR: %s\n", r.Error)
	}
	for _, p := range r.Params {
		fmt.Fprintf(w, "   %-28s %s\n", p.Name, p.Value)
	}
	m := &r.Mem
	fmt.Fprintf(w, "   server RSS                   baseline %s, peak %s, end %s; CPU %.1f s\n", fmtKB(m.BaselineRSSKB), fmtKB(m.PeakRSSKB), fmtKB(m.EndRSSKB), m.CPUSeconds)
	fmt.Fprintf(w, "   server descriptors           baseline %d, peak %d, end %d\n", m.BaselineFDs, m.PeakFDs, m.EndFDs)
	fmt.Fprintf(w, "   contention                   %s\n", m.contentionText())
	fmt.Fprintf(w, "   kernel TCP memory            baseline %s, peak %s, end %s; orphans peak %d, end %d\n", fmtKB(m.BaselineTCPMemKB), fmtKB(m.PeakTCPMemKB), fmtKB(m.EndTCPMemKB), m.PeakOrphans, m.EndOrphans)
	a := &r.Attack
	fmt.Fprintf(w, "   attackers                    %d dials, %d opened, %d sent all, %d closed by the server", a.Dials, a.Opened, a.SentAll, a.ClosedByServer)
	if a.ClosedByServer > 0 {
		fmt.Fprintf(w, " (first byte to close: p50 %s, max %s)", fmtSecs(a.CloseP50S), fmtSecs(a.CloseMaxS))
	}
	if a.Refused > 0 {
		fmt.Fprintf(w, ", %d refused at open", a.Refused)
	}
	fmt.Fprintln(w)
	if len(a.DialErrors) > 0 {
		fmt.Fprintf(w, "   dial errors                  %s\n", toldText(sortedCounts(a.DialErrors), 6))
	}
	if len(a.Told) > 0 {
		fmt.Fprintf(w, "   told                         %s\n", toldText(a.Told, 6))
	}
	fmt.Fprintf(w, "   bystanders HTTP (%d)          p50/p99/max %s, %d answers, errors %s\n", r.HTTP.Clients, bystanderText(r.HTTP), r.HTTP.N, errorsText(r.HTTP))
	fmt.Fprintf(w, "   bystander RPC ping (%d)       p50/p99/max %s, %d answers, errors %s\n", r.RPC.Clients, bystanderText(r.RPC), r.RPC.N, errorsText(r.RPC))
	for _, f := range r.Figures {
		fmt.Fprintf(w, "   %-28s %s\n", f.Name, f.Value)
	}
	if r.Bound != nil {
		fmt.Fprintf(w, "   bound: %s → %s\n", r.Bound.Target, r.boundText())
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "   note: %s\n", n)
	}
}

// report is the whole run, for -json and the markdown block.
type report struct {
	Date      time.Time `json:"date"`
	Command   string    `json:"command"`
	Server    string    `json:"server"`
	Pinning   string    `json:"pinning"`
	Machine   string    `json:"machine"`
	ClkTck    int64     `json:"clk_tck"`
	PageSize  int64     `json:"page_size"`
	Elapsed   float64   `json:"elapsed_s"`
	Notes     []string  `json:"notes,omitempty"`
	Scenarios []*Result `json:"scenarios"`
}

// Markers around the block meant for docs/benchmarks.md.
const (
	mdBegin = "<!-- bench/attack:begin -->"
	mdEnd   = "<!-- bench/attack:end -->"
)

// markdown renders the report as a block for docs/benchmarks.md.
func (rep *report) markdown() string {
	var b strings.Builder
	b.WriteString(mdBegin + "\n")
	fmt.Fprintf(&b, "### Attacks of issue 9 (`%s`)\n\n", rep.Command)
	fmt.Fprintf(&b, "%s, %s; %s; %.0f s in all. Server: `%s`. Times to close run from a connection's first byte. ",
		rep.Date.UTC().Format("2006-01-02 15:04 UTC"), rep.Machine, rep.Pinning, rep.Elapsed, rep.Server)
	b.WriteString("Bystanders: keep-alive HTTP GET /plaintext and one MessagePack-RPC ping, p50 / p99 / max of good answers; errors include 2 s timeouts. ")
	b.WriteString("TCP mem is the machine's (/proc/net/sockstat).\n\n")
	b.WriteString("| scenario | scale | conns | peak RSS | end RSS | TCP mem peak | closed by server | close p50 / max | told | HTTP bystanders p50 / p99 / max | RPC bystander p50 / p99 / max | bystander errors | bound |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	for _, r := range rep.Scenarios {
		fmt.Fprintf(&b, "| %s | %g | %d | %s | %s | %s | %s | %s | %s | %s | %s | %d | %s |\n",
			r.Scenario, r.Scale, r.Conns, fmtKB(r.Mem.PeakRSSKB), fmtKB(r.Mem.EndRSSKB), fmtKB(r.Mem.PeakTCPMemKB),
			r.closedText(), r.closeText(), mdEscape(toldText(r.Attack.Told, 2)),
			bystanderText(r.HTTP), bystanderText(r.RPC), r.HTTP.Errors+r.RPC.Errors, mdEscape(r.boundText()))
	}
	b.WriteString("\n")
	for _, r := range rep.Scenarios {
		var parts []string
		for _, f := range r.Figures {
			parts = append(parts, f.Name+": "+f.Value)
		}
		if r.Error != "" {
			parts = append(parts, "error: "+r.Error)
		}
		parts = append(parts, "contention: "+r.Mem.contentionText())
		parts = append(parts, r.Notes...)
		if len(parts) > 0 {
			fmt.Fprintf(&b, "- **%s**: %s.\n", r.Scenario, mdEscape(strings.Join(parts, "; ")))
		}
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(&b, "- %s\n", mdEscape(n))
	}
	b.WriteString(mdEnd + "\n")
	return b.String()
}

func mdEscape(s string) string { return strings.ReplaceAll(s, "|", `\|`) }
