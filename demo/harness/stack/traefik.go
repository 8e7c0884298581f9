package stack

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// TraefikOptions configures one Traefik process.
type TraefikOptions struct {
	// Dir is Traefik's working folder: plugins-local, the configuration files and the
	// log go there. It must exist; a test's t.TempDir() is a good choice.
	Dir string
	// Provider is the configuration of providers.plugin.storeaffinityprovider; nil
	// leaves the provider out.
	Provider map[string]any
	// Dynamic is a dynamic configuration served by the file provider; nil leaves the
	// file provider out.
	Dynamic map[string]any
	// LogLevel is Traefik's log level (default $TRAEFIK_LOG_LEVEL, else INFO).
	LogLevel string
	// Throttle is providers.providersThrottleDuration (default 2s, Traefik's default).
	Throttle time.Duration
	// Plugins installs the plugin sources under Dir (default InstallPlugins).
	Plugins func(dir string) error
	// Debug serves Go's /debug/pprof and /debug/vars on the API entry point.
	Debug bool
	// EntryPoints are more entry points, by name, each on a free loopback port; their
	// base URLs are in Traefik.URLs.
	EntryPoints []string
	// LocalPlugins maps plugin aliases to module names (default both plugins of this
	// repository under their usual aliases).
	LocalPlugins map[string]string
	// Static holds more static configuration sections, such as metrics or accessLog.
	Static map[string]any
}

// Traefik is a running Traefik process.
type Traefik struct {
	// WebURL is the base URL of the "web" entry point.
	WebURL string
	// URLs are the base URLs of TraefikOptions.EntryPoints, by name.
	URLs map[string]string
	// API reads Traefik's JSON API.
	API *API
	// LogPath is the file that holds Traefik's stdout and stderr.
	LogPath string

	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// StartTraefik writes the static configuration, installs the plugins and starts
// Traefik from opts.Dir. It returns once Traefik's API answers; use the API's Wait
// methods to wait for the routers and services a test needs.
func StartTraefik(ctx context.Context, opts TraefikOptions) (*Traefik, error) {
	path, err := TraefikBinary()
	if err != nil {
		return nil, err
	}
	install := opts.Plugins
	if install == nil {
		install = InstallPlugins
	}
	if err := install(opts.Dir); err != nil {
		return nil, err
	}
	web, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	api, err := FreeAddr()
	if err != nil {
		return nil, err
	}
	urls := map[string]string{}
	for _, name := range opts.EntryPoints {
		addr, err := FreeAddr()
		if err != nil {
			return nil, err
		}
		urls[name] = addr
	}
	static, err := staticConfig(opts, web, api, urls)
	if err != nil {
		return nil, err
	}
	configPath := filepath.Join(opts.Dir, "traefik.yml")
	if err := writeJSON(configPath, static); err != nil {
		return nil, err
	}
	t := &Traefik{WebURL: "http://" + web, URLs: map[string]string{}, API: NewAPI("http://" + api), LogPath: filepath.Join(opts.Dir, "traefik.log"), done: make(chan struct{})}
	for name, addr := range urls {
		t.URLs[name] = "http://" + addr
	}
	logFile, err := os.Create(t.LogPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	t.cmd = exec.Command(path, "--configFile="+configPath)
	t.cmd.Dir = opts.Dir
	t.cmd.Stdout = logFile
	t.cmd.Stderr = logFile
	t.cmd.SysProcAttr = serverProcAttr()
	if err := t.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start Traefik: %w", err)
	}
	go func() {
		t.err = t.cmd.Wait()
		close(t.done)
	}()
	if err := t.waitAPI(ctx); err != nil {
		t.Stop()
		return nil, fmt.Errorf("%w; log %s:\n%s", err, t.LogPath, t.Trouble())
	}
	return t, nil
}

// staticConfig returns Traefik's static configuration. It is written as JSON, which
// Traefik's YAML loader reads.
func staticConfig(opts TraefikOptions, web, api string, more map[string]string) (map[string]any, error) {
	level := opts.LogLevel
	if level == "" {
		level = os.Getenv("TRAEFIK_LOG_LEVEL")
	}
	if level == "" {
		level = "INFO"
	}
	throttle := opts.Throttle
	if throttle == 0 {
		throttle = 2 * time.Second
	}
	lifeCycle := map[string]any{"graceTimeOut": "1s", "requestAcceptGraceTimeout": "0s"}
	providers := map[string]any{"providersThrottleDuration": throttle.String()}
	if opts.Dynamic != nil {
		dynamicPath := filepath.Join(opts.Dir, "dynamic.yml")
		if err := writeJSON(dynamicPath, opts.Dynamic); err != nil {
			return nil, err
		}
		providers["file"] = map[string]any{"filename": dynamicPath}
	}
	if opts.Provider != nil {
		providers["plugin"] = map[string]any{ProviderAlias: opts.Provider}
	}
	localPlugins := map[string]any{}
	for alias, module := range opts.LocalPlugins {
		localPlugins[alias] = map[string]any{"moduleName": module}
	}
	if opts.LocalPlugins == nil {
		localPlugins[MiddlewareAlias] = map[string]any{"moduleName": MiddlewareModule}
		localPlugins[ProviderAlias] = map[string]any{"moduleName": ProviderModule}
	}
	entryPoints := map[string]any{
		"web":     map[string]any{"address": web, "transport": map[string]any{"lifeCycle": lifeCycle}},
		"traefik": map[string]any{"address": api, "transport": map[string]any{"lifeCycle": lifeCycle}},
	}
	for name, addr := range more {
		entryPoints[name] = map[string]any{"address": addr, "transport": map[string]any{"lifeCycle": lifeCycle}}
	}
	static := map[string]any{
		"global":      map[string]any{"checkNewVersion": false, "sendAnonymousUsage": false},
		"log":         map[string]any{"level": level, "noColor": true},
		"entryPoints": entryPoints,
		"api":         map[string]any{"insecure": true, "dashboard": false, "debug": opts.Debug},
		"providers":   providers,
		"experimental": map[string]any{
			"abortOnPluginFailure": true,
			"localPlugins":         localPlugins,
		},
	}
	for key, section := range opts.Static {
		static[key] = section
	}
	return static, nil
}

func (t *Traefik) waitAPI(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	for {
		if _, err := t.API.Version(ctx); err == nil {
			return nil
		}
		select {
		case <-t.done:
			return fmt.Errorf("traefik exited before its API answered: %v", t.err)
		case <-ctx.Done():
			return fmt.Errorf("traefik API at %s: %w", t.API.BaseURL, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// PID returns the process ID.
func (t *Traefik) PID() int { return t.cmd.Process.Pid }

// Exited reports whether the process has ended.
func (t *Traefik) Exited() bool {
	select {
	case <-t.done:
		return true
	default:
		return false
	}
}

// Stop ends the process by its PID: SIGTERM, then SIGKILL after 5 seconds.
func (t *Traefik) Stop() {
	if t.Exited() {
		return
	}
	_ = syscall.Kill(t.PID(), syscall.SIGTERM)
	select {
	case <-t.done:
	case <-time.After(5 * time.Second):
		_ = syscall.Kill(t.PID(), syscall.SIGKILL)
		<-t.done
	}
}

// Log returns Traefik's whole log.
func (t *Traefik) Log() string {
	body, _ := os.ReadFile(t.LogPath)
	return string(body)
}

// Trouble returns the part of Traefik's log that explains a failure: the first panic
// and the lines after it, else the error lines, else the last lines.
func (t *Traefik) Trouble() string {
	lines := strings.Split(t.Log(), "\n")
	var errorLines []string
	for i, line := range lines {
		if strings.HasPrefix(line, "panic:") || strings.Contains(line, "Panic") {
			return strings.Join(lines[i:i+min(8, len(lines)-i)], "\n")
		}
		if strings.Contains(line, " ERR ") || strings.Contains(line, " FTL ") {
			errorLines = append(errorLines, line)
		}
	}
	if len(errorLines) > 0 {
		return strings.Join(errorLines[max(0, len(errorLines)-10):], "\n")
	}
	return t.LogTail(20)
}

// LogTail returns the last n lines of Traefik's log.
func (t *Traefik) LogTail(n int) string {
	lines := strings.Split(strings.TrimRight(t.Log(), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

func writeJSON(path string, v any) error {
	body, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(path, append(body, '\n'), 0o644)
}
