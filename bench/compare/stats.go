package main

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Run is one measured run: one configuration against one contestant in one
// repetition. Zero in a figure means "not measured" (rpcload reports no
// latency, an idle run no requests).
type Run struct {
	Rep     int       `json:"rep"`
	Config  string    `json:"config"`
	Who     string    `json:"who"`    // the contestant: a server, or a load tool for the wrk configurations
	Server  string    `json:"server"` // the server process that was measured
	Started time.Time `json:"started"`
	Pinned  bool      `json:"pinned"`
	Command []string  `json:"command,omitempty"` // the load command, or empty for the idle runs

	Seconds     float64   `json:"seconds"`
	Requests    int64     `json:"requests"`
	ReqPerSec   float64   `json:"req_per_s"`
	P50us       float64   `json:"p50_us,omitempty"`
	P99us       float64   `json:"p99_us,omitempty"`
	ServerTicks int64     `json:"server_cpu_ticks"`
	ServerCPUus float64   `json:"server_cpu_us_per_req,omitempty"`
	ServerCores float64   `json:"server_cores,omitempty"` // server CPU time over the window's wall time
	ClientCores float64   `json:"client_cores,omitempty"` // the load tool's CPU time over its wall time
	RSSKB       int64     `json:"rss_kb,omitempty"`       // the server's VmRSS at the end of the window
	CPUBusy     []float64 `json:"cpu_busy,omitempty"`     // busy fraction of the server's and the load's CPU over the window

	IdleConns    int     `json:"idle_conns,omitempty"` // connections opened, answered and held
	IdleBeforeKB int64   `json:"idle_rss_before_kb,omitempty"`
	IdleAfterKB  int64   `json:"idle_rss_after_kb,omitempty"`
	KBPerConn    float64 `json:"kb_per_conn,omitempty"`

	Errors     int64            `json:"errors"`
	ErrorKinds map[string]int64 `json:"error_kinds,omitempty"`
	Failure    string           `json:"failure,omitempty"` // the run could not be completed
}

// bad reports whether the run had errors or failed: its figures are shown
// marked, and left out of the ratios.
func (r *Run) bad() bool { return r.Errors > 0 || r.Failure != "" }

// Figures a run is summarised by.
const (
	figRate = "req/s"
	figCPU  = "cpu"
	figKB   = "kb"
	figP50  = "p50"
	figP99  = "p99"
	figRSS  = "rss"
)

// figure returns one figure of a run, 0 when it was not measured.
func (r *Run) figure(fig string) float64 {
	switch fig {
	case figRate:
		return r.ReqPerSec
	case figCPU:
		return r.ServerCPUus
	case figKB:
		return r.KBPerConn
	case figP50:
		return r.P50us
	case figP99:
		return r.P99us
	case figRSS:
		return float64(r.RSSKB)
	}
	panic("compare: unknown figure " + fig)
}

// spread is the median and the range of a set of values.
type spread struct {
	Med float64 `json:"median"`
	Min float64 `json:"min"`
	Max float64 `json:"max"`
	N   int     `json:"n"`
}

// summarize returns the median (the mean of the middle two for an even
// count) and the range of vals; N is 0 for no values.
func summarize(vals []float64) spread {
	if len(vals) == 0 {
		return spread{}
	}
	s := slices.Clone(vals)
	slices.Sort(s)
	n := len(s)
	med := s[n/2]
	if n%2 == 0 {
		med = (s[n/2-1] + s[n/2]) / 2
	}
	return spread{Med: med, Min: s[0], Max: s[n-1], N: n}
}

// find returns the run of (rep, config, who), or nil.
func find(runs []Run, rep int, config, who string) *Run {
	for i := range runs {
		if r := &runs[i]; r.Rep == rep && r.Config == config && r.Who == who {
			return r
		}
	}
	return nil
}

// has reports whether any run of (config, who) exists.
func has(runs []Run, config, who string) bool {
	for i := range runs {
		if runs[i].Config == config && runs[i].Who == who {
			return true
		}
	}
	return false
}

// ratioSet is a figure of subject over the same figure of peer, taken per
// repetition: the two runs of a repetition are at most three runs apart.
type ratioSet struct {
	Vals     []float64 // from clean pairs
	Reps     []int     // the repetition of each value
	Left     []int     // the repetitions left out because a run had errors or failed
	Pairs    int       // repetitions in which both ran
	Excluded int       // pairs left out: len(Left)
	SubjBad  int       // of those, pairs in which the subject's run was bad
}

// ratios pairs the runs of subject and peer in each repetition of config.
func ratios(runs []Run, config, fig, subject, peer string) ratioSet {
	var rs ratioSet
	for i := range runs {
		s := &runs[i]
		if s.Config != config || s.Who != subject {
			continue
		}
		p := find(runs, s.Rep, config, peer)
		if p == nil {
			continue
		}
		rs.Pairs++
		if s.bad() || p.bad() {
			rs.Excluded++
			rs.Left = append(rs.Left, s.Rep)
			if s.bad() {
				rs.SubjBad++
			}
			continue
		}
		if a, b := s.figure(fig), p.figure(fig); a > 0 && b > 0 {
			rs.Vals = append(rs.Vals, a/b)
			rs.Reps = append(rs.Reps, s.Rep)
		}
	}
	return rs
}

// Target is one figure of DESIGN.md §8: Subject's figure over Peer's,
// within each repetition, against Value; with no Peer, Subject's figure
// itself.
type Target struct {
	Config  string  `json:"config"`
	Figure  string  `json:"figure"`
	Subject string  `json:"subject"`
	Peer    string  `json:"peer,omitempty"`
	AtLeast bool    `json:"at_least"` // the figure must be ≥ Value; otherwise ≤ Value
	Value   float64 `json:"value"`
	What    string  `json:"what"` // what is compared, for the tables
}

// meets reports whether v satisfies the target.
func (t Target) meets(v float64) bool {
	if t.AtLeast {
		return v >= t.Value
	}
	return v <= t.Value
}

// bound is the target as text: "≥ 2×", "≤ 1 KB".
func (t Target) bound() string {
	op := "≤"
	if t.AtLeast {
		op = "≥"
	}
	if t.Peer == "" {
		return fmt.Sprintf("%s %s KB", op, trimFloat(t.Value))
	}
	return fmt.Sprintf("%s %s×", op, trimFloat(t.Value))
}

// Verdict statuses.
const (
	statusMet        = "met"
	statusMissed     = "missed"
	statusUnmeasured = "unmeasured"
)

// Verdict is a target with what the runs say about it.
type Verdict struct {
	Target
	Got    spread `json:"measured"` // the ratio (or the value) over clean repetitions
	MetIn  int    `json:"met_in"`   // clean repetitions in which the target held
	Status string `json:"status"`
	Note   string `json:"note"`
}

// evaluate judges t on runs. ok is false when the subject never ran in
// t's configuration (the row does not apply to this run of the harness).
// A repetition in which either run had errors or failed is left out; when
// none is left the target is missed if the subject's runs were the bad
// ones, and unmeasured otherwise (a missing or failing peer says nothing
// about tokamak).
func evaluate(runs []Run, t Target) (v Verdict, ok bool) {
	if !has(runs, t.Config, t.Subject) {
		return v, false
	}
	v.Target = t
	var vals []float64
	var excluded, subjBad, pairs int
	if t.Peer == "" {
		for i := range runs {
			r := &runs[i]
			if r.Config != t.Config || r.Who != t.Subject {
				continue
			}
			pairs++
			if r.bad() {
				excluded++
				subjBad++
			} else if x := r.figure(t.Figure); x > 0 {
				vals = append(vals, x)
			}
		}
	} else {
		if !has(runs, t.Config, t.Peer) {
			v.Status = statusUnmeasured
			v.Note = fmt.Sprintf("no %s run", displayName(t.Peer))
			return v, true
		}
		rs := ratios(runs, t.Config, t.Figure, t.Subject, t.Peer)
		vals, excluded, subjBad, pairs = rs.Vals, rs.Excluded, rs.SubjBad, rs.Pairs
	}
	v.Got = summarize(vals)
	for _, x := range vals {
		if t.meets(x) {
			v.MetIn++
		}
	}
	switch {
	case len(vals) > 0:
		v.Status = statusMissed
		if t.meets(v.Got.Med) {
			v.Status = statusMet
		}
		v.Note = fmt.Sprintf("met in %d of %d", v.MetIn, len(vals))
		if excluded > 0 {
			v.Note += fmt.Sprintf("; %d of %d repetitions left out for errors", excluded, pairs)
		}
	case subjBad > 0:
		v.Status = statusMissed
		v.Note = fmt.Sprintf("%s had errors in %d of %d repetitions", displayName(t.Subject), subjBad, pairs)
	case excluded > 0:
		v.Status = statusUnmeasured
		v.Note = fmt.Sprintf("%s had errors in every repetition", displayName(t.Peer))
	default:
		v.Status = statusUnmeasured
		v.Note = "no repetition with both runs"
	}
	return v, true
}

// trimFloat formats v without trailing zeros: 2, 1.15, 0.9.
func trimFloat(v float64) string {
	return fmt.Sprintf("%g", math.Round(v*1000)/1000)
}
