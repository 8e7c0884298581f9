module github.com/storeaffinity/storeaffinity/e2e

go 1.26

require (
	github.com/mitchellh/mapstructure v1.5.1-0.20231216201459-8508981c8b6c
	github.com/storeaffinity/storeaffinity v0.0.0-00010101000000-000000000000
	github.com/storeaffinity/storeaffinity/demo v0.0.0-00010101000000-000000000000
	github.com/traefik/yaegi v0.16.1
	gopkg.in/yaml.v3 v3.0.1
)

require (
	github.com/coder/websocket v1.8.15 // indirect
	github.com/kr/pretty v0.3.1 // indirect
	github.com/rogpeppe/go-internal v1.13.1 // indirect
	gopkg.in/check.v1 v1.0.0-20201130134442-10cb98267c6c // indirect
)

replace github.com/storeaffinity/storeaffinity/demo => ../demo

replace github.com/storeaffinity/storeaffinity => ../
