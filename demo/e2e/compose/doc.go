// Package compose runs demo/compose/docker-compose.yml on a real Docker engine: Traefik
// with both plugins, discovering a scalable Commerce service through Docker's
// embedded DNS, and a fleet of stores through it while the service scales, loses a
// replica and gets it back.
package compose
