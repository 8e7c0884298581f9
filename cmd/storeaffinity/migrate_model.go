package main

import (
	provider "github.com/storeaffinity/storeaffinity-provider"
	"github.com/storeaffinity/storeaffinity/hashing"
)

// The YAML model of the generated configuration. Field order is output order.

type staticYAML struct {
	EntryPoints  map[string]entryPointYAML `yaml:"entryPoints"`
	Experimental experimentalYAML          `yaml:"experimental"`
	Providers    providersYAML             `yaml:"providers"`
}

type entryPointYAML struct {
	Address string `yaml:"address"`
}

type experimentalYAML struct {
	AbortOnPluginFailure bool                  `yaml:"abortOnPluginFailure"`
	Plugins              map[string]pluginYAML `yaml:"plugins,omitempty"`
	LocalPlugins         map[string]pluginYAML `yaml:"localPlugins,omitempty"`
}

type pluginYAML struct {
	ModuleName string `yaml:"moduleName"`
	Version    string `yaml:"version,omitempty"`
}

type providersYAML struct {
	File   fileProviderYAML                `yaml:"file"`
	Plugin map[string]affinityProviderYAML `yaml:"plugin"`
}

type fileProviderYAML struct {
	Filename string `yaml:"filename"`
}

type affinityProviderYAML struct {
	MiddlewarePlugin string    `yaml:"middlewarePlugin"`
	Apps             []appYAML `yaml:"apps"`
}

type appYAML struct {
	Name                   string         `yaml:"name"`
	Kubernetes             kubernetesYAML `yaml:"kubernetes"`
	DeviceAffinityPrefixes []string       `yaml:"deviceAffinityPrefixes"`
	StompConnectPaths      []string       `yaml:"stompConnectPaths,omitempty"`
	StompDeviceIDHeader    string         `yaml:"stompDeviceIdHeader,omitempty"`
	Strategy               string         `yaml:"strategy,omitempty"`
}

type kubernetesYAML struct {
	Namespace string `yaml:"namespace"`
	Service   string `yaml:"service"`
	Port      string `yaml:"port"`
}

type dynamicYAML struct {
	HTTP httpYAML `yaml:"http"`
}

type httpYAML struct {
	Routers map[string]routerYAML `yaml:"routers"`
}

type routerYAML struct {
	Rule        string   `yaml:"rule"`
	EntryPoints []string `yaml:"entryPoints"`
	Service     string   `yaml:"service"`
	Middlewares []string `yaml:"middlewares"`
}

// staticConfig builds Traefik's static configuration: the entry point, both plugins and
// the provider app with Kubernetes discovery.
func staticConfig(config *migrateConfig, source *stateLB, app string) staticYAML {
	plugins := map[string]pluginYAML{
		middlewarePluginAlias: {ModuleName: middlewareModule, Version: config.PluginVersion},
		providerPluginAlias:   {ModuleName: providerModule, Version: config.PluginVersion},
	}
	experimental := experimentalYAML{AbortOnPluginFailure: true, Plugins: plugins}
	if config.PluginSource == "local" {
		for alias, p := range plugins {
			p.Version = ""
			plugins[alias] = p
		}
		experimental.Plugins, experimental.LocalPlugins = nil, plugins
	}
	listen := source.listen
	if listen == "" {
		listen = ":8080"
	}
	stompHeader := ""
	if len(source.websocketPaths) > 0 {
		stompHeader = config.StompDeviceIDHeader
	}
	return staticYAML{
		EntryPoints:  map[string]entryPointYAML{config.EntryPoint: {Address: listen}},
		Experimental: experimental,
		Providers: providersYAML{
			File: fileProviderYAML{Filename: "dynamic.yml"},
			Plugin: map[string]affinityProviderYAML{providerPluginAlias: {
				MiddlewarePlugin: middlewarePluginAlias,
				Apps: []appYAML{{
					Name:                   app,
					Kubernetes:             kubernetesYAML{Namespace: source.namespace, Service: source.service, Port: source.port},
					DeviceAffinityPrefixes: source.prefixes,
					StompConnectPaths:      source.websocketPaths,
					StompDeviceIDHeader:    stompHeader,
					Strategy:               strategyKey(config.Strategy),
				}},
			}},
		},
	}
}

// dynamicConfig builds the router that sends all traffic through the provider's
// middleware and weighted service.
func dynamicConfig(config *migrateConfig, app string) dynamicYAML {
	suffix := "@plugin-" + providerPluginAlias
	return dynamicYAML{HTTP: httpYAML{Routers: map[string]routerYAML{app: {
		Rule:        "PathPrefix(`/`)",
		EntryPoints: []string{config.EntryPoint},
		Service:     provider.WeightedService(app) + suffix,
		Middlewares: []string{provider.AffinityMiddleware(app) + suffix},
	}}}}
}

// strategyKey is the app's strategy key: written only when it is not the default.
func strategyKey(strategy string) string {
	if strategy == hashing.StrategyRendezvous {
		return ""
	}
	return strategy
}
