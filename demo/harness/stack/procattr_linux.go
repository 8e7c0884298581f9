package stack

import "syscall"

// serverProcAttr puts a server in its own process group, to be stopped by PID, and
// has the kernel kill it if the process that started it dies first.
func serverProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
