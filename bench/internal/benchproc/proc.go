package benchproc

import (
	"bytes"
	"os"
	"os/exec"
	"strconv"
	"syscall"
	"time"
)

// logTailBytes is how much of a log [Proc.LogTail] returns.
const logTailBytes = 800

// Proc is a child process started by [Start], with its stdout and stderr
// in a log file. Its methods may be called from any goroutine.
type Proc struct {
	cmd  *exec.Cmd
	log  string        // the file holding its stdout and stderr
	done chan struct{} // closed once it has been waited for
	err  error         // how it ended; written before done is closed
}

// ChildAttr returns the attributes a tool's children start with: their
// own process group, so that a Ctrl-C at the terminal reaches the tool
// alone and the tool stops its children itself, and SIGKILL from the
// kernel if the tool dies without doing so.
func ChildAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// Pinned returns argv prefixed with taskset -c cpu, which keeps the
// process and every thread it starts on that CPU; argv itself when cpu is
// negative.
func Pinned(cpu int, argv []string) []string {
	if cpu < 0 {
		return argv
	}
	return append([]string{"taskset", "-c", strconv.Itoa(cpu)}, argv...)
}

// Start starts argv[0] (argv must not be empty) with the arguments
// argv[1:] and the attributes of [ChildAttr], its stdout and stderr going
// to the file logPath, which it creates or truncates. env, "KEY=value" pairs, is added to this process's
// environment. The caller stops the process with [Proc.Stop] or
// [Proc.Kill]; Start's goroutine waits for it and then closes the log file
// (the file stays, for the caller to read and remove).
func Start(argv []string, logPath string, env ...string) (*Proc, error) {
	lf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	if len(env) > 0 {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stdout, cmd.Stderr = lf, lf
	cmd.SysProcAttr = ChildAttr()
	if err := cmd.Start(); err != nil {
		lf.Close()
		return nil, err
	}
	p := &Proc{cmd: cmd, log: logPath, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		lf.Close()
		close(p.done)
	}()
	return p, nil
}

// Pid returns the process's ID.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// LogPath returns the path of the process's log file.
func (p *Proc) LogPath() string { return p.log }

// Done returns a channel that is closed once the process has exited and
// been waited for.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited and been waited for.
func (p *Proc) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Wait waits for the process to exit and returns how it ended, the error
// of [exec.Cmd.Wait]. It may be called any number of times.
func (p *Proc) Wait() error {
	<-p.done
	return p.err
}

// Stop sends SIGTERM to the process, by PID, waits up to timeout for it to
// exit, then sends SIGKILL and waits for it. It reports whether the
// process had to be killed; one that had already exited is left alone.
func (p *Proc) Stop(timeout time.Duration) (killed bool) {
	if p.Exited() {
		return false
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case <-p.done:
		return false
	case <-t.C:
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	return true
}

// Kill sends SIGKILL to the process, by PID, and returns without waiting;
// [Proc.Done] tells when it is gone. Killing a process that has exited
// does nothing.
func (p *Proc) Kill() { _ = p.cmd.Process.Signal(syscall.SIGKILL) }

// LogTail returns the last 800 bytes of the process's log, trimmed of
// white space, or "(no output)": for error messages.
func (p *Proc) LogTail() string {
	b, _ := os.ReadFile(p.log)
	b = bytes.TrimSpace(b)
	if len(b) > logTailBytes {
		b = b[len(b)-logTailBytes:]
	}
	if len(b) == 0 {
		return "(no output)"
	}
	return string(b)
}
