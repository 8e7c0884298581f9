package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/storeaffinity/storeaffinity/demo/harness/stack"
)

// runProfile captures Traefik's CPU and allocation profiles under stateful and
// stateless load, and prints the top costs under the interpreter.
func runProfile(d time.Duration) error {
	if d < 5*time.Second {
		d = 10 * time.Second
	}
	s, err := start(context.Background(), true)
	if err != nil {
		return err
	}
	defer s.stop()
	binary, err := stack.TraefikBinary()
	if err != nil {
		return err
	}
	for _, v := range []variant{variantNamed("ours-stateful-3"), variantNamed("ours-stateless-3")} {
		script, err := wrkScript(s.dir, v)
		if err != nil {
			return err
		}
		done := make(chan error, 1)
		go func() {
			_, err := runWrk(s.traefik.URLs[v.name], script, d)
			done <- err
		}()
		time.Sleep(time.Second)
		cpu := filepath.Join(s.dir, v.name+".cpu.pprof")
		seconds := int((d - 2*time.Second).Seconds())
		if err := fetch(s.traefik.API.BaseURL+fmt.Sprintf("/debug/pprof/profile?seconds=%d", seconds), cpu); err != nil {
			return err
		}
		allocs := filepath.Join(s.dir, v.name+".allocs.pprof")
		if err := fetch(s.traefik.API.BaseURL+"/debug/pprof/allocs", allocs); err != nil {
			return err
		}
		if err := <-done; err != nil {
			return err
		}
		for _, p := range []struct{ file, title, extra string }{
			{cpu, "CPU", ""},
			{allocs, "allocated bytes", "-sample_index=alloc_space"},
		} {
			fmt.Printf("\n=== %s, %s: top costs of the interpreted code (under github.com/traefik/yaegi, less Traefik's proxy that next runs) ===\n", v.name, p.title)
			args := []string{"tool", "pprof", "-top", "-nodecount=25", "-focus=github.com/traefik/yaegi", `-ignore=net/http/httputil\.\(\*ReverseProxy\)`}
			if p.extra != "" {
				args = append(args, p.extra)
			}
			cmd := exec.Command("go", append(args, binary, p.file)...)
			cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
			if err := cmd.Run(); err != nil {
				return err
			}
		}
	}
	return nil
}

func fetch(url, path string) error {
	resp, err := http.Get(url)
	if err != nil {
		return err
	}
	defer func() { _ = resp.Body.Close() }()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: %s", url, resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		_ = f.Close()
		return err
	}
	return f.Close()
}
