package main

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"

	"github.com/storeaffinity/storeaffinity"
	"github.com/storeaffinity/storeaffinity/hashing"
	"github.com/traefik/paerser/cli"
	"gopkg.in/yaml.v3"
)

// Plugin names in the generated configuration.
const (
	middlewareModule      = "github.com/storeaffinity/storeaffinity"
	providerModule        = "github.com/storeaffinity/storeaffinity-provider"
	middlewarePluginAlias = "storeaffinity"
	providerPluginAlias   = "storeaffinityprovider"
)

// migrateConfig is the configuration of the migrate subcommand.
type migrateConfig struct {
	ConfigFile    string `description:"Configuration file (TOML or YAML) with the keys below; replaces all other flags."`
	StateLBConfig string `description:"StateLB config.toml to translate; the first argument after the flags works too."`
	App           string `description:"App name: names the router, weighted service and middleware (default: the Kubernetes service name)."`
	EntryPoint    string `description:"Traefik entry point name for StateLB's listen address."`
	PluginVersion string `description:"Plugin version for experimental.plugins (catalog install)."`
	PluginSource  string `description:"catalog (experimental.plugins) or local (experimental.localPlugins, sources under ./plugins-local/src)."`
	OutDir        string `description:"Write traefik.yml and dynamic.yml into this folder instead of printing both."`
	// The OpenPOS WebSocket, routed by the device ID of its first STOMP frame.
	StompConnectPaths   []string `description:"Paths whose WebSocket upgrades name their device only in the STOMP CONNECT frame (the Commerce WebSocket, /api/websocket); added to the StateLB config's websocket_paths."`
	StompDeviceIDHeader string   `description:"The CONNECT frame header that carries the device ID."`
	Strategy            string   `description:"Member selection written into the app: rendezvous, or modulo (hash of the store mod N over the sorted members; see docs/migrating-from-statelb.md on what is known of StateLB's placement)."`
	Force               bool     `description:"With --outDir, overwrite traefik.yml and dynamic.yml when they exist."`
}

func newMigrateCommand(out io.Writer) *cli.Command {
	config := &migrateConfig{EntryPoint: "web", PluginVersion: "v0.1.0", PluginSource: "catalog", Strategy: hashing.StrategyRendezvous,
		StompDeviceIDHeader: storeaffinity.CreateConfig().StompDeviceIDHeader}
	return newCommand("migrate", "Translate a StateLB config.toml into Traefik static and dynamic YAML for the storeaffinity plugins.",
		"[flags] <config.toml>",
		"storeaffinity migrate --outDir=traefik config.toml",
		config,
		func(args []string) error {
			if rest := positionalArgs(args); len(rest) > 0 {
				if config.StateLBConfig != "" || len(rest) > 1 {
					return fmt.Errorf("unexpected argument %q (give one StateLB config.toml)", rest[len(rest)-1])
				}
				config.StateLBConfig = rest[0]
			}
			return runMigrate(out, config)
		})
}

func runMigrate(out io.Writer, config *migrateConfig) error {
	if config.StateLBConfig == "" {
		return fmt.Errorf("--stateLBConfig: missing (give the path of StateLB's config.toml)")
	}
	if config.PluginSource != "catalog" && config.PluginSource != "local" {
		return fmt.Errorf("--pluginSource: unknown source %q (want catalog or local)", config.PluginSource)
	}
	if config.EntryPoint == "" {
		return fmt.Errorf("--entryPoint: empty")
	}
	if err := hashing.CheckStrategy(config.Strategy); err != nil {
		return fmt.Errorf("--strategy: %w", err)
	}
	if config.PluginSource == "catalog" && !semverTag.MatchString(config.PluginVersion) {
		return fmt.Errorf("--pluginVersion: %q is not a release tag like v0.1.0 (Traefik's catalog takes strict semver)", config.PluginVersion)
	}
	source, err := readStateLB(config.StateLBConfig)
	if err != nil {
		return fmt.Errorf("--stateLBConfig %w", err)
	}
	for _, path := range config.StompConnectPaths {
		if !strings.HasPrefix(path, "/") {
			return fmt.Errorf("--stompConnectPaths: %q: want a path that starts with /", path)
		}
		if !slices.Contains(source.websocketPaths, path) {
			source.websocketPaths = append(source.websocketPaths, path)
		}
	}
	app := config.App
	if app == "" {
		app = source.service
	}
	if !validAppName(app) {
		return fmt.Errorf("--app: %q has characters other than letters, digits, '-', '_' and '.', which the provider refuses", app)
	}
	static, err := renderYAML(staticHeader(config, source), staticConfig(config, source, app))
	if err != nil {
		return err
	}
	dynamic, err := renderYAML(dynamicHeader(app), dynamicConfig(config, app))
	if err != nil {
		return err
	}
	if config.OutDir == "" {
		_, err = fmt.Fprintf(out, "%s---\n%s", static, dynamic)
		return err
	}
	if err := os.MkdirAll(config.OutDir, 0o755); err != nil {
		return fmt.Errorf("--outDir: %w", err)
	}
	files := map[string][]byte{"traefik.yml": static, "dynamic.yml": dynamic}
	for name := range files {
		if _, err := os.Stat(filepath.Join(config.OutDir, name)); err == nil && !config.Force {
			return fmt.Errorf("--outDir: %s exists (--force overwrites it)", filepath.Join(config.OutDir, name))
		}
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(config.OutDir, name), content, 0o644); err != nil {
			return fmt.Errorf("--outDir: %w", err)
		}
	}
	_, err = fmt.Fprintf(out, "wrote %s and %s\n", filepath.Join(config.OutDir, "traefik.yml"), filepath.Join(config.OutDir, "dynamic.yml"))
	return err
}

// semverTag is a strict semver release tag, as Traefik's plugin catalog takes them.
var semverTag = regexp.MustCompile(`^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)(-[0-9A-Za-z.-]+)?$`)

// validAppName reports whether the provider takes name as an app name.
func validAppName(name string) bool {
	return name != "" && strings.Trim(name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") == ""
}

func staticHeader(config *migrateConfig, source *stateLB) string {
	lines := []string{
		"Traefik static configuration (traefik.yml), translated from " + filepath.Base(config.StateLBConfig) + " by storeaffinity migrate.",
		"The provider watches the EndpointSlices of the service; its members are the ready pods.",
		"Traefik's service account needs get, list and watch on discovery.k8s.io endpointslices.",
	}
	if source.listen == "" {
		lines = append(lines, "No listen address under [server]: the entry point listens on :8080.")
	}
	if len(source.unmapped) > 0 {
		lines = append(lines, "Not migrated (no equivalent, review by hand): "+strings.Join(source.unmapped, ", ")+".")
	}
	return strings.Join(lines, "\n")
}

func dynamicHeader(app string) string {
	return strings.Join([]string{
		"Traefik dynamic configuration (dynamic.yml, file provider).",
		"The provider emits the weighted service " + app + " and the middleware " + app + "-affinity with the live",
		"member list; this router sends every request through them, as StateLB did.",
		"On Kubernetes, an IngressRoute can reference the same two names instead.",
	}, "\n")
}

// renderYAML encodes v with two-space indentation under a comment header.
func renderYAML(header string, v any) ([]byte, error) {
	var buf bytes.Buffer
	for _, line := range strings.Split(header, "\n") {
		buf.WriteString("# " + line + "\n")
	}
	encoder := yaml.NewEncoder(&buf)
	encoder.SetIndent(2)
	if err := encoder.Encode(v); err != nil {
		return nil, err
	}
	return buf.Bytes(), encoder.Close()
}
