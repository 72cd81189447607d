// Package benchproc is what the benchmark tools under bench/ (compare,
// attack) share about the processes they run and measure from outside:
// finding the module and building its binaries ([FindRoot], [Build]),
// starting a child with its output in a log file and stopping it by PID
// with SIGTERM, then SIGKILL ([Start], [Proc]), pinning it to a CPU with
// taskset ([AllowedCPUs], [Pinned]), and reading its CPU time and memory
// from /proc ([ReadTicks], [ClockTicks], [ReadMemory], [ParseStatusKB]).
// It is Linux only: /proc, taskset, getconf and the parent-death signal.
//
// # Goroutines
//
// The functions keep no state between calls and may be called from any
// goroutine; the tools call them from their main goroutine and, for
// [ReadTicks] and [ReadMemory], from their samplers too. [Build], [Getconf]
// and [ClockTicks] block while the command they run works. A [Proc] may
// be used from several goroutines at once: [Start] starts one goroutine
// per process, which waits for it, records how it ended and then closes
// [Proc.Done]; [Proc.Wait] reads that record only after Done is closed,
// and [Proc.Stop] and [Proc.Kill] only signal the PID, which is fixed
// before Start returns.
//
// # Ownership
//
// Returned slices and strings are the caller's; [Pinned] returns argv
// itself when it does not pin, and a new slice when it does, never
// writing to argv. The log file given to [Start] is created (or
// truncated) by Start, written by the child until it exits, and belongs
// to the caller, who may read it at any time ([Proc.LogTail] reads it too)
// and removes it: the tools keep their logs in a temporary directory.
package benchproc
