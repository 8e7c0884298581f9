//go:build !linux

package stack

import "syscall"

// serverProcAttr puts a server in its own process group, to be stopped by PID.
func serverProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true}
}
