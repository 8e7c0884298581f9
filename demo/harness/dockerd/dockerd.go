// Package dockerd gives tests a Docker engine and the docker compose plugin. The
// engine's networks stay inside 198.19.0.0/16 (the half of the benchmarking range of
// RFC 2544 that package netns leaves free) and it publishes ports on 127.0.0.1 only,
// so that tests never send traffic to a private range.
//
// Start uses the engine that already answers on the default socket when its networks
// are inside that range, and otherwise starts one, which t.Cleanup stops, restoring
// the iptables FORWARD policy that dockerd sets to DROP.
package dockerd

import (
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
)

// engineRange holds every network of the engine.
var engineRange = netip.MustParsePrefix("198.19.0.0/16")

// daemonConfig keeps the default bridge and every new network inside engineRange,
// and binds published ports to 127.0.0.1 unless a port says otherwise.
const daemonConfig = `{
  "bip": "198.19.255.1/24",
  "default-address-pools": [{"base": "198.19.0.0/17", "size": 24}],
  "ip": "127.0.0.1"
}`

// Engine is a Docker engine and the configuration folder of its CLI.
type Engine struct {
	configDir string // DOCKER_CONFIG: holds the compose plugin
}

// Start returns a Docker engine, starting one when none answers. It fails the test
// when Docker cannot be installed or an engine runs with networks outside the range.
func Start(t testing.TB) *Engine {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("dockerd: a Docker engine needs root")
	}
	if _, err := stack.InstallTool("install-docker.sh"); err != nil {
		t.Fatalf("dockerd: %v", err)
	}
	compose, err := stack.InstallTool("install-compose.sh")
	if err != nil {
		t.Fatalf("dockerd: %v", err)
	}
	e := &Engine{configDir: t.TempDir()}
	plugins := filepath.Join(e.configDir, "cli-plugins")
	if err := os.MkdirAll(plugins, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(compose, filepath.Join(plugins, "docker-compose")); err != nil {
		t.Fatal(err)
	}
	if _, err := e.Docker("version"); err == nil {
		if err := e.checkNetworks(); err != nil {
			t.Fatalf("dockerd: the running Docker engine %v; stop it, and the test starts its own", err)
		}
		return e
	}
	e.startDaemon(t)
	return e
}

// startDaemon runs dockerd until the test ends.
func (e *Engine) startDaemon(t testing.TB) {
	dir := t.TempDir()
	configPath := filepath.Join(dir, "daemon.json")
	if err := os.WriteFile(configPath, []byte(daemonConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	log, err := os.Create(filepath.Join(dir, "dockerd.log"))
	if err != nil {
		t.Fatal(err)
	}
	policy := forwardPolicy()
	cmd := exec.Command("dockerd", "--config-file", configPath, "--pidfile", filepath.Join(dir, "docker.pid"))
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatalf("dockerd: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(30 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		_ = log.Close()
		if policy != "" {
			_ = exec.Command("iptables", "-P", "FORWARD", policy).Run()
		}
		_ = exec.Command("ip", "link", "delete", "docker0").Run()
		if t.Failed() {
			out, _ := os.ReadFile(log.Name())
			t.Logf("dockerd's log (last lines):\n%s", lastLines(string(out), 30))
		}
	})
	// A dockerd that exits ends the wait at once.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		select {
		case <-exited:
			cancel()
		case <-ctx.Done():
		}
	}()
	err = stack.Poll(ctx, 60*time.Second, func(context.Context) error {
		_, err := e.Docker("version")
		return err
	})
	if err != nil {
		out, _ := os.ReadFile(log.Name())
		t.Fatalf("dockerd did not start: %v\n%s", err, lastLines(string(out), 30))
	}
}

// Docker runs the docker CLI against the engine and returns its output.
func (e *Engine) Docker(args ...string) (string, error) {
	return e.Run("", nil, args...)
}

// Run runs the docker CLI in dir with extra environment variables.
func (e *Engine) Run(dir string, env []string, args ...string) (string, error) {
	cmd := exec.Command("docker", args...)
	cmd.Dir = dir
	cmd.Env = append(append(os.Environ(), "DOCKER_CONFIG="+e.configDir), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("docker %s: %v: %s", strings.Join(args, " "), err, lastLines(string(out), 20))
	}
	return string(out), nil
}

// checkNetworks reports an engine network outside engineRange.
func (e *Engine) checkNetworks() error {
	out, err := e.Docker("network", "inspect", "--format", "{{json .IPAM.Config}}", "bridge")
	if err != nil {
		return err
	}
	var configs []struct{ Subnet string }
	if err := json.Unmarshal([]byte(out), &configs); err != nil {
		return fmt.Errorf("network bridge: %v", err)
	}
	for _, c := range configs {
		if p, err := netip.ParsePrefix(c.Subnet); err != nil || !engineRange.Contains(p.Addr()) {
			return fmt.Errorf("has its bridge on %s, outside %s", c.Subnet, engineRange)
		}
	}
	return nil
}

// forwardPolicy returns the policy of the iptables FORWARD chain ("" if unknown).
func forwardPolicy() string {
	out, err := exec.Command("iptables", "-S", "FORWARD").Output()
	if err != nil {
		return ""
	}
	first, _, _ := strings.Cut(string(out), "\n")
	if fields := strings.Fields(first); len(fields) == 3 && fields[0] == "-P" {
		return fields[2]
	}
	return ""
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}
