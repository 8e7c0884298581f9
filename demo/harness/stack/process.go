package stack

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// BuildCommerce builds the demo's commerce command into dir and returns the binary's
// path, so that a test can run replicas as processes of their own and kill them.
func BuildCommerce(dir string) (string, error) {
	binary := filepath.Join(dir, "commerce")
	cmd := exec.Command("go", "build", "-o", binary, "./cmd/commerce")
	cmd.Dir = filepath.Join(RepoRoot(), "demo")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/commerce: %w\n%s", err, out)
	}
	return binary, nil
}

// ReplicaProcess is one demo Commerce replica run as its own process
// (`commerce serve <name>=<addr>`), in its own process group, stopped by its PID.
type ReplicaProcess struct {
	Name string
	Addr string // host:port
	cmd  *exec.Cmd
	done chan struct{}
}

// StartReplicaProcess starts binary (see BuildCommerce) serving one replica named name
// on addr, appends its output to logPath, and returns once its /healthz answers.
func StartReplicaProcess(ctx context.Context, binary, name, addr, logPath string) (*ReplicaProcess, error) {
	logFile, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	p := &ReplicaProcess{Name: name, Addr: addr, done: make(chan struct{})}
	p.cmd = exec.Command(binary, "serve", name+"="+addr)
	p.cmd.Stdout, p.cmd.Stderr = logFile, logFile
	p.cmd.SysProcAttr = serverProcAttr()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start replica %s: %w", name, err)
	}
	go func() {
		_ = p.cmd.Wait()
		close(p.done)
	}()
	client := &http.Client{Timeout: time.Second}
	err = Poll(ctx, 10*time.Second, func(ctx context.Context) error {
		select {
		case <-p.done:
			return fmt.Errorf("replica %s exited (log %s)", name, logPath)
		default:
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, p.URL()+"/healthz", nil)
		resp, err := client.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			return fmt.Errorf("replica %s /healthz: %s", name, resp.Status)
		}
		return nil
	})
	if err != nil {
		p.Stop(syscall.SIGKILL)
		return nil, err
	}
	return p, nil
}

// URL returns the replica's base URL.
func (p *ReplicaProcess) URL() string { return "http://" + p.Addr }

// PID returns the process ID.
func (p *ReplicaProcess) PID() int { return p.cmd.Process.Pid }

// Stop sends sig (SIGTERM for a graceful stop, SIGKILL for a crash) to the process by
// its PID and waits until it has exited, sending SIGKILL after 5 seconds.
func (p *ReplicaProcess) Stop(sig syscall.Signal) {
	select {
	case <-p.done:
		return
	default:
	}
	_ = syscall.Kill(p.PID(), sig)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(p.PID(), syscall.SIGKILL)
		<-p.done
	}
}
