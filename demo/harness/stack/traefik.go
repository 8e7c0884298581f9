package stack

import (
	"context"
	"encoding/json"
	"errors"
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

	*process
}

// StartTraefik writes the static configuration, installs the plugins and starts
// Traefik from opts.Dir on free loopback ports. It returns once Traefik's API answers;
// use the API's Wait methods to wait for the routers and services a test needs. A port
// taken between FreeAddr and Traefik's bind is retried on fresh ports.
func StartTraefik(ctx context.Context, opts TraefikOptions) (*Traefik, error) {
	install := opts.Plugins
	if install == nil {
		install = InstallPlugins
	}
	if err := install(opts.Dir); err != nil {
		return nil, err
	}
	for attempt := 1; ; attempt++ {
		addrs, err := freeAddrs(append([]string{"web", "traefik"}, opts.EntryPoints...))
		if err != nil {
			return nil, err
		}
		t, err := startOn(ctx, opts, addrs)
		if err == nil || attempt == 3 || !errors.Is(err, errPortTaken) {
			return t, err
		}
	}
}

// errPortTaken is Traefik's exit because another process bound one of its ports.
var errPortTaken = errors.New("a port Traefik was given is taken")

// freeAddrs returns a free address for each name.
func freeAddrs(names []string) (map[string]string, error) {
	addrs := map[string]string{}
	for _, name := range names {
		addr, err := FreeAddr()
		if err != nil {
			return nil, err
		}
		addrs[name] = addr
	}
	return addrs, nil
}

// startOn starts Traefik with its entry points (web, traefik for the API, and
// opts.EntryPoints) on addrs.
func startOn(ctx context.Context, opts TraefikOptions, addrs map[string]string) (*Traefik, error) {
	static, err := staticConfig(opts, addrs)
	if err != nil {
		return nil, err
	}
	configPath := filepath.Join(opts.Dir, "traefik.yml")
	if err := writeJSON(configPath, static); err != nil {
		return nil, err
	}
	apiURL := "http://" + addrs["traefik"]
	t, err := StartTraefikArgs(ctx, opts.Dir, []string{"--configFile=" + configPath}, apiURL+"/api/version")
	if err != nil {
		return nil, err
	}
	t.WebURL, t.API = "http://"+addrs["web"], NewAPI(apiURL)
	for _, name := range opts.EntryPoints {
		t.URLs[name] = "http://" + addrs[name]
	}
	// Another process's Traefik on our API port would have answered for this one.
	if web, err := t.API.EntryPointAddress(ctx, "web"); err != nil || web != addrs["web"] {
		t.Stop()
		return nil, fmt.Errorf("%w: the API at %s serves entry point web at %q, not %s (%v)", errPortTaken, apiURL, web, addrs["web"], err)
	}
	return t, nil
}

// StartTraefikArgs runs the Traefik binary with args from dir, where the plugins must
// already be installed, and returns once readyURL answers 200 OK. Traefik's output goes
// to dir/traefik.log.
func StartTraefikArgs(ctx context.Context, dir string, args []string, readyURL string) (*Traefik, error) {
	path, err := TraefikBinary()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(path, args...)
	cmd.Dir = dir
	t := &Traefik{URLs: map[string]string{}, LogPath: filepath.Join(dir, "traefik.log")}
	if err := os.Remove(t.LogPath); err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	if t.process, err = startProcess(cmd, t.LogPath); err != nil {
		return nil, err
	}
	if err := t.waitReady(ctx, readyURL, 60*time.Second); err != nil {
		t.Stop()
		if strings.Contains(t.Log(), "address already in use") {
			err = fmt.Errorf("%w: %w", errPortTaken, err)
		}
		return nil, fmt.Errorf("%w; log %s:\n%s", err, t.LogPath, t.Trouble())
	}
	return t, nil
}

// staticConfig returns Traefik's static configuration. It is written as JSON, which
// Traefik's YAML loader reads.
func staticConfig(opts TraefikOptions, addrs map[string]string) (map[string]any, error) {
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
	entryPoints := map[string]any{}
	for name, addr := range addrs {
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

// Stop ends the process by its PID: SIGTERM, then SIGKILL after 5 seconds.
func (t *Traefik) Stop() { t.signal(syscall.SIGTERM) }

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
