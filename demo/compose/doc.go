// Package compose holds the docker-compose demo (docker-compose.yml, traefik.yml and the
// replica's Dockerfile) and a test that decodes its labels and static configuration
// exactly as Traefik v3.6 does. It is a module of its own, outside the workspace, so
// that Traefik's many requirements never reach the plugin or the other modules.
package compose
