package main

import (
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/storeaffinity/storeaffinity/hashing"
)

// runShardProxy is the StateLB-style second hop: a Go reverse proxy that sends each
// request to hash(store) mod N of the backends, by the device segment of its path.
func runShardProxy(listen string, backends []string) error {
	// Members are named b0, b1, ...: a URL is no member name.
	targets := map[string]*url.URL{}
	var names []string
	for i, b := range backends {
		name := fmt.Sprintf("b%d", i)
		target, err := url.Parse(b)
		if err != nil {
			return err
		}
		targets[name] = target
		names = append(names, name)
	}
	picker, err := hashing.New(hashing.StrategyModulo, names)
	if err != nil {
		return err
	}
	proxy := &httputil.ReverseProxy{ErrorLog: log.New(io.Discard, "", 0), Rewrite: func(r *httputil.ProxyRequest) {
		target := targets[names[0]]
		segments := strings.Split(strings.TrimPrefix(r.In.URL.Path, "/api/appId/pos/deviceId/"), "/")
		if device := segments[0]; device != "" {
			if i := strings.LastIndexByte(device, '-'); i > 0 {
				target = targets[picker.Members()[picker.Pick(device[:i])]]
			}
		}
		r.SetURL(target)
		r.Out.Host = r.In.Host
	}}
	return http.ListenAndServe(listen, proxy)
}

// startShardProxy runs this program as the sharding proxy, in a process of its own,
// and returns its URL and process.
func startShardProxy(backends []string) (string, *exec.Cmd, error) {
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	addr := listener.Addr().String()
	_ = listener.Close()
	cmd := exec.Command(os.Args[0], "-shard-proxy", addr, "-backends", strings.Join(backends, ","))
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		return "", nil, err
	}
	for i := 0; i < 100; i++ {
		if conn, err := net.Dial("tcp", addr); err == nil {
			_ = conn.Close()
			return "http://" + addr, cmd, nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	_ = cmd.Process.Kill()
	return "", nil, fmt.Errorf("sharding proxy at %s did not start", addr)
}
