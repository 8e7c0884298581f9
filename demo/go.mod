module github.com/storeaffinity/storeaffinity/demo

go 1.26.0

require (
	github.com/coder/websocket v1.8.15
	github.com/miekg/dns v1.1.73
	github.com/mitchellh/mapstructure v1.5.1-0.20231216201459-8508981c8b6c
	golang.org/x/mod v0.32.0
)

require (
	golang.org/x/net v0.48.0 // indirect
	golang.org/x/sync v0.19.0 // indirect
	golang.org/x/sys v0.39.0 // indirect
	golang.org/x/tools v0.40.0 // indirect
)
