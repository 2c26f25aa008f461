//go:build unix

package gateway

import "syscall"

// fileLimit returns the process's file-descriptor limit. Go raises the soft
// limit to the hard one at start-up, so this is the hard limit in practice.
func fileLimit() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil || rl.Cur > 1<<30 {
		return 1 << 30
	}
	return int(rl.Cur)
}
