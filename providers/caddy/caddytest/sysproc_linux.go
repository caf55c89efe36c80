package caddytest

import "syscall"

func init() {
	sysProcAttr = func() *syscall.SysProcAttr {
		return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	}
}
