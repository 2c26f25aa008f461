//go:build !unix

package gateway

// fileLimit returns a conservative file-descriptor limit where the system
// has no RLIMIT_NOFILE.
func fileLimit() int { return 2048 }
