package stack

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// process is a server command run in its own process group and stopped by its PID.
type process struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error // the command's exit, once done is closed
}

// startProcess starts cmd with its output appended to logPath.
func startProcess(cmd *exec.Cmd, logPath string) (*process, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	cmd.Stdout, cmd.Stderr = logFile, logFile
	cmd.SysProcAttr = serverProcAttr()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", cmd.Path, err)
	}
	p := &process{cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

// PID returns the process ID.
func (p *process) PID() int { return p.cmd.Process.Pid }

// Exited reports whether the process has ended.
func (p *process) Exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// signal sends sig to the process by its PID and waits until it has exited, sending
// SIGKILL after 5 seconds.
func (p *process) signal(sig syscall.Signal) {
	if p.Exited() {
		return
	}
	_ = syscall.Kill(p.PID(), sig)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(p.PID(), syscall.SIGKILL)
		<-p.done
	}
}

// waitReady polls url until it answers 200 OK, for up to timeout, giving up at once
// when the process exits.
func (p *process) waitReady(ctx context.Context, url string, timeout time.Duration) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-p.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	client := &http.Client{Timeout: time.Second}
	err := Poll(ctx, timeout, func(ctx context.Context) error {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return err
		}
		return AnswersOK(client, req)
	})
	if err != nil && p.Exited() {
		return fmt.Errorf("%s exited before %s answered: %v", p.cmd.Path, url, p.err)
	}
	return err
}
